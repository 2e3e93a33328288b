"""API v1 of the reports app (open data), one module per area."""

from django.urls import include, path

urlpatterns = [
    path("", include("reports.api_urls_ocds")),
    path("", include("reports.api_urls_statistics")),
]
