"""Pages of the reports app: ocds (see reports/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
