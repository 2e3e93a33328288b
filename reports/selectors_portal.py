"""Reads of the public disclosure portal (信息公开): who got how much for what, and how they did.

Everything here is what anyone may read without signing in, and the portal shows it the same
to everyone (a signed-in official reads here what the public reads). Each read starts from
what is published and nothing else:

- tenders in ``PUBLIC_TENDER_STATES`` (never a draft or one waiting for approval);
- opening records of tenders whose bids were opened (a bid's price exists in plain only
  after the opening; before it there is no record and no count of bids);
- award notices in force, with the ranking summary of the valid bids;
- contracts once signed (``PUBLIC_CONTRACT_STATES``), their team masked on their own page;
- final performance evaluations with a result (a mid-term one steers delivery and is not
  part of the public record, as ``evaluation.selectors.performance`` says);
- verified organizations with their grade and credit entries.

Lists are querysets with their per-row facts annotated in the same query (counts by
subquery, so a filter's join cannot multiply them) and their many-to-many rows prefetched:
a page costs the same number of queries whatever its length. No ID number or phone is
read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from evaluation.models import (
    PERFORMANCE_RESULT_STATES,
    PerformanceEvaluation,
    RankingRow,
)
from orgs_registry import selectors as registry_selectors
from orgs_registry.models import CreditEntry, CreditList, Organization
from reports.filters_portal import OpeningFilter, PerformanceFilter, ResultFilter
from tenders import selectors as tender_selectors
from tenders.models import (
    PUBLIC_CONTRACT_STATES,
    PUBLIC_TENDER_STATES,
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Contract,
    EvaluationKind,
    PerformanceGrade,
    Tender,
    TenderStatus,
)
from tenders.selectors.contracts import contract_directory

# States of a tender whose award notice is public: awarded and everything after it. A failed
# or cancelled tender has no result; a tender sent back to the panel by an upheld challenge
# has its award withdrawn.
RESULT_STATES = (
    TenderStatus.AWARDED,
    TenderStatus.CONTRACTED,
    TenderStatus.IN_DELIVERY,
    TenderStatus.COMPLETED,
)
# How many of the latest items each part of the portal's home page shows.
LATEST = 5


def _count(queryset: QuerySet, group: str) -> Coalesce:
    """The number of rows of ``queryset`` (filtered by an ``OuterRef``) as a subquery."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _filtered(filterset: Any, ordering: tuple[str, ...]) -> QuerySet:
    """Unbound: everything. Bound but invalid: nothing (the form carries the errors)."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs.order_by(*ordering)


# --- Tenders and opening records ---------------------------------------------------------------


def public_tenders() -> QuerySet[Tender]:
    """Published tenders, in every state from publication on."""
    return Tender.objects.filter(status__in=sorted(PUBLIC_TENDER_STATES))


def open_tenders(*, now: Any = None) -> QuerySet[Tender]:
    """Tenders accepting bids now, newest publication first."""
    now = now or timezone.now()
    return (
        public_tenders()
        .filter(status=TenderStatus.PUBLISHED, bid_deadline__gt=now)
        .select_related("category")
        .order_by("-published_at", "-pk")
    )


def opened_tenders() -> QuerySet[Tender]:
    """Published tenders whose bids were opened, latest opening first, each with the number
    of opened bids and the lowest and highest opened price."""
    opened_bids = Bid.objects.filter(tender=OuterRef("pk"), opened_at__isnull=False)
    return (
        public_tenders()
        .filter(opened_at__isnull=False)
        .select_related("category")
        .prefetch_related("communities")
        .annotate(
            bid_count=_count(opened_bids, "tender"),
            lowest_price=Subquery(opened_bids.order_by("price").values("price")[:1]),
            highest_price=Subquery(opened_bids.order_by("-price").values("price")[:1]),
        )
        .order_by("-opened_at", "-pk")
    )


def opening_directory(
    *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[Tender], OpeningFilter]:
    """Opened tenders filtered; unbound: all, invalid: none (with the errors)."""
    filterset = OpeningFilter(data=filters or None, queryset=opened_tenders())
    return _filtered(filterset, ("-opened_at", "-pk")), filterset


def opening_get(pk: Any) -> tender_selectors.OpeningRecord:
    """The opening record of a published tender; 404 for an unpublished tender and for one
    not opened yet (there is no record before the opening)."""
    try:
        tender = public_tenders().select_related("category").get(pk=pk)
    except (Tender.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    return tender_selectors.opening_record(tender)


# --- Award notices (中标结果公告) ----------------------------------------------------------------


def awards_in_force(*, today: date | None = None) -> QuerySet[Award]:
    """Award notices in force, newest first, each with its tender, the winner, the number of
    opened and of ranked bids, the winner's total score, whether challenges are still
    accepted and its public contract (if any)."""
    today = today or timezone.localdate()
    tender = OuterRef("tender")
    ranked = RankingRow.objects.filter(ranking__tender=tender)
    public_contract = Contract.objects.filter(
        tender=tender, status__in=sorted(PUBLIC_CONTRACT_STATES)
    )
    return (
        Award.objects.filter(status=AwardStatus.ACTIVE, tender__status__in=RESULT_STATES)
        .select_related("tender__category", "bid__organization")
        .prefetch_related("tender__communities")
        .annotate(
            bid_count=_count(Bid.objects.filter(tender=tender, opened_at__isnull=False), "tender"),
            ranked_count=_count(ranked, "ranking"),
            winner_total=Subquery(ranked.filter(bid=OuterRef("bid")).values("total")[:1]),
            public_contract_id=Subquery(public_contract.values("pk")[:1]),
            public_contract_reference=Subquery(public_contract.values("reference")[:1]),
            # Challenges are accepted while the tender waits for its contract (DESIGN 4.3).
            window_open=Case(
                When(
                    tender__status=TenderStatus.AWARDED,
                    challenge_deadline__gte=today,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by("-notice_published_at", "-pk")
    )


def result_directory(*, filters: Mapping[str, Any] | None) -> tuple[QuerySet[Award], ResultFilter]:
    """Award notices in force filtered; unbound: all, invalid: none (with the errors)."""
    filterset = ResultFilter(data=filters or None, queryset=awards_in_force())
    return _filtered(filterset, ("-notice_published_at", "-pk")), filterset


def has_result(tender: Tender) -> bool:
    """Whether ``tender`` has an award notice in force (``result_get`` finds it)."""
    return tender.status in RESULT_STATES and (
        Award.objects.filter(tender=tender, status=AwardStatus.ACTIVE).exists()
    )


@dataclass(frozen=True)
class ResultRow:
    """One valid (ranked) bid of the award notice's ranking summary."""

    position: int
    organization_id: int
    organization_name: str
    organization_uscc: str
    price: Decimal
    price_score: Decimal
    total: Decimal
    rank: int
    tied: bool
    won: bool


