"""Pages of the reports app: statistics (see reports/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
