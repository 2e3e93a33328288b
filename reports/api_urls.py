"""API v1 of the reports app (open data), one module per area."""

from django.urls import include, path

from reports.api_documents import DocumentView

urlpatterns = [
    path("documents/<slug:kind>/<int:pk>/", DocumentView.as_view(), name="document"),
    path("", include("reports.api_urls_ocds")),
    path("", include("reports.api_urls_statistics")),
]
