"""Registry pages (public directory and profiles, the organization's own pages, the registry)."""

from django.urls import path  # noqa: F401  (filled in by the pages work)

app_name = "orgs_registry"

urlpatterns: list = []
