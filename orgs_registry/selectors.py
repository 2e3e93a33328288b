"""Reads of the organization registry."""

from __future__ import annotations

from django.db.models import QuerySet

from orgs_registry.identifiers import normalize_code
from orgs_registry.models import Organization, ServiceCategory


def organization_get_by_uscc(*, uscc: str) -> Organization | None:
    """Return the organization registered under ``uscc`` (normalized), if any."""
    return Organization.objects.filter(uscc=normalize_code(uscc)).first()


def service_category_list() -> QuerySet[ServiceCategory]:
    """The whole service catalogue in display order."""
    return ServiceCategory.objects.all()
