"""Pages of the delivery part of the tenders app (included by tenders.urls)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
