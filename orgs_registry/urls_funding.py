"""Pages of the funding registries (included by orgs_registry.urls)."""

from django.urls import path

from orgs_registry import views_funding as views

urlpatterns = [
    path("funding/", views.funding_imports, name="funding_imports"),
    path("funding/import/", views.funding_upload, name="funding_upload"),
    path("funding/imports/<int:pk>/", views.funding_import, name="funding_import"),
    path(
        "funding/imports/<int:pk>/progress/",
        views.funding_import_progress,
        name="funding_import_progress",
    ),
    path("funding/staffing/", views.staffing_records, name="staffing_records"),
    path("funding/subsidies/", views.subsidies, name="subsidies"),
]
