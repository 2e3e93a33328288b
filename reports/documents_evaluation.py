"""Printable documents of evaluation: the evaluation report (评标报告) and the third-party
performance evaluation report (绩效评价报告).

The evaluation report carries what 财政部令第87号 Art. 62 asks of it: the tender and its
opening, the bidders and the invalid bids with the reasons, the panel with each member's
declaration, the method and criteria, every member's score on every subjective criterion
of every bid, the price and objective scores, the aggregated totals and the ranking, the
abnormal deviations and price justifications and how each was settled, the corrections
(Art. 64), and a signature line per member. It exists once the ranking is frozen (the panel
``ranked``: every sheet locked and the ranking computed, ``evaluation.services.sheets``) and
is read by whoever reads the full ranking: the street office, auditors and the panel's
declared members; never bidders or the public, who get the award notice.

The performance report is read as the evaluation's page is, once the assessor submitted.

Context builders read the rows in a fixed number of queries whatever the number of bids,
members or indicators (the report of a large tender is 30 pages and renders in a few
seconds: ``tests/bench/bench_reports.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluation import permissions as evaluation_permissions
from evaluation import rules
from evaluation.models import (
    PERFORMANCE_RESULT_STATES,
    DeviationFlag,
    MemberKind,
    MemberStatus,
    ObjectiveScore,
    Panel,
    PanelDraw,
    PanelMember,
    PanelStatus,
    PerformanceEvaluation,
    PerformanceGroup,
    PerformanceIndicator,
    PerformanceScore,
    PriceJustification,
    Ranking,
    RankingCorrection,
    RankingRow,
    Score,
)
from evaluation.permissions import performance as performance_permissions
from evaluation.selectors import EVALUATED_BID_STATES
from evaluation.selectors import performance as performance_selectors
from reports import charts
from reports.documents import Document, register
from tenders import selectors as tender_selectors
from tenders.contracting import SATISFIED_FROM
from tenders.models import Bid, CriterionKind, SurveyResponse, Tender, TenderCriterion

# --- The evaluation report (评标报告) ---------------------------------------------------------


def _frozen_rankings() -> Any:
    """Rankings whose panel is ``ranked``: computed over locked sheets and not reopened for a
    correction (a reopened panel's ranking is about to change)."""
    return Ranking.objects.filter(tender__panel__status=PanelStatus.RANKED)


def evaluation_report_available(tender: Tender) -> bool:
    return _frozen_rankings().filter(tender=tender).exists()


def evaluation_report_for_user(user: Any, pk: int) -> Tender:
    """The tender, for the readers of its full ranking once the ranking is frozen; 404 for
    anyone else (bidders and the public included) and before."""
    tender = tender_selectors.tender_get_for_user(user, pk)
    if not evaluation_permissions.can_view_ranking(user, tender):
        raise Http404
    if not evaluation_report_available(tender):
        raise Http404
    return tender


def evaluation_report_by_id(pk: int) -> Tender:
    tender = Tender.objects.filter(pk=pk).first()
    if tender is None:
        raise LookupError("no such tender")
    if not evaluation_report_available(tender):
        raise LookupError("the tender has no frozen ranking yet")
    return tender


def evaluation_report_latest() -> Tender | None:
    ranking = _frozen_rankings().select_related("tender").order_by("-computed_at", "-pk").first()
    return ranking.tender if ranking is not None else None


@dataclass(frozen=True)
class MemberLine:
    seat: int
    user_id: int
    name: str
    agency: str
    kind: str
    kind_label: str
    is_chair: bool
    active: bool
    status_label: str
    declared_at: datetime | None
    statement: str
    replaced_by_seat: int | None


@dataclass(frozen=True)
class DrawLine:
    kind_label: str
    seed: str
    requested: int
    pool_size: int
    drawn: list[str]
    drawn_at: datetime
    excluded: int


@dataclass(frozen=True)
class BidLine:
    """A bid at the opening: who, the price, and whether it stayed valid."""

    organization: str
    uscc: str
    price: Decimal | None
    submitted_at: datetime | None
    status: str
    status_label: str
    valid: bool
    reason: str
    position: int | None


@dataclass(frozen=True)
class Cell:
    score: Decimal | None
    flag: str  # "", "open", "confirmed", "revised": the latest deviation flag on it


@dataclass(frozen=True)
class MatrixRow:
    criterion: TenderCriterion
    cells: list[Cell]
    mean: Decimal | None  # the aggregated criterion score of the ranking


@dataclass(frozen=True)
class Reason:
    seat: int
    criterion: str
    score: Decimal
    reason: str

    @property
    def label(self) -> str:
        # Formatted here, not by a {% blocktranslate %} per line: a large tender has
        # hundreds of reasons and the template tag is the slow part of rendering them.
        return _("Seat %(seat)s · %(criterion)s %(score)s:") % {
            "seat": self.seat,
            "criterion": self.criterion,
            "score": _number(self.score),
        }


@dataclass(frozen=True)
class BidScores:
    """Every member's scores of one bid, one row per subjective criterion."""

    label: str
    organization: str
    rows: list[MatrixRow]
    reasons: list[Reason]


@dataclass(frozen=True)
class ObjectiveLine:
    label: str
    organization: str
    scores: list[ObjectiveScore | None]


@dataclass(frozen=True)
class RankLine:
    position: int
    rank: int
    tied: bool
    organization: str
    price: Decimal
    price_ratio: Decimal
    price_score: Decimal
    scores: list[Decimal | None]
    total: Decimal


@dataclass(frozen=True)
class DeviationLine:
    organization: str
    criterion: str
    seat: int
    member: str
    score: Decimal
    panel_mean: Decimal
    deviation: Decimal
    threshold: Decimal
    status: str
    status_label: str
    note: str
    revised_score: Decimal | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class CorrectionLine:
    correction: RankingCorrection
    seat: int | None
    organization: str
    totals: list[tuple[str, Any, Any]]


@dataclass
class EvaluationReport:
    tender: Tender
    panel: Panel
    ranking: Ranking
    number: str
    criteria: list[TenderCriterion]
    subjective: list[TenderCriterion]
    objective: list[TenderCriterion]
    price_points: Decimal
    members: list[MemberLine]
    signers: list[MemberLine]
    seats: list[int]
    draws: list[DrawLine]
    bids: list[BidLine]
    invalid: list[BidLine]
    ranked: list[RankLine]
    non_price: list[TenderCriterion]
    matrices: list[BidScores]
    objective_lines: list[ObjectiveLine]
    deviations: list[DeviationLine]
    justifications: list[PriceJustification]
    corrections: list[CorrectionLine]
    recommended: list[RankLine] = field(default_factory=list)


def _agency(user: Any) -> str:
    profile = getattr(user, "assessor_profile", None)
    return getattr(profile, "agency", "") or ""


def _members(panel: Panel) -> list[MemberLine]:
    rows = list(
        PanelMember.objects.filter(panel=panel)
        .select_related("user__assessor_profile", "replaced_by")
        .order_by("seat", "pk")
    )
    return [
        MemberLine(
            seat=member.seat,
            user_id=member.user_id,
            name=member.user.get_full_name(),
            agency=_agency(member.user) if member.kind == MemberKind.EXPERT else "",
            kind=member.kind,
            kind_label=str(member.get_kind_display()),
            is_chair=member.user_id == panel.chair_id and member.is_active,
            active=member.is_active,
            status_label=str(member.get_status_display()),
            declared_at=member.declared_at,
            statement=member.statement,
            replaced_by_seat=member.replaced_by.seat if member.replaced_by else None,
        )
        for member in rows
    ]


def _draws(panel: Panel, names: dict[int, str]) -> list[DrawLine]:
    # Who was excluded from a draw, and why, is the office's and auditors' only (the panel
    # page): the report gives only how many were excluded, the same for every reader.
    return [
        DrawLine(
            kind_label=str(draw.get_kind_display()),
            seed=draw.seed,
            requested=draw.requested,
            pool_size=draw.pool_size,
            drawn=[names.get(user_id, str(user_id)) for user_id in draw.drawn],
            drawn_at=draw.drawn_at,
            excluded=len(draw.excluded),
        )
        for draw in PanelDraw.objects.filter(panel=panel).order_by("drawn_at", "pk")
    ]


def _report_number(tender: Tender, ranking: Ranking) -> str:
    return f"{tender.reference or tender.pk}-PB-{ranking.version:02d}"


def _number(value: Decimal) -> str:
    """A score as the pages print it: no trailing zeros (8.5, 9, 7.25)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def evaluation_report_context(tender: Tender, user: Any) -> dict[str, Any]:
    """Everything the report prints, in a fixed number of queries."""
    ranking = Ranking.objects.get(tender=tender)
    panel = Panel.objects.select_related("chair", "formed_by").get(tender=tender)
    criteria = list(TenderCriterion.objects.filter(tender=tender).order_by("sort_order", "pk"))
    subjective = [c for c in criteria if c.kind == CriterionKind.SUBJECTIVE]
    objective = [c for c in criteria if c.kind == CriterionKind.OBJECTIVE]
    non_price = [c for c in criteria if c.kind != CriterionKind.PRICE]
    price_points = sum((c.points for c in criteria if c.kind == CriterionKind.PRICE), Decimal(0))

    members = _members(panel)
    names = {m.user_id: m.name for m in members}
    active = [m for m in members if m.active]

    rows = list(
        RankingRow.objects.filter(ranking=ranking)
        .select_related("bid__organization")
        .order_by("position")
    )
    positions = {row.bid_id: row.position for row in rows}
    bids = [
        BidLine(
            organization=bid.organization.name,
            uscc=bid.organization.uscc,
            price=bid.price,
            submitted_at=bid.submitted_at,
            status=bid.status,
            status_label=str(bid.get_status_display()),
            valid=bid.status in EVALUATED_BID_STATES,
            reason=bid.review_reason,
            position=positions.get(bid.pk),
        )
        for bid in Bid.objects.filter(tender=tender, opened_at__isnull=False)
        .select_related("organization")
        .order_by("price", "organization__name", "pk")
    ]
    base = Decimal(ranking.base_price)
    ranked = [
        RankLine(
            position=row.position,
            rank=row.rank,
            tied=row.tied,
            organization=row.bid.organization.name,
            price=Decimal(row.price),
            price_ratio=(base / Decimal(row.price) * 100).quantize(Decimal("0.01"))
            if row.price
            else Decimal(0),
            price_score=Decimal(row.price_score),
            scores=[
                Decimal(str(row.criterion_scores[c.code]))
                if c.code in row.criterion_scores
                else None
                for c in non_price
            ],
            total=Decimal(row.total),
        )
        for row in rows
    ]
    label_of = {row.bid_id: f"{row.position}. {row.bid.organization.name}" for row in rows}

    matrices = _matrices(panel, rows, subjective, active, label_of)
    objective_lines = _objective_lines(tender, rows, objective, label_of)
    deviations = _deviations(panel, names)
    justifications = list(
        PriceJustification.objects.filter(bid__tender=tender)
        .select_related("bid__organization", "decided_by", "submitted_by")
        .order_by("price", "pk")
    )
    org_names = {str(row.bid_id): row.bid.organization.name for row in rows}
    corrections = [
        CorrectionLine(
            correction=correction,
            seat=correction.sheet.member.seat if correction.sheet else None,
            organization=correction.sheet.bid.organization.name if correction.sheet else "",
            totals=[
                (
                    org_names.get(key, key),
                    correction.before.get(key),
                    (correction.after or {}).get(key),
                )
                for key in sorted(
                    set(correction.before) | set(correction.after or {}),
                    key=lambda key: org_names.get(key, key),
                )
            ],
        )
        for correction in RankingCorrection.objects.filter(ranking=ranking)
        .select_related("requested_by", "sheet__member", "sheet__bid__organization")
        .order_by("requested_at", "pk")
    ]
    report = EvaluationReport(
        tender=tender,
        panel=panel,
        ranking=ranking,
        number=_report_number(tender, ranking),
        criteria=criteria,
        subjective=subjective,
        objective=objective,
        price_points=price_points,
        members=members,
        signers=active,
        seats=[m.seat for m in active],
        draws=_draws(panel, names),
        bids=bids,
        invalid=[b for b in bids if not b.valid],
        ranked=ranked,
        non_price=non_price,
        matrices=matrices,
        objective_lines=objective_lines,
        deviations=deviations,
        justifications=justifications,
        corrections=corrections,
        recommended=[line for line in ranked if line.position <= 3],
    )
    return {
        "report": report,
        "tender": tender,
        "low_price_percent": f"{rules.LOW_PRICE_RATIO * 100:.0f}",
        "deviation_percent": f"{rules.DEVIATION_THRESHOLD * 100:.0f}",
        "trim_min_panel": rules.TRIM_MIN_PANEL,
    }


def _matrices(
    panel: Panel,
    rows: list[RankingRow],
    subjective: list[TenderCriterion],
    active: list[MemberLine],
    label_of: dict[Any, str],
) -> list[BidScores]:
    """Per ranked bid, each active member's score per subjective criterion (two queries)."""
    scores: dict[tuple[Any, int, int], tuple[Decimal, str]] = {}
    for bid_id, seat, criterion_id, score, reason in (
        Score.objects.filter(
            sheet__member__panel=panel, sheet__bid__status__in=EVALUATED_BID_STATES
        )
        .exclude(sheet__member__status=MemberStatus.REPLACED)
        .values_list("sheet__bid_id", "sheet__member__seat", "criterion_id", "score", "reason")
    ):
        scores[(bid_id, seat, criterion_id)] = (Decimal(score), reason)
    latest: dict[tuple[Any, int, int], str] = {}
    for bid_id, seat, criterion_id, status in (
        DeviationFlag.objects.filter(sheet__member__panel=panel)
        .order_by("pk")
        .values_list("sheet__bid_id", "sheet__member__seat", "criterion_id", "status")
    ):
        latest[(bid_id, seat, criterion_id)] = status
    matrices = []
    for row in rows:
        means = row.criterion_scores
        matrix_rows = []
        reasons = []
        for criterion in subjective:
            cells = []
            for member in active:
                key = (row.bid_id, member.seat, criterion.pk)
                found = scores.get(key)
                cells.append(Cell(score=found[0] if found else None, flag=latest.get(key, "")))
                if found and found[1]:
                    reasons.append(
                        Reason(
                            seat=member.seat,
                            criterion=criterion.name,
                            score=found[0],
                            reason=found[1],
                        )
                    )
            mean = means.get(criterion.code)
            matrix_rows.append(
                MatrixRow(
                    criterion=criterion,
                    cells=cells,
                    mean=Decimal(str(mean)) if mean is not None else None,
                )
            )
        matrices.append(
            BidScores(
                label=label_of[row.bid_id],
                organization=row.bid.organization.name,
                rows=matrix_rows,
                reasons=sorted(reasons, key=lambda r: (r.seat, r.criterion)),
            )
        )
    return matrices


def _objective_lines(
    tender: Tender,
    rows: list[RankingRow],
    objective: list[TenderCriterion],
    label_of: dict[Any, str],
) -> list[ObjectiveLine]:
    found = {
        (score.bid_id, score.criterion_id): score
        for score in ObjectiveScore.objects.filter(bid__tender=tender).select_related("criterion")
    }
    return [
        ObjectiveLine(
            label=label_of[row.bid_id],
            organization=row.bid.organization.name,
            scores=[found.get((row.bid_id, c.pk)) for c in objective],
        )
        for row in rows
    ]


def _deviations(panel: Panel, names: dict[int, str]) -> list[DeviationLine]:
    flags = (
        DeviationFlag.objects.filter(sheet__member__panel=panel)
        .select_related("criterion", "sheet__member", "sheet__bid__organization")
        .order_by("sheet__bid__organization__name", "criterion__sort_order", "sheet__member__seat")
    )
    return [
        DeviationLine(
            organization=flag.sheet.bid.organization.name,
            criterion=flag.criterion.name,
            seat=flag.sheet.member.seat,
            member=names.get(flag.sheet.member.user_id, ""),
            score=Decimal(flag.score),
            panel_mean=Decimal(flag.panel_mean),
            deviation=Decimal(flag.deviation),
            threshold=Decimal(flag.threshold),
            status=flag.status,
            status_label=str(flag.get_status_display()),
            note=flag.note,
            revised_score=flag.revised_score,
            created_at=flag.created_at,
            resolved_at=flag.resolved_at,
        )
        for flag in flags
    ]


def _evaluation_report_filename(tender: Tender) -> str:
    return f"evaluation-report-{tender.reference or tender.pk}"


register(
    Document(
        kind="evaluation_report",
        label=gettext_lazy("Evaluation report"),
        template="reports/documents/evaluation_report.html",
        for_user=evaluation_report_for_user,
        by_id=evaluation_report_by_id,
        latest=evaluation_report_latest,
        context=evaluation_report_context,
        filename=_evaluation_report_filename,
    )
)


# --- The performance evaluation report (绩效评价报告) -------------------------------------------


def _evaluations() -> Any:
    return PerformanceEvaluation.objects.select_related(
        "contract__organization",
        "contract__tender",
        "milestone",
        "indicator_set",
        "assessor__assessor_profile",
        "assigned_by",
        "replied_by",
    )


def performance_report_for_user(user: Any, pk: int) -> PerformanceEvaluation:
    """The evaluation as its page finds it, once it has a result (a draft is the assessor's
    own and has no report); 404 otherwise."""
    evaluation = performance_selectors.performance_evaluation_get_for_user(user, pk)
    if not evaluation.has_result:
        raise Http404
    return evaluation


def performance_report_by_id(pk: int) -> PerformanceEvaluation:
    evaluation = _evaluations().filter(pk=pk).first()
    if evaluation is None:
        raise LookupError("no such performance evaluation")
    if not evaluation.has_result:
        raise LookupError("the evaluation has not been submitted")
    return evaluation


def performance_report_latest() -> PerformanceEvaluation | None:
    return (
        _evaluations()
        .filter(status__in=sorted(PERFORMANCE_RESULT_STATES))
        .order_by("-submitted_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class IndicatorLine:
    code: str
    label: str
    max_points: Decimal
    score: Decimal | None
    evidence: str
    is_satisfaction: bool


@dataclass(frozen=True)
class IndicatorGroup:
    code: str
    label: str
    weight: Decimal
    total: Decimal
    lines: list[IndicatorLine]

    @property
    def share(self) -> Decimal:
        if not self.weight:
            return Decimal(0)
        return (self.total / self.weight * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class RatingCount:
    rating: int
    count: int
    share: Decimal


def _groups(evaluation: PerformanceEvaluation) -> list[IndicatorGroup]:
    indicators = list(
        PerformanceIndicator.objects.filter(set_id=evaluation.indicator_set_id).order_by(
            "sort_order", "code"
        )
    )
    scores = {s.indicator_id: s for s in PerformanceScore.objects.filter(evaluation=evaluation)}
    lines = {
        i.pk: IndicatorLine(
            code=i.code,
            label=i.label,
            max_points=i.max_points,
            score=scores[i.pk].score if i.pk in scores else None,
            evidence=scores[i.pk].evidence if i.pk in scores else "",
            is_satisfaction=i.is_satisfaction,
        )
        for i in indicators
    }
    groups = []
    for code, label in PerformanceGroup.choices:
        members = [lines[i.pk] for i in indicators if i.group == code]
        groups.append(
            IndicatorGroup(
                code=code,
                label=str(label),
                weight=sum((line.max_points for line in members), Decimal(0)),
                total=sum((line.score or Decimal(0) for line in members), Decimal(0)),
                lines=members,
            )
        )
    return groups


def _ratings(evaluation: PerformanceEvaluation) -> list[RatingCount]:
    """How the beneficiaries rated the service overall (1-5), counting the answers the
    evaluation took (those up to its submission). Counts only: no respondent is known."""
    answers = SurveyResponse.objects.filter(contract_id=evaluation.contract_id)
    if evaluation.submitted_at is not None:
        answers = answers.filter(submitted_at__lte=evaluation.submitted_at)
    counts = dict(
        answers.order_by().values("overall").annotate(n=Count("pk")).values_list("overall", "n")
    )
    every = sum(counts.values())
    return [
        RatingCount(
            rating=rating,
            count=counts.get(rating, 0),
            share=(Decimal(counts.get(rating, 0)) * 100 / every).quantize(Decimal("0.1"))
            if every
            else Decimal(0),
        )
        for rating in range(1, 6)
    ]


def _group_chart(groups: list[IndicatorGroup]) -> charts.Chart:
    return charts.grouped_bar_chart(
        [group.label for group in groups],
        {
            _("Score"): [float(group.total) for group in groups],
            _("Maximum"): [float(group.weight) for group in groups],
        },
        title=_("Score of each group of indicators against its maximum"),
        unit=_("points"),
        height=2.6,
    )


def _rating_chart(ratings: list[RatingCount]) -> charts.Chart:
    return charts.bar_chart(
        [str(line.rating) for line in ratings],
        [line.count for line in ratings],
        title=_("Overall satisfaction ratings (1 very dissatisfied - 5 very satisfied)"),
        unit=_("answers"),
        height=2.4,
    )


def performance_report_context(evaluation: PerformanceEvaluation, user: Any) -> dict[str, Any]:
    """The evaluation, its scores by group, the survey and the two charts. The assessor is
    named where the page names them (the office, auditors, the assessor; the system)."""
    groups = _groups(evaluation)
    ratings = _ratings(evaluation)
    answered = sum(line.count for line in ratings)
    show_assessor = (
        user is None
        or evaluation_permissions.is_office_or_auditor(user)
        or performance_permissions.is_evaluation_assessor(user, evaluation)
    )
    return {
        "evaluation": evaluation,
        "contract": evaluation.contract,
        "organization": evaluation.contract.organization,
        "milestone": evaluation.milestone,
        "groups": groups,
        "ratings": ratings,
        "answered": answered,
        "satisfied_from": SATISFIED_FROM,
        "group_chart": _group_chart(groups),
        "rating_chart": _rating_chart(ratings) if answered else None,
        "show_assessor": show_assessor,
        "agency": _agency(evaluation.assessor) if show_assessor else "",
        "number": f"{evaluation.contract.reference}-JX-{evaluation.pk:04d}",
        "region_code": settings.STREET_OFFICE.get("region_code", ""),
    }


def _performance_filename(evaluation: PerformanceEvaluation) -> str:
    return f"performance-report-{evaluation.contract.reference}-{evaluation.pk}"


register(
    Document(
        kind="performance_report",
        label=gettext_lazy("Performance evaluation report"),
        template="reports/documents/performance_report.html",
        for_user=performance_report_for_user,
        by_id=performance_report_by_id,
        latest=performance_report_latest,
        context=performance_report_context,
        filename=_performance_filename,
    )
)

__all__ = [
    "evaluation_report_available",
    "evaluation_report_context",
    "evaluation_report_for_user",
    "performance_report_context",
    "performance_report_for_user",
]
