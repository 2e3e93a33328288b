"""API v1 of the reports app (open data), one module per area."""

from django.urls import include, path, re_path

from reports.api_documents import DocumentView
from reports.api_exports import ExportOfView, ExportView

urlpatterns = [
    path("documents/<slug:kind>/<int:pk>/", DocumentView.as_view(), name="document"),
    re_path(
        r"^exports/(?P<list_name>[-a-z0-9_]+)\.(?P<fmt>csv|xlsx)$",
        ExportView.as_view(),
        name="export",
    ),
    re_path(
        r"^exports/(?P<list_name>[-a-z0-9_]+)/(?P<pk>[0-9]{1,18})\.(?P<fmt>csv|xlsx)$",
        ExportOfView.as_view(),
        name="export-of",
    ),
    path("", include("reports.api_urls_ocds")),
    path("", include("reports.api_urls_statistics")),
]
