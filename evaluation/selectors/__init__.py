"""Reads of evaluation, scoped to the user.

Panels, seats, draws and price justifications are reached only through the
``*_get_for_user`` functions here: what the user may not see is a 404, exactly like what
does not exist. Bid content for evaluation goes through ``panel_bid_*``: a panel member
reads nothing before signing the conflict-of-interest declaration (DESIGN 4.4).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.http import Http404

from evaluation import permissions
from evaluation.models import (
    PERFORMANCE_RESULT_STATES,
    AssessorProfile,
    DeviationFlag,
    DeviationStatus,
    JustificationStatus,
    MemberStatus,
    ObjectiveScore,
    Panel,
    PanelDraw,
    PanelMember,
    PerformanceEvaluation,
    PriceJustification,
    Ranking,
    RankingCorrection,
    RankingRow,
    Score,
    ScoreSheet,
    SheetStatus,
)
from marketplace.models import OFFICIAL_ROLES, Role, User
from marketplace.permissions import is_org_user
from tenders.models import (
    Bid,
    BidStatus,
    CriterionKind,
    EvaluationKind,
    Tender,
    TenderCriterion,
)

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
            excluded_count=len(d.excluded) if visible else 0,
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
    """The mean total score of each organization's final performance evaluations with a
    result (submitted, or replied to) submitted on or after ``since`` (DESIGN 4.4: "mean of
    the org's final performance evaluations in the last 3 years"). One aggregate query;
    organizations without such an evaluation are absent (the rule's ``none`` share)."""
    ids = sorted({int(pk) for pk in org_ids})
    if not ids:
        return {}
    rows = (
        PerformanceEvaluation.objects.filter(
            contract__organization_id__in=ids,
            kind=EvaluationKind.FINAL,
            status__in=sorted(PERFORMANCE_RESULT_STATES),
            total_score__isnull=False,
            submitted_at__date__gte=since,
        )
        .order_by()
        .values("contract__organization_id")
        .annotate(mean=Avg("total_score"))
    )
    return {row["contract__organization_id"]: Decimal(str(row["mean"])) for row in rows}


__all__ = [
    "Assignment",
    "DrawLine",
    "MemberLine",
    "PanelDetail",
]


# --- Score sheets and ranking ---
# Independence (DESIGN 4.4): until every sheet is submitted a member reaches only their own
# sheets; anyone else's sheet is a 404, exactly like a missing one. Sheets of replaced
# members and of bids no longer valid do not count.


def _counted_sheets() -> QuerySet[ScoreSheet]:
    return ScoreSheet.objects.filter(bid__status__in=EVALUATED_BID_STATES).exclude(
        member__status=MemberStatus.REPLACED
    )


def scores_revealed(panel: Panel) -> bool:
    """Whether every counted sheet of ``panel`` was submitted once (a sheet reopened for a
    correction later does not hide the scores again)."""
    sheets = _counted_sheets().filter(member__panel=panel)
    return sheets.exists() and not sheets.filter(submitted_at__isnull=True).exists()


def _sheets() -> QuerySet[ScoreSheet]:
    return (
        _counted_sheets()
        .select_related("member__user", "member__panel__tender", "bid__organization")
        .prefetch_related(
            Prefetch("scores", queryset=Score.objects.select_related("criterion")),
            Prefetch("flags", queryset=DeviationFlag.objects.select_related("criterion")),
        )
    )


def scoresheet_list_for_user(user: Any, tender: Tender | None = None) -> QuerySet[ScoreSheet]:
    """The caller's own sheets (CONTRACTS: ``GET /api/v1/scoresheets/?tender=``), once the
    declaration is signed; never anyone else's, whoever asks."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ScoreSheet.objects.none()
    queryset = _sheets().filter(member__user=user, member__status=MemberStatus.DECLARED)
    if tender is not None:
        queryset = queryset.filter(member__panel__tender=tender)
    return queryset.order_by("member__panel__tender_id", "bid__price", "bid__pk")


def scoresheet_get_for_user(user: Any, pk: Any) -> ScoreSheet:
    """The caller's own sheet; someone else's only once every sheet is submitted, for the
    panel's declared members, officials and auditors. Otherwise 404."""
    try:
        sheet = _sheets().get(pk=pk)
    except (ScoreSheet.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if permissions.can_score_sheet(user, sheet):
        return sheet
    if not permissions.can_view_sheet(user, sheet, revealed=scores_revealed(sheet.member.panel)):
        raise Http404
    return sheet


@dataclass(frozen=True)
class MemberScore:
    """One member's score on one criterion of one bid."""

    seat: int
    member: str
    score: Decimal
    reason: str
    # The latest deviation flag on this score: "", "open", "confirmed" or "revised".
    flag: str


@dataclass(frozen=True)
class BidScores:
    bid: Bid
    organization: str
    # criterion code -> the members' scores, in seat order
    scores: dict[str, list[MemberScore]]


@dataclass(frozen=True)
class PanelScores:
    panel: Panel
    members: list[tuple[int, str]]  # (seat, name)
    criteria: list[TenderCriterion]  # the subjective criteria
    bids: list[BidScores]


def _score_matrix(panel: Panel) -> PanelScores:
    sheets = list(_sheets().filter(member__panel=panel).order_by("member__seat", "bid__pk"))
    criteria = list(
        TenderCriterion.objects.filter(
            tender_id=panel.tender_id, kind=CriterionKind.SUBJECTIVE
        ).order_by("sort_order", "pk")
    )
    order = {c.pk: index for index, c in enumerate(criteria)}
    members = sorted({(s.member.seat, s.member.user.get_full_name()) for s in sheets})
    by_bid: dict[Any, BidScores] = {}
    for sheet in sheets:
        entry = by_bid.setdefault(
            sheet.bid_id,
            BidScores(
                bid=sheet.bid,
                organization=sheet.bid.organization.name,
                scores={c.code: [] for c in criteria},
            ),
        )
        latest = {
            flag.criterion_id: str(flag.status)
            for flag in sorted(sheet.flags.all(), key=lambda f: f.pk)
        }
        for score in sorted(sheet.scores.all(), key=lambda s: order.get(s.criterion_id, 0)):
            entry.scores.setdefault(score.criterion.code, []).append(
                MemberScore(
                    seat=sheet.member.seat,
                    member=sheet.member.user.get_full_name(),
                    score=Decimal(score.score),
                    reason=score.reason,
                    flag=latest.get(score.criterion_id, ""),
                )
            )
    return PanelScores(
        panel=panel,
        members=members,
        criteria=criteria,
        bids=sorted(by_bid.values(), key=lambda b: (b.bid.price or 0, str(b.bid.pk))),
    )


def panel_scores(user: Any, panel: Panel) -> PanelScores:
    """Every member's scores per bid and criterion, once every sheet is submitted, for the
    panel's declared members, officials and auditors; 404 otherwise (DESIGN 4.4)."""
    if not permissions.can_view_panel_scores(user, panel, revealed=scores_revealed(panel)):
        raise Http404
    return _score_matrix(panel)


@dataclass(frozen=True)
class MemberProgress:
    """How far one member is: their sheets counted by status and open flags, no scores."""

    seat: int
    member: str
    declared: bool
    counts: dict[str, int]
    total: int
    open_flags: int


def panel_progress(panel: Panel) -> list[MemberProgress]:
    """Per active member, their counted sheets by status (for the street office; check
    ``permissions.can_view_panel_progress``). No score is in it."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        _counted_sheets()
        .filter(member__panel=panel)
        .order_by()
        .values("member_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["member_id"]][row["status"]] = row["n"]
    flags: dict[int, int] = defaultdict(int)
    for member_id in DeviationFlag.objects.filter(
        sheet__member__panel=panel, status=DeviationStatus.OPEN
    ).values_list("sheet__member_id", flat=True):
        flags[member_id] += 1
    members = (
        PanelMember.objects.filter(panel=panel)
        .exclude(status=MemberStatus.REPLACED)
        .select_related("user")
        .order_by("seat")
    )
    return [
        MemberProgress(
            seat=member.seat,
            member=member.user.get_full_name(),
            declared=member.status == MemberStatus.DECLARED,
            counts=dict(counts.get(member.pk, {})),
            total=sum(counts.get(member.pk, {}).values()),
            open_flags=flags.get(member.pk, 0),
        )
        for member in members
    ]


@dataclass(frozen=True)
class RankingLine:
    """One row of the ranking as the user may see it; the ``None`` fields are hidden."""

    position: int
    rank: int
    tied: bool
    bid_id: Any
    organization: str
    price: Decimal
    total: Decimal
    price_score: Decimal | None
    criterion_scores: dict[str, Decimal] | None
    member_scores: dict[str, list[MemberScore]] | None
    own: bool


@dataclass(frozen=True)
class RankingView:
    ranking: Ranking
    # True: every row in full with each member's scores (the office, auditors, the panel).
    full: bool
    rows: list[RankingLine]
    corrections: list[RankingCorrection] = field(default_factory=list)


def ranking_for_user(user: Any, tender: Tender) -> RankingView:
    """The frozen ranking: in full with each member's scores for the street office,
    auditors and the panel's declared members; after the award a public summary
    (organization, price, total, rank), a bidder seeing its own row in full. 404 otherwise
    (and while there is no ranking)."""
    ranking = Ranking.objects.filter(tender=tender).select_related("tender").first()
    if ranking is None:
        raise Http404
    tender = ranking.tender  # its state as it is now
    rows = list(
        RankingRow.objects.filter(ranking=ranking)
        .select_related("bid__organization")
        .order_by("position")
    )
    own_org = getattr(user, "organization_id", None) if is_org_user(user) else None
    if permissions.can_view_ranking(user, tender):
        panel = Panel.objects.filter(tender=tender).first()
        matrix = {b.bid.pk: b.scores for b in _score_matrix(panel).bids} if panel else {}
        return RankingView(
            ranking=ranking,
            full=True,
            rows=[
                _ranking_line(row, full=True, scores=matrix.get(row.bid_id, {}), own=False)
                for row in rows
            ],
            corrections=list(
                RankingCorrection.objects.filter(ranking=ranking)
                .select_related("requested_by", "sheet__member")
                .order_by("requested_at", "pk")
            ),
        )
    if not permissions.can_view_ranking_summary(user, tender):
        raise Http404
    lines = []
    for row in rows:
        own = own_org is not None and row.bid.organization_id == own_org
        lines.append(_ranking_line(row, full=own, scores=None, own=own))
    return RankingView(ranking=ranking, full=False, rows=lines)


def _ranking_line(
    row: RankingRow, *, full: bool, scores: dict[str, list[MemberScore]] | None, own: bool
) -> RankingLine:
    return RankingLine(
        position=row.position,
        rank=row.rank,
        tied=row.tied,
        bid_id=row.bid_id,
        organization=row.bid.organization.name,
        price=Decimal(row.price),
        total=Decimal(row.total),
        price_score=Decimal(row.price_score) if full else None,
        criterion_scores=(
            {code: Decimal(str(value)) for code, value in row.criterion_scores.items()}
            if full
            else None
        ),
        member_scores=scores,
        own=own,
    )


# --- Choices for the panel forms ---


def panel_official_choices() -> QuerySet[User]:
    """Active officials: the purchaser's possible representatives on a panel."""
    return User.objects.filter(role__in=sorted(OFFICIAL_ROLES), is_active=True).order_by(
        "full_name", "username"
    )


def panel_expert_choices(tender: Tender) -> QuerySet[User]:
    """Active assessors in the pool for the tender's category (the service checks conflicts)."""
    return (
        User.objects.filter(
            role=Role.ASSESSOR,
            is_active=True,
            assessor_profile__categories=tender.category_id,
        )
        .select_related("assessor_profile")
        .order_by("full_name", "username")
        .distinct()
    )


def panel_chair_choices(officials: QuerySet[User], experts: QuerySet[User]) -> QuerySet[User]:
    """Who may be named chair: any of the possible representatives or experts."""
    return (
        User.objects.filter(pk__in=officials.values("pk"))
        | User.objects.filter(pk__in=experts.values("pk"))
    ).order_by("full_name", "username")


def reopenable_sheets(user: Any, panel: Panel) -> list[ScoreSheet]:
    """The locked sheets of ``panel`` that ``user`` (its chair) may reopen for a correction."""
    sheets = (
        _counted_sheets()
        .filter(member__panel=panel, status=SheetStatus.LOCKED)
        .select_related("member__user", "member__panel__tender", "bid__organization")
        .order_by("member__seat", "bid__pk")
    )
    return [sheet for sheet in sheets if permissions.can_reopen_sheet(user, sheet)]


def deviation_get_for_user(user: Any, pk: Any) -> DeviationFlag:
    """A deviation flag on one of the caller's own sheets; Http404 for anyone else's, alike
    to a missing one (only the member answers a flag)."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        raise Http404
    flag = (
        DeviationFlag.objects.select_related(
            "sheet__member__panel__tender", "sheet__bid__organization", "criterion"
        )
        .filter(pk=pk, sheet__member__user_id=user_id)
        .exclude(sheet__member__status=MemberStatus.REPLACED)
        .first()
    )
    if flag is None:
        raise Http404
    return flag


def objective_score_get_for_chair(user: Any, pk: Any) -> tuple[ObjectiveScore, PanelMember]:
    """An objective score of a panel the caller chairs (and sits on, declared), with the
    caller's seat; Http404 otherwise, alike to a missing one."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        raise Http404
    score = (
        ObjectiveScore.objects.select_related("bid__organization", "criterion__tender__panel")
        .filter(pk=pk, criterion__tender__panel__chair_id=user_id)
        .first()
    )
    if score is None:
        raise Http404
    panel = score.criterion.tender.panel
    member = permissions.panel_seat(user, panel)
    if member is None or not permissions.is_declared_member(user, panel, member):
        raise Http404
    return score, member
