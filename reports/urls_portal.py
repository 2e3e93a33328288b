"""Pages of the reports app: portal (see reports/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
