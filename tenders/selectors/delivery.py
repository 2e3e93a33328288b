"""Reads of a contract's delivery: milestones, reports and their documents, survey sites and
the beneficiary satisfaction results, scoped to the user.

A contract's delivery file is reached only through ``delivery_contract_get_for_user``;
anything not the caller's is a 404, exactly like a missing row. Survey answers are shown
without any respondent or address key, and their comments had phone numbers masked when
they were stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from marketplace.permissions import is_official
from tenders import contracting
from tenders.models import (
    Contract,
    DeliveryDocument,
    DeliveryReport,
    DeliveryReportStatus,
    Milestone,
    SurveyResponse,
    SurveySite,
)
from tenders.permissions import delivery as permissions

RATING_FIELDS = ("overall", "quality", "attitude", "timeliness")
# The newest comments shown on the results page.
COMMENTS_SHOWN = 50


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- Contracts and milestones ------------------------------------------------------------------


def delivery_contract_get_for_user(user: Any, pk: Any) -> Contract:
    """A contract whose delivery file the user may read (the two parties, auditors, the
    contract's assessors); 404 for everyone else."""
    contract: Contract = _get(
        Contract.objects.select_related("tender", "organization", "programme"), pk
    )
    if not permissions.can_view_delivery(user, contract):
        raise Http404
    return contract


def milestone_list(contract: Contract) -> list[Milestone]:
    """The contract's milestones in order, each with its reports (newest first)."""
    reports = DeliveryReport.objects.select_related("submitted_by", "reviewed_by").order_by(
        "-submitted_at", "-pk"
    )
    return list(
        Milestone.objects.filter(contract=contract)
        .prefetch_related(Prefetch("reports", queryset=reports))
        .order_by("sequence")
    )


def milestone_get_for_user(user: Any, pk: Any) -> Milestone:
    """A milestone of a contract whose delivery the user may read; 404 otherwise."""
    milestone: Milestone = _get(
        Milestone.objects.select_related("contract__tender", "contract__organization"), pk
    )
    if not permissions.can_view_delivery(user, milestone.contract):
        raise Http404
    return milestone


# --- Reports -----------------------------------------------------------------------------------


def _reports() -> QuerySet[DeliveryReport]:
    return DeliveryReport.objects.select_related(
        "milestone", "contract__organization", "contract__tender", "submitted_by", "reviewed_by"
    ).prefetch_related(Prefetch("documents", queryset=DeliveryDocument.objects.order_by("pk")))


def report_list_for_user(user: Any, contract: Contract) -> QuerySet[DeliveryReport]:
    """The contract's reports, newest first, with their documents (constant queries)."""
    if not permissions.can_view_delivery(user, contract):
        raise Http404
    return _reports().filter(contract=contract).order_by("-submitted_at", "-pk")


def report_get_for_user(user: Any, pk: Any) -> DeliveryReport:
    report: DeliveryReport = _get(_reports(), pk)
    if not permissions.can_view_delivery(user, report.contract):
        raise Http404
    return report


def reports_waiting_for_review(user: Any) -> QuerySet[DeliveryReport]:
    """Reports waiting for an official's review, oldest first (none for anyone else)."""
    reports = _reports().filter(status=DeliveryReportStatus.SUBMITTED)
    if not is_official(user):
        return reports.none()
    return reports.order_by("submitted_at", "pk")


def delivery_document_for_download(user: Any, pk: Any) -> tuple[DeliveryDocument, str, bytes]:
    """A report's photo or document for a reader of the delivery file: (document, file
    name, bytes), to be served as an attachment; 404 for everyone else."""
    document: DeliveryDocument = _get(
        DeliveryDocument.objects.select_related("report__contract"), pk
    )
    if not permissions.can_view_delivery(user, document.report.contract):
        raise Http404
    with document.file.open("rb") as handle:
        data = handle.read()
    return document, document.original_name, data


# --- Survey sites ------------------------------------------------------------------------------


def survey_site_list(contract: Contract) -> QuerySet[SurveySite]:
    """The contract's sites with their number of answers."""
    return (
        SurveySite.objects.filter(contract=contract)
        .select_related("community")
        .annotate(answers=Count("responses"))
        .order_by("pk")
    )


def survey_site_get_for_user(user: Any, pk: Any) -> SurveySite:
    """A site of a contract whose delivery the user may read; 404 otherwise."""
    site: SurveySite = _get(
        SurveySite.objects.select_related("contract__tender", "contract__organization"), pk
    )
    if not permissions.can_view_delivery(user, site.contract):
        raise Http404
    return site


def survey_site_for_answer(token: str) -> SurveySite:
    """The public survey of a site, by its link key; 404 for an unknown key. A closed
    site or a contract out of delivery is found (the page says it takes no answers)."""
    site: SurveySite | None = (
        SurveySite.objects.select_related("contract__organization", "contract__tender", "community")
        .filter(token=str(token or "")[:40])
        .first()
    )
    if site is None:
        raise Http404
    return site


# --- Satisfaction ------------------------------------------------------------------------------


def _until_filter(until: date | datetime | None) -> Q:
    if until is None:
        return Q()
    if isinstance(until, datetime):
        return Q(submitted_at__lte=until)
    # A day counts whole, in the office's time.
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    return Q(submitted_at__lt=end)


def _figures(count: int, total: int | None, satisfied: int) -> contracting.Satisfaction:
    """The figures of ``contracting.satisfaction`` from SQL aggregates (same rounding)."""
    if not count:
        return contracting.Satisfaction(answers=0, mean=None, rate=None)
    mean = (Decimal(total or 0) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    rate = (Decimal(satisfied) * 100 / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return contracting.Satisfaction(answers=count, mean=mean, rate=rate)


def _aggregates() -> dict[str, Any]:
    return {
        "count": Count("pk"),
        "total": Sum("overall"),
        "satisfied": Count("pk", filter=Q(overall__gte=contracting.SATISFIED_FROM)),
    }


def contract_satisfaction(
    contract: Contract, *, until: date | datetime | None = None
) -> contracting.Satisfaction:
    """The satisfaction result of a contract's survey (overall ratings), answers up to
    ``until`` (a day counts whole) or all: the figures the performance evaluation's
    satisfaction indicator takes. One aggregate query."""
    row = SurveyResponse.objects.filter(Q(contract=contract) & _until_filter(until)).aggregate(
        **_aggregates()
    )
    return _figures(row["count"], row["total"], row["satisfied"])


@dataclass(frozen=True)
class PeriodResult:
    period: str
    satisfaction: contracting.Satisfaction
    means: dict[str, Decimal | None]


@dataclass(frozen=True)
class Bar:
    rating: int
    count: int
    share: Decimal  # of all answers, in percent
    height: int  # in the chart's units (0–100)

    # Where the bar stands in the results page's chart (120 units tall, 70 per bar).
    @property
    def x(self) -> int:
        return 70 * (self.rating - 1)

    @property
    def y(self) -> int:
        return 120 - self.height


@dataclass(frozen=True)
class CommentRow:
    period: str
    site: str
    overall: int
    comment: str
    submitted_at: datetime


@dataclass(frozen=True)
class SatisfactionResults:
    """The results page: the overall figures, one row per period (newest first), the
    distribution of overall ratings and the newest comments, without any respondent."""

    total: contracting.Satisfaction
    periods: list[PeriodResult] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    comments: list[CommentRow] = field(default_factory=list)


def _mean(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def satisfaction_results(user: Any, contract: Contract) -> SatisfactionResults:
    """The contract's survey results for a reader of its delivery file (four queries,
    however many answers)."""
    if not permissions.can_view_satisfaction(user, contract):
        raise Http404
    answers = SurveyResponse.objects.filter(contract=contract)
    by_period: Any = (
        answers.values("period")
        .annotate(**_aggregates(), **{f"mean_{name}": Avg(name) for name in RATING_FIELDS})
        .order_by("-period")
    )
    rows: list[dict[str, Any]] = list(by_period)
    periods = [
        PeriodResult(
            period=row["period"],
            satisfaction=_figures(row["count"], row["total"], row["satisfied"]),
            means={name: _mean(row[f"mean_{name}"]) for name in RATING_FIELDS},
        )
        for row in rows
    ]
    counts = dict(answers.values("overall").annotate(n=Count("pk")).values_list("overall", "n"))
    all_answers = sum(counts.values())
    highest = max(counts.values(), default=0)
    bars = [
        Bar(
            rating=rating,
            count=counts.get(rating, 0),
            share=(
                (Decimal(counts.get(rating, 0)) * 100 / all_answers).quantize(Decimal("0.1"))
                if all_answers
                else Decimal(0)
            ),
            height=round(100 * counts.get(rating, 0) / highest) if highest else 0,
        )
        for rating in range(1, 6)
    ]
    comments = [
        CommentRow(
            period=row.period,
            site=row.site.name,
            overall=row.overall,
            comment=row.comment,
            submitted_at=row.submitted_at,
        )
        for row in answers.exclude(comment="")
        .select_related("site")
        .only("period", "overall", "comment", "submitted_at", "site__name")
        .order_by("-submitted_at", "-pk")[:COMMENTS_SHOWN]
    ]
    return SatisfactionResults(
        total=contract_satisfaction(contract), periods=periods, bars=bars, comments=comments
    )
