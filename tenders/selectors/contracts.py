"""Reads of contracts, their team, milestones and payments, scoped to the user.

A draft is seen by the two parties and auditors only; a signed contract is public. Team
members' names are masked for everyone but the parties and auditors; ID numbers and
phones are never part of a contract page or API answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation.models import PerformanceEvaluation
from marketplace.models import Role
from marketplace.permissions import has_role, is_official, is_org_user
from orgs_registry.models import Organization
from tenders.models import (
    PUBLIC_CONTRACT_STATES,
    SETTLED_MILESTONE_STATES,
    Contract,
    ContractStatus,
    ContractTeamMember,
    Milestone,
    MilestoneStatus,
    TeamChange,
)
from tenders.permissions import contracts as permissions


class ContractFilter(django_filters.FilterSet):
    """Status, supplier (by its credit code) and text: the contract list's filters."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ContractStatus.choices)
    organization = django_filters.CharFilter(
        label=_("Supplier (Unified Social Credit Code)"), method="filter_organization"
    )

    class Meta:
        model = Contract
        fields = ["q", "status", "organization"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(reference__icontains=value)
            | Q(organization__name__icontains=value)
        )

    def filter_organization(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().upper()
        if not value:
            return queryset
        if value.isdigit() and len(value) < 10:
            return queryset.filter(organization_id=int(value))
        return queryset.filter(organization__uscc=value)


def _visible(user: Any) -> Q | None:
    """The contracts ``user`` may read, as a filter (None: all)."""
    if is_official(user) or has_role(user, Role.AUDITOR):
        return None
    visible = Q(status__in=sorted(PUBLIC_CONTRACT_STATES))
    if is_org_user(user):
        visible |= Q(organization_id=user.organization_id)
    elif has_role(user, Role.ASSESSOR):
        # Evaluations are of signed contracts, so this adds nothing today; it keeps an
        # assessor's own work reachable whatever happens to the contract's visibility.
        visible |= Q(
            pk__in=PerformanceEvaluation.objects.filter(assessor=user).values("contract_id")
        )
    return visible


def contract_list_for_user(user: Any) -> QuerySet[Contract]:
    """Contracts the user may read, with the supplier, the tender and the settled totals."""
    queryset = Contract.objects.select_related("organization", "tender", "programme").annotate(
        released_total=Sum("milestones__released_amount"),
        withheld_total=Sum("milestones__withheld_amount"),
    )
    visible = _visible(user)
    return queryset if visible is None else queryset.filter(visible)


def contract_directory(
    user: Any, *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[Contract], ContractFilter]:
    """Contracts the user may see, filtered; unbound: all, invalid: none (with the errors)."""
    filterset = ContractFilter(data=filters or None, queryset=contract_list_for_user(user))
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none(), filterset
    return filterset.qs.order_by("-created_at", "-pk"), filterset


def contract_get_for_user(user: Any, pk: Any) -> Contract:
    """One contract the user may read; 404 for a contract that is not theirs or missing."""
    try:
        return (
            contract_list_for_user(user)
            .select_related("award", "created_by", "purchaser_signed_by", "supplier_signed_by")
            .get(pk=pk)
        )
    except (Contract.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def contract_for_tender(user: Any, tender: Any) -> Contract | None:
    """The tender's contract, if the user may read it."""
    return contract_list_for_user(user).filter(tender=tender).first()


# --- Milestones and payments -------------------------------------------------------------------


def milestone_list_for_user(user: Any, contract: Contract) -> QuerySet[Milestone]:
    """The contract's milestones (the contract was reached through ``contract_get_for_user``)."""
    if not permissions.can_view_contract(user, contract):
        raise Http404
    return (
        Milestone.objects.filter(contract=contract)
        .select_related("settled_by")
        .order_by("sequence")
    )


def milestone_get_for_user(user: Any, contract: Contract, pk: Any) -> Milestone:
    try:
        return milestone_list_for_user(user, contract).get(pk=pk)
    except (Milestone.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class PaymentSummary:
    """Paid, withheld and outstanding money of a contract, and their shares for the bar."""

    price: Decimal
    released: Decimal
    withheld: Decimal
    outstanding: Decimal
    recorded: Decimal  # released and recorded as transferred

    def _share(self, amount: Decimal) -> Decimal:
        if not self.price:
            return Decimal(0)
        return (amount * 100 / self.price).quantize(Decimal("0.1"))

    @property
    def released_share(self) -> Decimal:
        return self._share(self.released)

    @property
    def withheld_share(self) -> Decimal:
        return self._share(self.withheld)

    @property
    def outstanding_share(self) -> Decimal:
        return max(Decimal(0), Decimal(100) - self.released_share - self.withheld_share)


def payment_summary(contract: Contract, milestones: list[Milestone]) -> PaymentSummary:
    released = sum((m.released_amount or Decimal(0) for m in milestones), Decimal(0))
    withheld = sum((m.withheld_amount or Decimal(0) for m in milestones), Decimal(0))
    recorded = sum(
        (m.released_amount or Decimal(0) for m in milestones if m.paid_on is not None), Decimal(0)
    )
    return PaymentSummary(
        price=contract.price,
        released=released,
        withheld=withheld,
        outstanding=contract.price - released - withheld,
        recorded=recorded,
    )


def _payments_due(user: Any) -> QuerySet[Milestone]:
    if not is_official(user):
        return Milestone.objects.none()
    return Milestone.objects.filter(status=MilestoneStatus.PAID, paid_on__isnull=True)


def payments_due_for_official(user: Any, *, limit: int = 20) -> QuerySet[Milestone]:
    """Released milestones whose transfer is not recorded yet (the official's to-do)."""
    return (
        _payments_due(user)
        .select_related("contract__organization")
        .order_by("settled_at", "pk")[:limit]
    )


def payments_due_count(user: Any) -> int:
    return _payments_due(user).count()


def payments_for_organization(user: Any, *, limit: int = 20) -> QuerySet[Milestone]:
    """The organization's settled milestones, newest first (its payment status)."""
    if not is_org_user(user):
        return Milestone.objects.none()
    return (
        Milestone.objects.filter(
            contract__organization_id=user.organization_id,
            status__in=sorted(SETTLED_MILESTONE_STATES),
        )
        .select_related("contract")
        .order_by("-settled_at", "-pk")[:limit]
    )


def payment_counts_for_organization(user: Any) -> tuple[int, int]:
    """How many of the organization's milestones are settled, and how many of those were
    withheld (one query; the dashboard's figures, not capped by a page of rows)."""
    if not is_org_user(user):
        return 0, 0
    counts = Milestone.objects.filter(
        contract__organization_id=user.organization_id,
        status__in=sorted(SETTLED_MILESTONE_STATES),
    ).aggregate(
        settled=Count("pk"), withheld=Count("pk", filter=Q(status=MilestoneStatus.WITHHELD))
    )
    return counts["settled"], counts["withheld"]


# --- Team ---------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """The family name and one star per other character: 张** (public pages)."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


@dataclass(frozen=True)
class TeamLine:
    id: int
    person_id: int
    name: str  # masked unless the reader may see names
    role: str
    fte: Decimal
    from_bid: bool
    joined_on: date
    left_on: date | None

    @property
    def is_current(self) -> bool:
        return self.left_on is None


def contract_team_for_user(user: Any, contract: Contract) -> list[TeamLine]:
    """The service team, current members first; names masked for the public. No ID
    number or phone is read."""
    if not permissions.can_view_contract(user, contract):
        raise Http404
    return contract_team(contract, full_names=permissions.can_see_team_names(user, contract))


def contract_team(contract: Contract, *, full_names: bool) -> list[TeamLine]:
    """The service team, current members first, names masked unless ``full_names`` (the
    caller has checked who reads it); only each person's name is read."""
    rows = (
        ContractTeamMember.objects.filter(contract=contract)
        .select_related("person")
        .only(
            "pk",
            "role",
            "fte",
            "from_bid",
            "joined_on",
            "left_on",
            "contract_id",
            "person__id",
            "person__name",
        )
        .order_by("left_on", "pk")
    )
    return [
        TeamLine(
            id=row.pk,
            person_id=row.person_id,
            name=row.person.name if full_names else mask_name(row.person.name),
            role=row.role,
            fte=row.fte,
            from_bid=row.from_bid,
            joined_on=row.joined_on,
            left_on=row.left_on,
        )
        for row in sorted(rows, key=lambda r: (r.left_on is not None, r.pk))
    ]


def team_change_list_for_user(user: Any, contract: Contract) -> QuerySet[TeamChange]:
    """Team changes: the parties and auditors only (empty for everyone else)."""
    if not permissions.can_view_team_changes(user, contract):
        return TeamChange.objects.none()
    return (
        TeamChange.objects.filter(contract=contract)
        .select_related("leaving__person", "joining", "requested_by", "decided_by")
        .order_by("-requested_at", "-pk")
    )


def team_change_get_for_user(user: Any, pk: Any) -> TeamChange:
    try:
        change = TeamChange.objects.select_related(
            "contract__organization", "contract__tender", "leaving__person", "joining"
        ).get(pk=pk)
    except (TeamChange.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_team_changes(user, change.contract):
        raise Http404
    return change


def team_change_choices(user: Any, contract: Contract) -> tuple[list[Any], list[Any]]:
    """For the supplier's change form: current members who may leave, and current
    employees of the supplier who are not on the team."""
    if not permissions.can_request_team_change(user, contract):
        return [], []
    current = list(
        ContractTeamMember.objects.filter(contract=contract, left_on__isnull=True)
        .select_related("person")
        .order_by("pk")
    )
    on_team = {member.person_id for member in current}
    today = timezone.localdate()
    organization: Organization = contract.organization
    employees = [
        employment.person
        for employment in organization.employments.filter(start_date__lte=today)
        .exclude(end_date__lt=today)
        .select_related("person")
        .order_by("person__name", "pk")
        if employment.person_id not in on_team
    ]
    return current, employees


# --- Dashboards ---------------------------------------------------------------------------------


def contracts_to_sign_for_user(user: Any) -> QuerySet[Contract]:
    """Drafts waiting for this user's side's signature."""
    drafts = Contract.objects.filter(status=ContractStatus.DRAFT).select_related("organization")
    if is_official(user):
        return drafts.filter(purchaser_signed_at__isnull=True).order_by("sign_due", "pk")
    if has_role(user, Role.ORG_ADMIN):
        return drafts.filter(
            organization_id=user.organization_id, supplier_signed_at__isnull=True
        ).order_by("sign_due", "pk")
    return Contract.objects.none()


def overdue_signatures(user: Any) -> QuerySet[Contract]:
    """Drafts past their 30-day signing day (the street office's reminder)."""
    if not (is_official(user) or has_role(user, Role.AUDITOR)):
        return Contract.objects.none()
    return (
        Contract.objects.filter(status=ContractStatus.DRAFT, sign_due__lt=timezone.localdate())
        .select_related("organization")
        .order_by("sign_due", "pk")
    )
