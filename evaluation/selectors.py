"""Reads of evaluation, scoped to the user.

Panels, seats, draws and price justifications are reached only through the
``*_get_for_user`` functions here: what the user may not see is a 404, exactly like what
does not exist. Bid content for evaluation goes through ``panel_bid_*``: a panel member
reads nothing before signing the conflict-of-interest declaration (DESIGN 4.4).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from evaluation import permissions
from evaluation.models import (
    AssessorProfile,
    JustificationStatus,
    ObjectiveScore,
    Panel,
    PanelDraw,
    PanelMember,
    PriceJustification,
    ScoreSheet,
)
from marketplace.permissions import is_org_user
from tenders.models import Bid, BidStatus, Tender

# Bids the panel evaluates: qualified ones, and those it ranks and awards afterwards (plus any
# it invalidated for an abnormally low price, shown with the decision).
EVALUATED_BID_STATES = (BidStatus.QUALIFIED, BidStatus.RANKED, BidStatus.WON, BidStatus.LOST)

# --- Panels ------------------------------------------------------------------------------------


def panel_get_for_user(user: Any, tender: Tender) -> Panel:
    """The tender's panel for the street office, auditors and its active members; 404 else."""
    panel = (
        Panel.objects.select_related("tender", "chair", "formed_by")
        .filter(tender_id=getattr(tender, "pk", None))
        .first()
    )
    if panel is None or not permissions.can_view_panel(user, panel):
        raise Http404
    return panel


@dataclass(frozen=True)
class MemberLine:
    id: int
    seat: int
    user_id: int
    name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    is_chair: bool
    declared_at: datetime | None
    replaced_by: int | None
    conflict: bool


@dataclass(frozen=True)
class DrawLine:
    id: int
    kind: str
    kind_label: str
    seed: str
    requested: int
    pool_size: int
    drawn: list[int]
    drawn_at: datetime
    # [{"user", "name", "reason", "detail"}]; empty for those who may not see them.
    excluded: list[dict[str, Any]]
    excluded_count: int


@dataclass(frozen=True)
class PanelDetail:
    panel: Panel
    members: list[MemberLine]
    draws: list[DrawLine]
    exclusions_visible: bool


def panel_detail(panel: Panel, *, user: Any = None) -> PanelDetail:
    """Members with their status (replaced ones too) and the draws with their seeds; the
    exclusions (who was in conflict, and why) only for the street office and auditors."""
    visible = permissions.can_view_exclusions(user)
    members = [
        MemberLine(
            id=m.pk,
            seat=m.seat,
            user_id=m.user_id,
            name=m.user.get_full_name(),
            kind=m.kind,
            kind_label=str(m.get_kind_display()),
            status=m.status,
            status_label=str(m.get_status_display()),
            is_chair=m.user_id == panel.chair_id and m.is_active,
            declared_at=m.declared_at,
            replaced_by=m.replaced_by_id,
            conflict=m.conflict,
        )
        for m in PanelMember.objects.filter(panel=panel)
        .select_related("user")
        .order_by("seat", "pk")
    ]
    draws = [
        DrawLine(
            id=d.pk,
            kind=d.kind,
            kind_label=str(d.get_kind_display()),
            seed=d.seed,
            requested=d.requested,
            pool_size=d.pool_size,
            drawn=list(d.drawn),
            drawn_at=d.drawn_at,
            excluded=list(d.excluded) if visible else [],
            excluded_count=len(d.excluded),
        )
        for d in PanelDraw.objects.filter(panel=panel).order_by("drawn_at", "pk")
    ]
    return PanelDetail(panel=panel, members=members, draws=draws, exclusions_visible=visible)


@dataclass(frozen=True)
class Assignment:
    member: PanelMember
    tender: Tender
    panel_status: str
    status: str
    is_chair: bool
    sheets: dict[str, int] = field(default_factory=dict)

    @property
    def must_declare(self) -> bool:
        return permissions.can_declare(self.member.user, self.member)


def my_assignments(user: Any) -> list[Assignment]:
    """The assessor's panel seats, newest first, with the counts of their sheets by status."""
    user_id = getattr(user, "pk", None)
    if not getattr(user, "is_authenticated", False) or user_id is None:
        return []
    seats = list(
        PanelMember.objects.filter(user_id=user_id)
        .select_related("panel__tender", "user")
        .order_by("-panel__formed_at", "-pk")
    )
    counts: dict[int, Counter[str]] = {seat.pk: Counter() for seat in seats}
    for member_id, status in ScoreSheet.objects.filter(member__in=seats).values_list(
        "member_id", "status"
    ):
        counts[member_id][status] += 1
    return [
        Assignment(
            member=seat,
            tender=seat.panel.tender,
            panel_status=seat.panel.status,
            status=seat.status,
            is_chair=seat.panel.chair_id == user_id and seat.is_active,
            sheets=dict(counts[seat.pk]),
        )
        for seat in seats
    ]


