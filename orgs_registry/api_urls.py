"""Registry API v1 routes (organizations, staff, change requests, grades, credit records)."""

from django.urls import path  # noqa: F401  (filled in by the API work)

urlpatterns: list = []
