"""Reads of the registries of public funding, scoped to who may see them.

Records count only once their import is done: a failed or running import's rows are
never visible, so an import is all-or-nothing to every reader. ``*_current`` reads the
current version (what the integrity screens use); the browsers may read any version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from orgs_registry import permissions_funding as permissions
from orgs_registry.identifiers import normalize_code
from orgs_registry.models import (
    FundingImport,
    FundingImportKind,
    FundingImportStatus,
    StaffingRecord,
    Subsidy,
)


def funding_import_list_for_user(user: Any, *, kind: str | None = None) -> QuerySet[FundingImport]:
    if not permissions.can_view_funding_registry(user):
        return FundingImport.objects.none()
    imports = FundingImport.objects.select_related("imported_by")
    if kind:
        imports = imports.filter(kind=kind)
    return imports.order_by("-started_at", "-id")


def funding_import_get_for_user(user: Any, pk: int) -> FundingImport:
    """One import, or 404 for someone who may not see it and for a missing one alike."""
    try:
        return funding_import_list_for_user(user).get(pk=pk)
    except (FundingImport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def funding_import_current(kind: str) -> FundingImport | None:
    """The current version of the roster (``staffing``) or the ledger (``subsidy``)."""
    return FundingImport.objects.filter(
        kind=kind, is_current=True, status=FundingImportStatus.DONE
    ).first()


def _version(kind: str, version: Any) -> Q:
    """The rows of one done import (by id), or of the current one when none is named."""
    if version in (None, ""):
        return Q(funding_import__is_current=True, funding_import__kind=kind)
    try:
        pk = int(version)
    except (TypeError, ValueError):
        return Q(pk__in=[])
    return Q(funding_import_id=pk, funding_import__status=FundingImportStatus.DONE)


def staffing_record_list_for_user(
    user: Any, *, filters: Mapping[str, Any] | None = None
) -> QuerySet[StaffingRecord]:
    """Roster rows; filters: ``version`` (import id), ``q`` (name, unit or ID number),
    ``unit``, ``category`` (id), ``post_type``, ``on`` (a date the post is held)."""
    if not permissions.can_view_funding_registry(user):
        return StaffingRecord.objects.none()
    filters = filters or {}
    records = StaffingRecord.objects.filter(
        _version(FundingImportKind.STAFFING, filters.get("version"))
    ).select_related("category", "funding_import")
    text = str(filters.get("q") or "").strip()
    if text:
        match = Q(person_name__icontains=text) | Q(employing_unit__icontains=text)
        if permissions.can_view_funding_id_numbers(user):
            # Only those who read full numbers may search by them: a masked reader could
            # otherwise recover a number digit by digit.
            match |= Q(id_number_normalized=normalize_code(text)) | Q(id_number=text)
        records = records.filter(match)
    if filters.get("unit"):
        records = records.filter(employing_unit__icontains=str(filters["unit"]).strip())
    if filters.get("category"):
        records = records.filter(category_id=filters["category"])
    if filters.get("post_type"):
        records = records.filter(post_type=filters["post_type"])
    if filters.get("on"):
        day = filters["on"]
        records = records.filter(Q(end__isnull=True) | Q(end__gte=day), start__lte=day)
    return records.order_by("funding_import_id", "row_number")


def subsidy_list_for_user(
    user: Any, *, filters: Mapping[str, Any] | None = None
) -> QuerySet[Subsidy]:
    """Ledger rows; filters: ``version``, ``q`` (recipient name or USCC), ``category``,
    ``organization`` (id), ``on`` (a date inside the subsidy's period)."""
    if not permissions.can_view_funding_registry(user):
        return Subsidy.objects.none()
    filters = filters or {}
    subsidies = Subsidy.objects.filter(
        _version(FundingImportKind.SUBSIDY, filters.get("version"))
    ).select_related("category", "organization", "funding_import")
    text = str(filters.get("q") or "").strip()
    if text:
        subsidies = subsidies.filter(
            Q(recipient_name__icontains=text) | Q(recipient_uscc=normalize_code(text))
        )
    if filters.get("category"):
        subsidies = subsidies.filter(category_id=filters["category"])
    if filters.get("organization"):
        subsidies = subsidies.filter(organization_id=filters["organization"])
    if filters.get("on"):
        day = filters["on"]
        subsidies = subsidies.filter(period_start__lte=day, period_end__gte=day)
    return subsidies.order_by("funding_import_id", "row_number")