def member_get_for_user(user: Any, pk: Any) -> PanelMember:
    """A seat: its own member's, or for the street office and auditors; 404 otherwise."""
    try:
        member = PanelMember.objects.select_related("panel__tender", "user").get(pk=pk)
    except (PanelMember.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    own = getattr(user, "is_authenticated", False) and member.user_id == user.pk
    if not (own or permissions.is_office_or_auditor(user)):
        raise Http404
    return member


# --- Bids for the panel ------------------------------------------------------------------------


def panel_bid_list_for_user(user: Any, tender: Tender) -> QuerySet[Bid]:
    """The bids under evaluation (qualified, and those found invalid during it), for the
    street office, auditors and the panel's declared members; 404 for anyone else, an
    undeclared member included."""
    if not permissions.can_view_panel_bids(user, tender):
        raise Http404
    return (
        Bid.objects.select_related("tender", "organization")
        .filter(
            Q(status__in=EVALUATED_BID_STATES)
            | Q(price_justification__status=JustificationStatus.REJECTED),
            tender=tender,
            opened_at__isnull=False,
        )
        .order_by("price", "pk")
    )


def panel_bid_content_for_user(user: Any, bid: Bid) -> Any:
    """A bid's content (price, staffing plan, proposal, documents) for the panel: 404 for an
    undeclared member and for anyone who may not read the bid."""
    from tenders.selectors import bid_content_for_user

    if not permissions.can_view_panel_bids(user, bid.tender):
        raise Http404
    return bid_content_for_user(user, bid)


def objective_scores_for_user(user: Any, tender: Tender) -> QuerySet[ObjectiveScore]:
    """The system's objective scores with their basis, for those who may read the bids."""
    if not permissions.can_view_panel_bids(user, tender):
        raise Http404
    return (
        ObjectiveScore.objects.filter(bid__tender=tender)
        .select_related("bid__organization", "criterion")
        .order_by("bid__price", "bid__pk", "criterion__sort_order")
    )


# --- Price justifications ------------------------------------------------------------------------


def justification_get_for_user(user: Any, pk: Any) -> PriceJustification:
    """A price justification: the bidder's people, the street office, auditors and the
    panel's declared members; 404 for anyone else."""
    try:
        justification = PriceJustification.objects.select_related(
            "bid__tender", "bid__organization", "submitted_by", "decided_by"
        ).get(pk=pk)
    except (PriceJustification.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc
    if not permissions.can_view_justification(user, justification):
        raise Http404
    return justification


def justification_list_for_user(user: Any, tender: Tender) -> QuerySet[PriceJustification]:
    """The tender's price justifications the user may see (a bidder: its own only)."""
    queryset = PriceJustification.objects.filter(bid__tender=tender).select_related(
        "bid__organization", "bid__tender"
    )
    if permissions.is_office_or_auditor(user):
        return queryset.order_by("price", "pk")
    panel = Panel.objects.filter(tender=tender).first()
    if permissions.is_declared_member(user, panel):
        return queryset.order_by("price", "pk")
    if is_org_user(user):
        return queryset.filter(bid__organization_id=user.organization_id).order_by("price", "pk")
    return PriceJustification.objects.none()


def justification_document_for_download(user: Any, pk: Any) -> tuple[PriceJustification, bytes]:
    """A justification's document for a reader of the justification (served as an
    attachment under ``document_name``); 404 for everyone else or without a document."""
    justification = justification_get_for_user(user, pk)
    if not justification.document:
        raise Http404
    with justification.document.open("rb") as handle:
        return justification, handle.read()


# --- Assessor profiles ---------------------------------------------------------------------------


def _profiles() -> QuerySet[AssessorProfile]:
    return AssessorProfile.objects.select_related("user").prefetch_related(
        "categories", "employments__organization", "relations__organization"
    )


def assessor_profile_for_user(user: Any) -> AssessorProfile:
    """The signed-in assessor's own profile; 404 when they have none."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    try:
        return _profiles().get(user_id=user.pk)
    except AssessorProfile.DoesNotExist as exc:
        raise Http404 from exc


def assessor_profile_get_for_user(user: Any, pk: Any) -> AssessorProfile:
    """An assessor's profile for the assessor themself or the street office; 404 else."""
    try:
        profile = _profiles().get(pk=pk)
    except (AssessorProfile.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not (
        permissions.can_edit_assessor_profile(user, profile)
        or permissions.is_office_or_auditor(user)
    ):
        raise Http404
    return profile


# --- Registry facts for objective criteria ------------------------------------------------------


def past_performance_means(org_ids: Iterable[int], since: date) -> dict[int, Decimal]:
    """The mean score of each organization's final performance evaluations since ``since``.

    There are no performance evaluations in the system yet: the contracts issue adds them
    (DESIGN 4.5) and supplies the source here. Until then every organization is "no
    evaluation", which the past-performance rule maps to its ``none`` share.
    """
    return {}


__all__ = [
    "Assignment",
    "DrawLine",
    "MemberLine",
    "PanelDetail",
]
