"""API v1: statistics (see reports/api_urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