@dataclass(frozen=True)
class ResultNotice:
    """中标结果公告: the winner, its price against the budget, the ranking summary of every
    valid bid, the counts of the opening, the challenge window and the contract."""

    tender: Tender
    award: Award
    winner: Organization
    winner_grade: str
    rows: list[ResultRow]
    bids_opened: int
    bids_disqualified: int
    contract: Contract | None
    window_open: bool

    @property
    def price(self) -> Decimal:
        return self.award.bid.price or Decimal(0)

    @property
    def saving(self) -> Decimal:
        """What the award saves against the budget ceiling."""
        return self.tender.budget - self.price

    @property
    def saving_share(self) -> Decimal:
        """The saving as a percentage of the budget ceiling, to one place."""
        if not self.tender.budget:
            return Decimal(0)
        share = self.saving * 100 / self.tender.budget
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def result_get(pk: Any, *, today: date | None = None) -> ResultNotice:
    """The award notice of the tender ``pk``; 404 for a tender without one in force (not
    awarded yet, failed, cancelled, the award withdrawn) and for an unpublished tender."""
    try:
        award = (
            Award.objects.filter(
                status=AwardStatus.ACTIVE,
                tender_id=pk,
                tender__status__in=RESULT_STATES,
            )
            .select_related("tender__category", "bid__organization")
            .get()
        )
    except (Award.DoesNotExist, Award.MultipleObjectsReturned, ValueError, TypeError) as exc:
        raise Http404 from exc
    tender = award.tender
    rows = (
        RankingRow.objects.filter(ranking__tender=tender)
        .select_related("bid__organization")
        .order_by("position")
    )
    counts = Bid.objects.filter(tender=tender, opened_at__isnull=False).aggregate(
        opened=Count("pk"),
        disqualified=Count("pk", filter=Q(status=BidStatus.DISQUALIFIED)),
    )
    grade = registry_selectors.grade_current(award.bid.organization)
    today = today or timezone.localdate()
    return ResultNotice(
        tender=tender,
        award=award,
        winner=award.bid.organization,
        winner_grade=grade.grade if grade else "",
        rows=[
            ResultRow(
                position=row.position,
                organization_id=row.bid.organization_id,
                organization_name=row.bid.organization.name,
                organization_uscc=row.bid.organization.uscc,
                price=row.price,
                price_score=row.price_score,
                total=row.total,
                rank=row.rank,
                tied=row.tied,
                won=row.bid_id == award.bid_id,
            )
            for row in rows
        ],
        bids_opened=counts["opened"],
        bids_disqualified=counts["disqualified"],
        contract=Contract.objects.filter(
            tender=tender, status__in=sorted(PUBLIC_CONTRACT_STATES)
        ).first(),
        window_open=tender.status == TenderStatus.AWARDED and today <= award.challenge_deadline,
    )


# --- Contracts ----------------------------------------------------------------------------------


def public_contracts() -> QuerySet[Contract]:
    """Signed contracts (in delivery, completed, terminated too), newest publication first."""
    return (
        Contract.objects.filter(status__in=sorted(PUBLIC_CONTRACT_STATES))
        .select_related("organization", "tender")
        .order_by("-published_at", "-pk")
    )


# --- Performance results ------------------------------------------------------------------------


