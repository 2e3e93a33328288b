"""Pages of the reports app: ocds (see reports/urls.py)."""

from django.urls import path

from reports import views_ocds

urlpatterns = [
    path("data/ocds/releases.json", views_ocds.ocds_bulk, name="ocds_bulk"),
]
