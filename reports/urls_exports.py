"""Pages of the reports app: exports (see reports/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
