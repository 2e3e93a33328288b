"""Reads of the integrity flags and screen runs, scoped to the user (DESIGN 5).

Only the street office and auditors read flags; to anyone else a flag is a 404 like a
missing one. ID numbers and phones in the evidence are masked except for auditors
(DESIGN 4.1). ``blocking_flags`` is what the award and the payment services ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from evaluation.models import (
    DOUBLE_FUNDING_KINDS,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    IntegrityFlag,
    IntegrityRun,
)
from evaluation.permissions import integrity as permissions
from marketplace.filters import MAX_ID
from orgs_registry.identifiers import mask_id_number, mask_phone

# Keys of the evidence JSON that hold personal data.
ID_KEYS = frozenset({"id_number"})
PHONE_KEYS = frozenset({"phone"})
# The queue shows what needs a decision first: open, then confirmed (to resolve).
STATUS_ORDER = [
    When(status=status, then=Value(rank))
    for rank, status in enumerate(
        [FlagStatus.OPEN, FlagStatus.CONFIRMED, FlagStatus.DISMISSED, FlagStatus.RESOLVED]
    )
]
SEVERITY_ORDER = [
    When(severity=severity, then=Value(rank))
    for rank, severity in enumerate([FlagSeverity.HIGH, FlagSeverity.MEDIUM, FlagSeverity.LOW])
]


class IntegrityFlagFilter(django_filters.FilterSet):
    """Kind, severity, status, tender and organization (their ids)."""

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=FlagKind.choices)
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=FlagSeverity.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=FlagStatus.choices)
    tender = django_filters.NumberFilter(
        label=_("Tender"), field_name="tender_id", min_value=1, max_value=MAX_ID
    )
    organization = django_filters.NumberFilter(
        label=_("Organization"), field_name="organization_id", min_value=1, max_value=MAX_ID
    )

    class Meta:
        model = IntegrityFlag
        fields = ["kind", "severity", "status", "tender", "organization"]


def _flags() -> QuerySet[IntegrityFlag]:
    return IntegrityFlag.objects.select_related(
        "tender",
        "bid__organization",
        "contract",
        "organization",
        "person",
        "assessor",
        "reviewed_by",
        "resolved_by",
    )


def flag_list_for_user(user: Any) -> QuerySet[IntegrityFlag]:
    """Every flag for a reviewer (open first, then by severity and recency); none otherwise."""
    if not permissions.can_view_integrity_flags(user):
        return IntegrityFlag.objects.none()
    return _flags().order_by(
        Case(*STATUS_ORDER, default=Value(9)),
        Case(*SEVERITY_ORDER, default=Value(9)),
        "-last_seen_at",
        "-pk",
    )


def flag_queue(
    user: Any, *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[IntegrityFlag], IntegrityFlagFilter]:
    """The review queue filtered; unbound: everything, invalid: nothing (with the errors)."""
    filterset = IntegrityFlagFilter(data=filters or None, queryset=flag_list_for_user(user))
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none(), filterset
    return filterset.qs, filterset


def flag_get_for_user(user: Any, pk: Any) -> IntegrityFlag:
    if not permissions.can_view_integrity_flags(user):
        raise Http404
    try:
        flag = _flags().get(pk=pk)
    except (IntegrityFlag.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_flag(user, flag):
        raise Http404
    return flag


def masked_evidence(user: Any, evidence: Any) -> Any:
    """The evidence with ID numbers and phones masked, unless the user is an auditor."""
    if permissions.can_see_id_numbers(user):
        return evidence
    return _mask(evidence)


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        masked = {}
        for key, item in value.items():
            if key in ID_KEYS and isinstance(item, str) and item:
                masked[key] = mask_id_number(item) if len(item) >= 8 else "*" * len(item)
            elif key in PHONE_KEYS and isinstance(item, str) and item:
                masked[key] = mask_phone(item)
            else:
                masked[key] = _mask(item)
        return masked
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    open: int
    confirmed: int
    dismissed: int
    resolved: int

    @property
    def total(self) -> int:
        return self.open + self.confirmed + self.dismissed + self.resolved


def flag_counts(user: Any) -> list[KindCount]:
    """Flags per kind and status (one query), every kind listed."""
    rows = flag_list_for_user(user).order_by().values("kind", "status").annotate(number=Count("pk"))
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        table.setdefault(row["kind"], {})[row["status"]] = row["number"]
    return [
        KindCount(
            kind=kind.value,
            label=str(kind.label),
            open=table.get(kind.value, {}).get(FlagStatus.OPEN, 0),
            confirmed=table.get(kind.value, {}).get(FlagStatus.CONFIRMED, 0),
            dismissed=table.get(kind.value, {}).get(FlagStatus.DISMISSED, 0),
            resolved=table.get(kind.value, {}).get(FlagStatus.RESOLVED, 0),
        )
        for kind in FlagKind
    ]


def open_flag_count(user: Any) -> int:
    return flag_list_for_user(user).filter(status=FlagStatus.OPEN).count()


# --- Runs ----------------------------------------------------------------------------------------


def run_list_for_user(user: Any) -> QuerySet[IntegrityRun]:
    if not permissions.can_run_integrity_screens(user):
        return IntegrityRun.objects.none()
    return IntegrityRun.objects.select_related("tender", "requested_by").order_by(
        "-created_at", "-pk"
    )


def run_get_for_user(user: Any, pk: Any) -> IntegrityRun:
    try:
        return run_list_for_user(user).get(pk=pk)
    except (IntegrityRun.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- Blocking ------------------------------------------------------------------------------------


def blocking_flags(
    *, tender: Any = None, bid: Any = None, contract: Any = None
) -> QuerySet[IntegrityFlag]:
    """Confirmed double-funding flags that stop an award or a payment until resolved.

    ``tender``: those about the tender itself (its purchasing unit's posts, a duplicate
    project), which stop any award. ``bid``: those about the bid or its organization in
    that tender. ``contract``: those about the contract, its tender itself, or its supplier
    in that tender.
    """
    flags = IntegrityFlag.objects.filter(
        status=FlagStatus.CONFIRMED, kind__in=sorted(DOUBLE_FUNDING_KINDS)
    )
    where = Q(pk__in=[])
    if tender is not None:
        where |= Q(
            tender=tender, bid__isnull=True, contract__isnull=True, organization__isnull=True
        )
    if bid is not None:
        where |= Q(bid=bid) | Q(tender_id=bid.tender_id, organization_id=bid.organization_id)
    if contract is not None:
        # The contract's own flags, the tender's, and the supplier's in that tender (not a
        # losing bidder's).
        where |= (
            Q(contract=contract)
            | Q(
                tender_id=contract.tender_id,
                bid__isnull=True,
                contract__isnull=True,
                organization__isnull=True,
            )
            | Q(tender_id=contract.tender_id, organization_id=contract.organization_id)
        )
    return flags.filter(where).order_by("pk")


def tender_for_screens(user: Any, pk: int | None) -> Any:
    """The tender a reviewer asks to screen (None: everything); 404 when there is none."""
    from tenders.models import Tender

    if pk is None:
        return None
    if not permissions.can_run_integrity_screens(user):
        raise Http404
    tender = Tender.objects.filter(pk=pk).first()
    if tender is None:
        raise Http404
    return tender
