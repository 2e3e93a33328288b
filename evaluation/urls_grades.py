"""Pages of the grades part of the evaluation app (included by evaluation.urls)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
