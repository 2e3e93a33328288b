"""Pages of the reports app, one URL module per area (each keeps its own list)."""

from django.urls import include, path

from reports import views

app_name = "reports"

urlpatterns = [
    path("reports/<slug:kind>/<int:pk>.pdf", views.document_pdf, name="document_pdf"),
    path("", include("reports.urls_portal")),
    path("", include("reports.urls_statistics")),
    path("", include("reports.urls_ocds")),
    path("", include("reports.urls_exports")),
]