def published_evaluations() -> QuerySet[PerformanceEvaluation]:
    """Final evaluations with a result (submitted, or answered by the organization) of public
    contracts, newest first: the same rows as the organization's public record."""
    return (
        PerformanceEvaluation.objects.filter(
            kind=EvaluationKind.FINAL,
            status__in=sorted(PERFORMANCE_RESULT_STATES),
            contract__status__in=sorted(PUBLIC_CONTRACT_STATES),
        )
        .select_related("contract__organization", "contract__tender__category")
        .prefetch_related("contract__tender__communities")
        .order_by("-submitted_at", "-pk")
    )


def performance_directory(
    *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[PerformanceEvaluation], PerformanceFilter]:
    """Published evaluations filtered; unbound: all, invalid: none (with the errors)."""
    filterset = PerformanceFilter(data=filters or None, queryset=published_evaluations())
    return _filtered(filterset, ("-submitted_at", "-pk")), filterset


@dataclass(frozen=True)
class GradeShare:
    grade: str
    label: str
    count: int


@dataclass(frozen=True)
class PerformanceSummary:
    """How the listed evaluations came out: their number, mean score and grades."""

    count: int
    mean_score: Decimal | None
    grades: list[GradeShare]


def performance_summary(evaluations: QuerySet[PerformanceEvaluation]) -> PerformanceSummary:
    """The summary of ``evaluations`` (a filtered list) in one query."""
    figures = evaluations.order_by().aggregate(
        count=Count("pk"),
        mean=Avg("total_score"),
        **{grade.value: Count("pk", filter=Q(grade=grade.value)) for grade in PerformanceGrade},
    )
    mean = figures["mean"]
    return PerformanceSummary(
        count=figures["count"],
        mean_score=Decimal(mean).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if mean is not None
        else None,
        grades=[
            GradeShare(grade=grade.value, label=str(grade.label), count=figures[grade.value])
            for grade in PerformanceGrade
        ],
    )


# --- The portal's home page and search ----------------------------------------------------------


@dataclass(frozen=True)
class PortalOverview:
    """Counts and the latest items of each kind of disclosure."""

    tender_count: int
    open_tender_count: int
    open_tenders: list[Tender]
    opening_count: int
    openings: list[Tender]
    result_count: int
    results: list[Award]
    contract_count: int
    contract_value: Decimal
    contracts: list[Contract]
    evaluation_count: int
    evaluations: list[PerformanceEvaluation]
    organization_count: int
    graded_count: int
    abnormal_count: int
    serious_count: int


def portal_overview() -> PortalOverview:
    """The portal's home page: a fixed number of queries, whatever the data."""
    now = timezone.now()
    tenders = public_tenders().aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status=TenderStatus.PUBLISHED, bid_deadline__gt=now)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
    )
    contracts = public_contracts().aggregate(total=Count("pk"), value=Sum("price"))
    organizations = registry_selectors.organization_public_list().aggregate(
        total=Count("pk"), graded=Count("current_grade")
    )
    credit = CreditEntry.objects.filter(removed_on__isnull=True).aggregate(
        abnormal=Count("organization", filter=Q(credit_list=CreditList.ABNORMAL), distinct=True),
        serious=Count("organization", filter=Q(credit_list=CreditList.SERIOUS), distinct=True),
    )
    evaluations = published_evaluations()
    awards = awards_in_force()
    return PortalOverview(
        tender_count=tenders["total"],
        open_tender_count=tenders["open"],
        open_tenders=list(open_tenders(now=now)[:LATEST]),
        opening_count=tenders["opened"],
        openings=list(opened_tenders()[:LATEST]),
        result_count=awards.count(),
        results=list(awards[:LATEST]),
        contract_count=contracts["total"],
        contract_value=contracts["value"] or Decimal(0),
        contracts=list(public_contracts()[:LATEST]),
        evaluation_count=evaluations.count(),
        evaluations=list(evaluations[:LATEST]),
        organization_count=organizations["total"],
        graded_count=organizations["graded"],
        abnormal_count=credit["abnormal"],
        serious_count=credit["serious"],
    )


@dataclass(frozen=True)
class SearchResults:
    """The first matches of each kind and how many there are in all."""

    query: str
    tenders: list[Tender]
    tender_count: int
    contracts: list[Contract]
    contract_count: int
    organizations: list[Organization]
    organization_count: int

    @property
    def total(self) -> int:
        return self.tender_count + self.contract_count + self.organization_count


def portal_search(query: str, *, limit: int = 10) -> SearchResults:
    """Tenders, contracts and organizations matching ``query``, as the public lists find
    them: the lists' own filters over what an anonymous visitor may read, so that "all
    results" on a list shows the same rows."""
    public = AnonymousUser()
    filters = {"q": query}
    tenders, _tender_filter = tender_selectors.tender_directory(public, filters=filters)
    contracts, _contract_filter = contract_directory(public, filters=filters)
    organizations, _org_filter = registry_selectors.organization_directory(public, filters=filters)
    return SearchResults(
        query=query,
        tenders=list(tenders[:limit]),
        tender_count=tenders.count(),
        contracts=list(contracts[:limit]),
        contract_count=contracts.count(),
        organizations=list(organizations[:limit]),
        organization_count=organizations.count(),
    )
