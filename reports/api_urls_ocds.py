"""API v1: ocds (see reports/api_urls.py)."""

from django.urls import path

from reports.api_ocds import OcdsReleasesView

urlpatterns = [
    path("ocds/releases/", OcdsReleasesView.as_view(), name="ocds-releases"),
]
