"""Statistics of the policy's shift from blanket subsidies to services bought by open
competition (issue 8 point 5, DESIGN.md 1): what the page ``/statistics/``, the API
``/api/v1/statistics/`` and the annual statistics report (统计年报) show.

Three layers, each testable on its own:

- the aggregation functions (``spending_by_year``, ``breakdown``, ``community_breakdown``,
  ``bidder_stats``, ``price_ratio_stats``, ``grade_table``, ``flag_table``) take plain
  pandas frames and return one small frame or dataclass per figure; they never touch the
  database, so unit tests feed them numbers checked by hand;
- ``statistics_compute`` reads the database in a fixed number of aggregate queries,
  whatever the data size, and hands the rows to those functions;
- ``figures`` turns the result into charts (``reports.charts``), tables and a short text
  per figure in the active language; ``statistics_payload`` into the API's JSON.

Each figure counts what happened in a year: an award by the day its notice was published, a
contract by the day it was signed and published, a payment by the day it was paid (or
released, until the payment is recorded), a subsidy by the start of its period, bids by the
opening of their tender, a performance evaluation by its submission and an integrity flag by
the day a screen first found it. With a year chosen, the figures "per year" run up to that
year (to compare with the years before) and the others count that year only.

Only public information counts: active awards (their notice is published), published
contracts, bids once their tender was opened (a sealed bid is never counted, not even as a
number), final performance evaluations, and of the integrity flags only the confirmed and
resolved ones, as counts per kind. Officials and auditors also see the mid-term evaluations
and every flag count by status. Money is summed as ``Decimal``; ratios and means are floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, IntegerField, Q, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from evaluation.models import (
    PERFORMANCE_RESULT_STATES,
    FlagKind,
    FlagStatus,
    IntegrityFlag,
    PerformanceEvaluation,
)
from evaluation.permissions.integrity import is_integrity_reviewer
from orgs_registry.models import FundingImportKind, FundingImportStatus, ServiceCategory, Subsidy
from reports import charts
from tenders.models import (
    PUBLIC_CONTRACT_STATES,
    Award,
    AwardStatus,
    BidStatus,
    Contract,
    EvaluationKind,
    Milestone,
    MilestoneStatus,
    PerformanceGrade,
    ProcurementMethod,
    Tender,
)

PUBLIC = "public"
OFFICIAL = "official"
AUDIENCES = (PUBLIC, OFFICIAL)

#: Accepted years (a year without data is valid and shows empty figures).
YEAR_MIN = 2000
YEAR_MAX = 2100

#: Statistics may be a few minutes old: the page says "figures as of ...".
CACHE_SECONDS = 300
_CACHE_VERSION = 1

#: Bids of an opened tender that are still valid (a disqualified one is not).
VALID_BID_STATES = tuple(
    state.value
    for state in (
        BidStatus.OPENED,
        BidStatus.QUALIFIED,
        BidStatus.RANKED,
        BidStatus.WON,
        BidStatus.LOST,
    )
)
#: Tenders with this many bids or more share the last bar of the distribution.
BIDS_CAP = 10
#: Award price / budget ceiling: the edges of the distribution (left-closed).
RATIO_EDGES = (0.0, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, math.inf)
GRADES = tuple(PerformanceGrade.values)
# Plain strings, not the enum members: they label frame columns (an enum member hashes by
# its name, so it would not find the column of its value).
PUBLIC_FLAG_STATES = (FlagStatus.CONFIRMED.value, FlagStatus.RESOLVED.value)
FLAG_STATES = tuple(FlagStatus.values)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def audience_for(user: Any) -> str:
    """Officials (approvers included) and auditors see the review figures; everyone else,
    signed in or not, the public ones."""
    return OFFICIAL if is_integrity_reviewer(user) else PUBLIC


@dataclass(frozen=True)
class Filters:
    """What the figures are restricted to: a year (None: every year) and a service
    category code (None: all categories)."""

    year: int | None = None
    category: str | None = None


# --- Aggregation (pure: plain frames in, one small result per figure out) -------------------


def _money_series(amounts: Mapping[int, Decimal], years: Sequence[int]) -> list[Decimal]:
    return [Decimal(amounts.get(year) or ZERO) for year in years]


def _share(part: float, whole: float) -> float | None:
    """``part`` as a percentage of ``whole``; None when there is no whole."""
    return part / whole * 100 if whole else None


def spending_by_year(
    *,
    awarded: Mapping[int, Decimal],
    contracted: Mapping[int, Decimal],
    paid: Mapping[int, Decimal],
    subsidies: Mapping[int, Decimal],
) -> pd.DataFrame:
    """Money per year: the subsidy ledger against what open competition awarded, contracted
    and paid. ``tender_share``: awarded / (awarded + subsidies), in percent (None when the
    year has neither).

    Each argument maps a year to an amount; the frame is indexed by every year any of them
    has, in order, with ``Decimal`` amounts (0.00 where a year has none).
    """
    years = sorted(set(awarded) | set(contracted) | set(paid) | set(subsidies))
    frame = pd.DataFrame(
        {
            "subsidies": _money_series(subsidies, years),
            "awarded": _money_series(awarded, years),
            "contracted": _money_series(contracted, years),
            "paid": _money_series(paid, years),
        },
        index=pd.Index(years, name="year", dtype="int64"),
        dtype=object,
    )
    frame["tender_share"] = [
        _share(float(a), float(a + s))
        for a, s in zip(frame["awarded"], frame["subsidies"], strict=True)
    ]
    return frame


def breakdown(awards: pd.DataFrame, key: str, label: str) -> pd.DataFrame:
    """Awarded money per value of ``key`` (a category, a method): one row per value with its
    ``label``, the number of ``tenders``, the ``amount`` (Decimal) and its ``share`` of the
    total in percent, largest first.

    ``awards``: one row per awarded tender with ``key``, ``label`` and ``amount``.
    """
    if awards.empty:
        return pd.DataFrame(columns=["key", "label", "tenders", "amount", "share"])
    grouped = awards.groupby(key, sort=False).agg(
        label=(label, "first"), tenders=("amount", "size"), amount=("amount", "sum")
    )
    return _with_shares(grouped.reset_index().rename(columns={key: "key"}))


def _with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    frame["amount"] = frame["amount"].map(lambda value: Decimal(value).quantize(CENT))
    total = float(sum(frame["amount"], ZERO))
    frame["share"] = frame["amount"].astype(float) / total * 100 if total else None
    frame = frame.sort_values(["amount", "label"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)[["key", "label", "tenders", "amount", "share"]]


def community_breakdown(
    awards: pd.DataFrame, areas: pd.DataFrame, *, whole_label: str
) -> pd.DataFrame:
    """Awarded money per community. A tender serving several communities is apportioned
    equally among them; one serving no named community (the whole street office) counts
    under ``whole_label`` (key ""). Columns as ``breakdown``; ``tenders`` counts each tender
    once per community it serves.

    ``awards``: ``tender, amount``; ``areas``: ``tender, key, label`` (one row per tender and
    community).
    """
    if awards.empty:
        return breakdown(awards, "tender", "tender")
    served = areas.groupby("tender")["key"].transform("size").astype(object)
    areas = areas.assign(parts=served)
    merged = awards[["tender", "amount"]].merge(areas, on="tender", how="left")
    whole = merged["key"].isna()
    merged.loc[whole, ["key", "label", "parts"]] = ["", whole_label, 1]
    # Decimal / int on object columns: the shares stay exact.
    merged["part"] = merged["amount"] / merged["parts"].astype("int64").astype(object)
    grouped = merged.groupby("key", sort=False).agg(
        label=("label", "first"), tenders=("tender", "size"), amount=("part", "sum")
    )
    return _with_shares(grouped.reset_index())


@dataclass(frozen=True)
class BidderStats:
    """Bids per opened tender: the distribution (``bids`` received → ``tenders``) and the
    figures of the chosen period, and per year ``tenders``, ``mean_bids`` and
    ``single_bid_share`` (percent of tenders with exactly one valid bid)."""

    distribution: pd.DataFrame
    per_year: pd.DataFrame
    tenders: int
    mean_bids: float | None
    single_bid_share: float | None


def bidder_stats(opened: pd.DataFrame, *, year: int | None = None) -> BidderStats:
    """``opened``: one row per opened tender with ``year`` (of the opening), ``received``
    (bids opened) and ``valid`` (those not disqualified). The distribution and the totals
    cover ``year`` (every row when None); ``per_year`` covers every row."""
    if opened.empty:
        empty = pd.DataFrame(columns=["bids", "tenders"])
        per_year = pd.DataFrame(columns=["tenders", "mean_bids", "single_bid_share"])
        return BidderStats(empty, per_year, 0, None, None)
    single = opened["valid"] == 1
    per_year = (
        opened.assign(single=single.astype(float) * 100)
        .groupby("year")
        .agg(
            tenders=("received", "size"),
            mean_bids=("received", "mean"),
            single_bid_share=("single", "mean"),
        )
    )
    chosen = opened if year is None else opened[opened["year"] == year]
    capped = chosen["received"].clip(upper=BIDS_CAP)
    top = int(capped.max()) if len(capped) else -1
    counts = capped.value_counts().reindex(range(top + 1), fill_value=0)
    distribution = pd.DataFrame({"bids": counts.index.astype(int), "tenders": counts.values})
    return BidderStats(
        distribution=distribution,
        per_year=per_year,
        tenders=len(chosen),
        mean_bids=float(chosen["received"].mean()) if len(chosen) else None,
        single_bid_share=float((chosen["valid"] == 1).mean() * 100) if len(chosen) else None,
    )


@dataclass(frozen=True)
class PriceStats:
    """Award prices against budget ceilings: the distribution of the ratio price / budget
    (``bins``: ``low``, ``high``, ``awards``), the mean ratio, the mean saving per tender
    (1 − ratio, percent) and the totals."""

    bins: pd.DataFrame
    awards: int
    mean_ratio: float | None
    mean_saving: float | None
    budget_total: Decimal
    price_total: Decimal
    saving_share: float | None

    @property
    def saving_total(self) -> Decimal:
        return self.budget_total - self.price_total


def price_ratio_stats(awards: pd.DataFrame) -> PriceStats:
    """``awards``: one row per awarded tender with ``amount`` and ``budget`` (Decimal)."""
    edges = list(RATIO_EDGES)
    if awards.empty:
        bins = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "awards": 0})
        return PriceStats(bins, 0, None, None, ZERO, ZERO, None)
    ratio = awards["amount"].astype(float) / awards["budget"].astype(float)
    binned = pd.cut(ratio, edges, right=False, labels=False).dropna().astype("int64")
    counts = binned.value_counts().reindex(range(len(edges) - 1), fill_value=0)
    bins = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "awards": counts.values})
    budget_total = sum(awards["budget"], ZERO)
    price_total = sum(awards["amount"], ZERO)
    return PriceStats(
        bins=bins,
        awards=len(awards),
        mean_ratio=float(ratio.mean()),
        mean_saving=float((1 - ratio).mean() * 100),
        budget_total=budget_total,
        price_total=price_total,
        saving_share=_share(float(budget_total - price_total), float(budget_total)),
    )


def grade_table(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Performance evaluation grades per year: ``evaluations`` has ``year, grade, n``; the
    result is indexed by year with one column per grade (优 良 中 差 order) and ``total``."""
    if evaluations.empty:
        return pd.DataFrame(columns=[*GRADES, "total"], dtype="int64")
    table = evaluations.pivot_table(
        index="year", columns="grade", values="n", aggfunc="sum", fill_value=0
    )
    table = table.reindex(columns=list(GRADES), fill_value=0).astype("int64")
    table["total"] = table.sum(axis=1)
    table.columns.name = None
    return table


def flag_table(flags: pd.DataFrame, *, audience: str) -> pd.DataFrame:
    """Integrity flags per kind: ``flags`` has ``kind, status, n``. The public sees only the
    confirmed and resolved ones (a flag is an allegation until a reviewer confirms it),
    officials and auditors every status. Indexed by kind (kinds with flags only), one column
    per status shown and ``total``, the most frequent kind first."""
    states = list(PUBLIC_FLAG_STATES if audience == PUBLIC else FLAG_STATES)
    if not flags.empty:
        flags = flags[flags["status"].isin(states)]
    if flags.empty:
        return pd.DataFrame(columns=[*states, "total"], dtype="int64")
    table = flags.pivot_table(
        index="kind", columns="status", values="n", aggfunc="sum", fill_value=0
    )
    table = table.reindex(columns=states, fill_value=0).astype("int64")
    table["total"] = table.sum(axis=1)
    table.columns.name = None
    order = {kind: position for position, kind in enumerate(FlagKind.values)}
    table["order"] = [order.get(kind, len(order)) for kind in table.index]
    table = table.sort_values(["total", "order"], ascending=[False, True], kind="stable")
    return table.drop(columns="order")


# --- Reading the database (a fixed number of queries) ---------------------------------------


@dataclass(frozen=True)
class Statistics:
    """Every figure for one ``Filters`` and audience, as computed at ``generated_at``."""

    filters: Filters
    audience: str
    by_year: pd.DataFrame
    by_category: pd.DataFrame
    by_community: pd.DataFrame
    by_method: pd.DataFrame
    bidders: BidderStats
    prices: PriceStats
    grades: pd.DataFrame
    flags: pd.DataFrame
    # Read when computed (not ``timezone.now`` bound at import: tests move the clock).
    generated_at: datetime = field(default_factory=lambda: timezone.now())


def published_years() -> list[int]:
    """Years in which tenders were published, oldest first (one query)."""
    years = (
        Tender.objects.filter(published_at__isnull=False)
        .annotate(year=ExtractYear("published_at"))
        .order_by("year")
        .values_list("year", flat=True)
        .distinct()
    )
    return [int(year) for year in years]


def _english() -> bool:
    return (get_language() or "").startswith("en")


AWARD_COLUMNS = ["tender_id", "amount", "budget", "method", "category", "name_zh", "name_en"]
AREA_COLUMNS = ["tender_id", "key", "name_zh", "name_en"]


def _names(frame: pd.DataFrame) -> pd.Series:
    """The ``name_zh`` / ``name_en`` pair in the active language (Chinese when there is no
    English name)."""
    if not _english():
        return frame["name_zh"]
    return frame["name_en"].where(frame["name_en"].astype(bool), frame["name_zh"])


def _per_year(rows: Iterable[Mapping[str, Any]]) -> dict[int, Decimal]:
    return {int(row["year"]): row["amount"] or ZERO for row in rows if row["year"] is not None}


def _until(queryset: Any, year: int | None) -> Any:
    """The rows of every year up to ``year`` (the figures per year)."""
    return queryset if year is None else queryset.filter(year__lte=year)


def _within(queryset: Any, year: int | None) -> Any:
    """The rows of ``year`` only (every year when None)."""
    return queryset if year is None else queryset.filter(year=year)


def _awards(filters: Filters) -> Any:
    awards = Award.objects.filter(status=AwardStatus.ACTIVE, tender__published_at__isnull=False)
    if filters.category:
        awards = awards.filter(tender__category__code=filters.category)
    return awards.annotate(year=ExtractYear("notice_published_at"))


def _spending_by_year(filters: Filters) -> pd.DataFrame:
    year, category = filters.year, filters.category
    awarded = _until(_awards(filters), year).values("year").annotate(amount=Sum("bid__price"))
    contracts = Contract.objects.filter(
        status__in=sorted(PUBLIC_CONTRACT_STATES), published_at__isnull=False
    ).annotate(year=ExtractYear("published_at"))
    # Paid in the year of the payment; a released payment not yet recorded as paid counts
    # in the year it was released.
    payments = Milestone.objects.filter(
        status=MilestoneStatus.PAID, contract__status__in=sorted(PUBLIC_CONTRACT_STATES)
    ).annotate(
        year=Coalesce(
            ExtractYear("paid_on"), ExtractYear("settled_at"), output_field=IntegerField()
        )
    )
    # The subsidy ledger as currently imported (older imports are history, not money).
    subsidies = Subsidy.objects.filter(
        funding_import__kind=FundingImportKind.SUBSIDY,
        funding_import__is_current=True,
        funding_import__status=FundingImportStatus.DONE,
    ).annotate(year=ExtractYear("period_start"))
    if category:
        contracts = contracts.filter(tender__category__code=category)
        payments = payments.filter(contract__tender__category__code=category)
        subsidies = subsidies.filter(category__code=category)
    return spending_by_year(
        awarded=_per_year(awarded.order_by()),
        contracted=_per_year(
            _until(contracts, year).values("year").annotate(amount=Sum("price")).order_by()
        ),
        paid=_per_year(
            _until(payments, year).values("year").annotate(amount=Sum("released_amount")).order_by()
        ),
        subsidies=_per_year(
            _until(subsidies, year).values("year").annotate(amount=Sum("amount")).order_by()
        ),
    )


def _award_rows(filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The awards of the chosen period (one row each) and the communities they serve."""
    awards = _within(_awards(filters), filters.year)
    rows = awards.values(
        "tender_id",
        amount=F("bid__price"),
        budget=F("tender__budget"),
        method=F("tender__method"),
        category=F("tender__category__code"),
        name_zh=F("tender__category__name_zh"),
        name_en=F("tender__category__name_en"),
    ).order_by("tender_id")
    frame = pd.DataFrame.from_records(list(rows), columns=AWARD_COLUMNS).astype(object)
    frame = frame.rename(columns={"tender_id": "tender"})
    methods = {code: str(label) for code, label in ProcurementMethod.choices}
    frame["method_label"] = frame["method"].map(methods)
    frame["category_label"] = _names(frame)
    served = (
        Tender.communities.through.objects.filter(tender_id__in=awards.values("tender_id"))
        .values(
            "tender_id",
            key=F("community__code"),
            name_zh=F("community__name_zh"),
            name_en=F("community__name_en"),
        )
        .order_by("tender_id", "community__sort_order", "community__code")
    )
    areas = pd.DataFrame.from_records(list(served), columns=AREA_COLUMNS).astype(object)
    areas = areas.rename(columns={"tender_id": "tender"})
    areas["label"] = _names(areas)
    return frame, areas[["tender", "key", "label"]]


def _opened_tenders(filters: Filters) -> pd.DataFrame:
    """One row per opened tender: the bids opened with it and the valid ones. Only opened
    bids are counted: before the opening a bid is sealed, even as a number."""
    opened = Tender.objects.filter(opened_at__isnull=False, published_at__isnull=False)
    if filters.category:
        opened = opened.filter(category__code=filters.category)
    was_opened = Q(bids__opened_at__isnull=False)
    rows = (
        _until(opened.annotate(year=ExtractYear("opened_at")), filters.year)
        .annotate(
            received=Count("bids", filter=was_opened),
            valid=Count("bids", filter=was_opened & Q(bids__status__in=VALID_BID_STATES)),
        )
        .values("pk", "year", "received", "valid")
        .order_by("pk")
    )
    return pd.DataFrame(list(rows), columns=["pk", "year", "received", "valid"]).astype("int64")


def _grades(filters: Filters, audience: str) -> pd.DataFrame:
    evaluations = PerformanceEvaluation.objects.filter(
        status__in=sorted(PERFORMANCE_RESULT_STATES), submitted_at__isnull=False
    ).exclude(grade="")
    if audience == PUBLIC:
        # A final evaluation is part of the organization's public record; a mid-term one
        # is between the office, the assessor and the supplier.
        evaluations = evaluations.filter(kind=EvaluationKind.FINAL)
    if filters.category:
        evaluations = evaluations.filter(contract__tender__category__code=filters.category)
    rows = (
        _until(evaluations.annotate(year=ExtractYear("submitted_at")), filters.year)
        .values("year", "grade")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return grade_table(pd.DataFrame(list(rows), columns=["year", "grade", "n"]))


def _flags(filters: Filters, audience: str) -> pd.DataFrame:
    """Flag counts per kind and status. Not restricted by category: a flag is about a
    person, an organization or an assessor as often as about a tender."""
    flags = IntegrityFlag.objects.all()
    if audience == PUBLIC:
        flags = flags.filter(status__in=PUBLIC_FLAG_STATES)
    rows = (
        _within(flags.annotate(year=ExtractYear("first_seen_at")), filters.year)
        .values("kind", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return flag_table(pd.DataFrame(list(rows), columns=["kind", "status", "n"]), audience=audience)


def statistics_compute(*, filters: Filters, audience: str) -> Statistics:
    """Every figure, from the database: nine queries whatever the amount of data."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    awards, areas = _award_rows(filters)
    return Statistics(
        filters=filters,
        audience=audience,
        by_year=_spending_by_year(filters),
        by_category=breakdown(awards, "category", "category_label"),
        by_community=community_breakdown(awards, areas, whole_label=_("Whole street office")),
        by_method=breakdown(awards, "method", "method_label"),
        bidders=bidder_stats(_opened_tenders(filters), year=filters.year),
        prices=price_ratio_stats(awards),
        grades=_grades(filters, audience),
        flags=_flags(filters, audience),
    )


# --- Figures: charts, tables and a short text, in the active language ------------------------


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    """The numbers of a figure. The first cell of each row names it (a row header)."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def lines(self) -> list[tuple[str, list[tuple[str, bool]]]]:
        """Each row as its header and its other cells with whether they are numbers (what a
        template needs, as it cannot zip)."""
        numeric = [column.numeric for column in self.columns[1:]]
        return [(row[0], list(zip(row[1:], numeric, strict=True))) for row in self.rows]


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    summary: str
    table: Table
    chart: charts.Chart | None = None
    note: str = ""


def money(value: Decimal | None) -> str:
    """An amount in yuan with thousands separators: 1,234,567.00."""
    return f"{Decimal(value or 0):,.2f}"


def percent(value: float | None) -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.1f}%"
    )


def _number(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def _ten_thousands(values: Iterable[Decimal]) -> list[float]:
    """Amounts in units of 10,000 yuan (万元), as charts show them."""
    return [round(float(value) / 10_000, 1) for value in values]


def _grouped_width(groups: int) -> float:
    """Inches for a grouped bar chart: narrow for a year or two, the full 6 from five."""
    return min(6.0, 2.5 + 0.8 * groups)


def _of_period(frame: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The rows of a frame indexed by year that belong to the chosen period."""
    return frame if year is None else frame.loc[frame.index == year]


def _when(filters: Filters) -> str:
    """The opening of a summary: "In 2026" or "Across all years"."""
    if filters.year is None:
        return _("Across all years")
    return _("In %(year)s") % {"year": filters.year}


def _nothing(filters: Filters, *, per_year: str, overall: str) -> str:
    return overall if filters.year is None else per_year % {"year": filters.year}


def _no_award(filters: Filters) -> str:
    return _nothing(
        filters,
        per_year=_("No tender was awarded in %(year)s."),
        overall=_("No tender was awarded yet."),
    )


def _shift_figure(stats: Statistics) -> Figure:
    frame = stats.by_year
    years = [str(year) for year in frame.index]
    chosen = _of_period(frame, stats.filters.year)
    awarded = sum(chosen["awarded"], ZERO)
    subsidies = sum(chosen["subsidies"], ZERO)
    paid = sum(chosen["paid"], ZERO)
    share = _share(float(awarded), float(awarded + subsidies))
    summary = _(
        "%(when)s, ¥%(awarded)s was awarded through open competition and ¥%(subsidies)s "
        "was granted as subsidies: %(share)s of this money went through competition. "
        "¥%(paid)s was paid to suppliers on completed milestones."
    ) % {
        "when": _when(stats.filters),
        "awarded": money(awarded),
        "subsidies": money(subsidies),
        "share": percent(share),
        "paid": money(paid),
    }
    title = _("Open competition against subsidies, per year")
    chart = None
    if len(frame):
        chart = charts.grouped_bar_chart(
            years,
            {
                _("Subsidies"): _ten_thousands(frame["subsidies"]),
                _("Awarded by tender"): _ten_thousands(frame["awarded"]),
                _("Paid on milestones"): _ten_thousands(frame["paid"]),
            },
            title=title,
            unit=_("10,000 yuan"),
            width=_grouped_width(len(years)),
        )
    rows = tuple(
        (
            str(year),
            money(row["subsidies"]),
            money(row["awarded"]),
            money(row["contracted"]),
            money(row["paid"]),
            percent(row["tender_share"]),
        )
        for year, row in frame.iterrows()
    )
    table = Table(
        columns=(
            Column(_("Year")),
            Column(_("Subsidies (¥)"), numeric=True),
            Column(_("Awarded by tender (¥)"), numeric=True),
            Column(_("Contracted (¥)"), numeric=True),
            Column(_("Paid (¥)"), numeric=True),
            Column(_("Share through competition"), numeric=True),
        ),
        rows=rows,
    )
    note = _(
        "Subsidies: the subsidy ledger as currently imported, by the year their period starts. "
        "Share through competition: awarded / (awarded + subsidies)."
    )
    return Figure("spending_by_year", title, summary, table, chart, note)


def _breakdown_figure(
    key: str, frame: pd.DataFrame, *, title: str, heading: str, stats: Statistics, note: str = ""
) -> Figure:
    chart = None
    if len(frame):
        chart = charts.bar_chart(
            list(frame["label"]),
            _ten_thousands(frame["amount"]),
            title=title,
            unit=_("10,000 yuan"),
            horizontal=True,
            height=max(2.0, 0.45 * len(frame) + 1.0),
        )
        top = frame.iloc[0]
        summary = _(
            "%(when)s, the largest share went to %(label)s: ¥%(amount)s, %(share)s of the "
            "awarded money."
        ) % {
            "when": _when(stats.filters),
            "label": top["label"],
            "amount": money(top["amount"]),
            "share": percent(top["share"]),
        }
    else:
        summary = _no_award(stats.filters)
    rows = tuple(
        (str(row["label"]), str(row["tenders"]), money(row["amount"]), percent(row["share"]))
        for _index, row in frame.iterrows()
    )
    table = Table(
        columns=(
            Column(heading),
            Column(_("Tenders awarded"), numeric=True),
            Column(_("Awarded (¥)"), numeric=True),
            Column(_("Share"), numeric=True),
        ),
        rows=rows,
    )
    return Figure(key, title, summary, table, chart, note)


def _bidders_figure(stats: Statistics) -> Figure:
    bidders = stats.bidders
    title = _("Bids received per opened tender")
    chart = None
    labels = [
        f"{bids}+" if bids == BIDS_CAP else str(bids) for bids in bidders.distribution["bids"]
    ]
    if bidders.tenders:
        chart = charts.bar_chart(
            labels,
            [int(n) for n in bidders.distribution["tenders"]],
            title=title,
            unit=_("Tenders"),
        )
        summary = ngettext(
            "%(when)s, %(count)s tender was opened, with %(mean)s bids on average; "
            "%(single)s of the tenders had a single valid bid.",
            "%(when)s, %(count)s tenders were opened, with %(mean)s bids on average; "
            "%(single)s of the tenders had a single valid bid.",
            bidders.tenders,
        ) % {
            "when": _when(stats.filters),
            "count": bidders.tenders,
            "mean": _number(bidders.mean_bids),
            "single": percent(bidders.single_bid_share),
        }
    else:
        summary = _nothing(
            stats.filters,
            per_year=_("No tender was opened in %(year)s."),
            overall=_("No tender was opened yet."),
        )
    table = Table(
        columns=(Column(_("Bids received")), Column(_("Tenders"), numeric=True)),
        rows=tuple(
            (label, str(int(n)))
            for label, n in zip(labels, bidders.distribution["tenders"], strict=True)
        ),
    )
    note = _(
        "Bids are counted once their tender is opened: before the opening they are sealed. "
        "A valid bid is one not disqualified in the review."
    )
    return Figure("bidders", title, summary, table, chart, note)


def _bidders_per_year_figure(stats: Statistics) -> Figure:
    frame = stats.bidders.per_year
    title = _("Competition per year")
    chart = None
    if len(frame):
        chart = charts.bar_chart(
            [str(year) for year in frame.index],
            [round(float(value), 1) for value in frame["mean_bids"]],
            title=_("Mean bids per opened tender, per year"),
            unit=_("Bids"),
        )
    rows = tuple(
        (
            str(year),
            str(int(row["tenders"])),
            _number(float(row["mean_bids"])),
            percent(float(row["single_bid_share"])),
        )
        for year, row in frame.iterrows()
    )
    table = Table(
        columns=(
            Column(_("Year")),
            Column(_("Tenders opened"), numeric=True),
            Column(_("Mean bids per tender"), numeric=True),
            Column(_("Single valid bid"), numeric=True),
        ),
        rows=rows,
    )
    summary = _(
        "The number of bids per tender and the share of tenders with a single valid bid "
        "(red flag R018) show how much competition the purchases meet."
    )
    return Figure("bidders_per_year", title, summary, table, chart)


def ratio_label(low: float, high: float) -> str:
    if low == 0:
        return _("under %(high)s%%") % {"high": f"{high * 100:.0f}"}
    if math.isinf(high):
        return _("%(low)s%% or more") % {"low": f"{low * 100:.0f}"}
    return f"{low * 100:.0f}–{high * 100:.0f}%"


def _prices_figure(stats: Statistics) -> Figure:
    prices = stats.prices
    title = _("Award price against the budget ceiling")
    labels = [
        ratio_label(low, high)
        for low, high in zip(prices.bins["low"], prices.bins["high"], strict=True)
    ]
    chart = None
    if prices.awards:
        chart = charts.bar_chart(
            labels, [int(n) for n in prices.bins["awards"]], title=title, unit=_("Awards")
        )
        summary = _(
            "%(when)s, awards cost on average %(ratio)s of their budget ceiling, a mean "
            "saving of %(saving)s per tender; together ¥%(saved)s (%(share)s) below the "
            "budgets of ¥%(budget)s."
        ) % {
            "when": _when(stats.filters),
            "ratio": percent(prices.mean_ratio * 100 if prices.mean_ratio is not None else None),
            "saving": percent(prices.mean_saving),
            "saved": money(prices.saving_total),
            "share": percent(prices.saving_share),
            "budget": money(prices.budget_total),
        }
    else:
        summary = _no_award(stats.filters)
    table = Table(
        columns=(Column(_("Price / budget")), Column(_("Awards"), numeric=True)),
        rows=tuple(
            (label, str(int(n))) for label, n in zip(labels, prices.bins["awards"], strict=True)
        ),
    )
    return Figure("price_to_budget", title, summary, table, chart)


def grade_labels() -> list[str]:
    return [str(PerformanceGrade(grade).label) for grade in GRADES]


def _grades_figure(stats: Statistics) -> Figure:
    frame = stats.grades
    title = _("Performance evaluation grades per year")
    labels = grade_labels()
    chart = None
    if len(frame):
        chart = charts.grouped_bar_chart(
            [str(year) for year in frame.index],
            {
                label: [int(n) for n in frame[grade]]
                for label, grade in zip(labels, GRADES, strict=True)
            },
            title=title,
            unit=_("Evaluations"),
            width=_grouped_width(len(frame)),
        )
    rows = tuple(
        (str(year), *(str(int(row[grade])) for grade in GRADES), str(int(row["total"])))
        for year, row in frame.iterrows()
    )
    table = Table(
        columns=(
            Column(_("Year")),
            *(Column(label, numeric=True) for label in labels),
            Column(_("Total"), numeric=True),
        ),
        rows=rows,
    )
    if stats.audience == PUBLIC:
        note = _("Final evaluations by independent assessors, by the year of submission.")
    else:
        note = _("Mid-term and final evaluations, by the year of submission.")
    chosen = _of_period(frame, stats.filters.year)
    total = int(chosen["total"].sum()) if len(chosen) else 0
    if total:
        good = int(chosen["excellent"].sum() + chosen["good"].sum())
        summary = ngettext(
            "%(when)s, %(count)s evaluation was filed; %(good)s of them graded excellent or good.",
            "%(when)s, %(count)s evaluations were filed; %(good)s of them graded excellent "
            "or good.",
            total,
        ) % {"when": _when(stats.filters), "count": total, "good": good}
    else:
        summary = _nothing(
            stats.filters,
            per_year=_("No performance evaluation was filed in %(year)s."),
            overall=_("No performance evaluation was filed yet."),
        )
    return Figure("evaluation_grades", title, summary, table, chart, note)


def flag_state_labels(audience: str) -> list[tuple[str, str]]:
    states = PUBLIC_FLAG_STATES if audience == PUBLIC else FLAG_STATES
    return [(str(state), str(FlagStatus(state).label)) for state in states]


def _flags_figure(stats: Statistics) -> Figure:
    frame = stats.flags
    title = _("Integrity flags by kind")
    labels = [
        str(FlagKind(kind).label) if kind in FlagKind.values else kind for kind in frame.index
    ]
    states = flag_state_labels(stats.audience)
    chart = None
    if len(frame):
        chart = charts.bar_chart(
            labels,
            [int(n) for n in frame["total"]],
            title=title,
            unit=_("Flags"),
            horizontal=True,
            height=max(2.0, 0.45 * len(frame) + 1.0),
        )
    rows = tuple(
        (label, *(str(int(row[state])) for state, _label in states), str(int(row["total"])))
        for label, (_kind, row) in zip(labels, frame.iterrows(), strict=True)
    )
    table = Table(
        columns=(
            Column(_("Kind")),
            *(Column(label, numeric=True) for _state, label in states),
            Column(_("Total"), numeric=True),
        ),
        rows=rows,
    )
    total = int(frame["total"].sum()) if len(frame) else 0
    if stats.audience == PUBLIC:
        summary = ngettext(
            "%(when)s, reviewers confirmed %(count)s integrity flag.",
            "%(when)s, reviewers confirmed %(count)s integrity flags.",
            total,
        ) % {"when": _when(stats.filters), "count": total}
        note = _(
            "Only flags a reviewer confirmed (and those since resolved) are counted: an open "
            "flag is an allegation until it is reviewed. Flags are counted by the year a "
            "screen first found them, for all categories."
        )
    else:
        summary = ngettext(
            "%(when)s, the screens raised %(count)s integrity flag.",
            "%(when)s, the screens raised %(count)s integrity flags.",
            total,
        ) % {"when": _when(stats.filters), "count": total}
        note = _(
            "Every status, for officials and auditors; the public sees the confirmed and "
            "resolved counts only. Flags are counted by the year a screen first found them, "
            "for all categories."
        )
    return Figure("flags", title, summary, table, chart, note)


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    description: str = ""


def key_figures(stats: Statistics) -> list[KeyFigure]:
    """The headline numbers of the chosen period, for the top of the page and the report."""
    year = stats.filters.year
    spending = _of_period(stats.by_year, year)
    awarded = sum(spending["awarded"], ZERO)
    subsidies = sum(spending["subsidies"], ZERO)
    grades = _of_period(stats.grades, year)
    evaluations = int(grades["total"].sum()) if len(grades) else 0
    good = int(grades["excellent"].sum() + grades["good"].sum()) if len(grades) else 0
    flags = int(stats.flags["total"].sum()) if len(stats.flags) else 0
    bidders, prices = stats.bidders, stats.prices
    return [
        KeyFigure(_("Awarded through open competition"), f"¥{money(awarded)}"),
        KeyFigure(_("Granted as subsidies"), f"¥{money(subsidies)}"),
        KeyFigure(
            _("Share through competition"),
            percent(_share(float(awarded), float(awarded + subsidies))),
        ),
        KeyFigure(_("Paid on milestones"), f"¥{money(sum(spending['paid'], ZERO))}"),
        KeyFigure(
            _("Tenders opened"),
            str(bidders.tenders),
            _("%(mean)s bids on average") % {"mean": _number(bidders.mean_bids)},
        ),
        KeyFigure(_("Tenders with a single valid bid"), percent(bidders.single_bid_share)),
        KeyFigure(
            _("Mean saving against the budget"),
            percent(prices.mean_saving),
            ngettext("%(count)s award", "%(count)s awards", prices.awards)
            % {"count": prices.awards},
        ),
        KeyFigure(
            _("Performance evaluations"),
            str(evaluations),
            _("%(good)s excellent or good") % {"good": good},
        ),
        KeyFigure(
            _("Confirmed integrity flags") if stats.audience == PUBLIC else _("Integrity flags"),
            str(flags),
        ),
    ]


def figures(stats: Statistics) -> list[Figure]:
    """Every figure of ``stats`` with its chart, table and text, in the active language."""
    return [
        _shift_figure(stats),
        _breakdown_figure(
            "spending_by_category",
            stats.by_category,
            title=_("Awarded money by service category"),
            heading=_("Service category"),
            stats=stats,
        ),
        _breakdown_figure(
            "spending_by_community",
            stats.by_community,
            title=_("Awarded money by community"),
            heading=_("Community"),
            stats=stats,
            note=_(
                "A project serving several communities is divided equally among them; one "
                "serving the whole street office is counted on its own line."
            ),
        ),
        _breakdown_figure(
            "spending_by_method",
            stats.by_method,
            title=_("Awarded money by procurement method"),
            heading=_("Procurement method"),
            stats=stats,
        ),
        _bidders_figure(stats),
        _bidders_per_year_figure(stats),
        _prices_figure(stats),
        _grades_figure(stats),
        _flags_figure(stats),
    ]


# --- JSON (the API) ------------------------------------------------------------------------


def _optional(value: float | None, places: int = 2) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(float(value), places)


def _breakdown_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "key": row["key"],
            "label": row["label"],
            "tenders": int(row["tenders"]),
            "amount": row["amount"],
            "share": _optional(row["share"], 1),
        }
        for _index, row in frame.iterrows()
    ]


def statistics_payload(stats: Statistics) -> dict[str, Any]:
    """The figures as plain data (amounts as ``Decimal``, shares in percent)."""
    bidders, prices = stats.bidders, stats.prices
    state_labels = dict(flag_state_labels(stats.audience))
    return {
        "year": stats.filters.year,
        "category": stats.filters.category,
        "audience": stats.audience,
        "generated_at": stats.generated_at,
        "spending_by_year": [
            {
                "year": int(year),
                "subsidies": row["subsidies"],
                "awarded": row["awarded"],
                "contracted": row["contracted"],
                "paid": row["paid"],
                "tender_share": _optional(row["tender_share"], 1),
            }
            for year, row in stats.by_year.iterrows()
        ],
        "spending_by_category": _breakdown_rows(stats.by_category),
        "spending_by_community": _breakdown_rows(stats.by_community),
        "spending_by_method": _breakdown_rows(stats.by_method),
        "bidders": {
            "tenders": bidders.tenders,
            "mean_bids": _optional(bidders.mean_bids),
            "single_bid_share": _optional(bidders.single_bid_share, 1),
            "distribution": [
                {"bids": int(bids), "tenders": int(n), "or_more": int(bids) == BIDS_CAP}
                for bids, n in zip(
                    bidders.distribution["bids"], bidders.distribution["tenders"], strict=True
                )
            ],
            "per_year": [
                {
                    "year": int(year),
                    "tenders": int(row["tenders"]),
                    "mean_bids": _optional(float(row["mean_bids"])),
                    "single_bid_share": _optional(float(row["single_bid_share"]), 1),
                }
                for year, row in bidders.per_year.iterrows()
            ],
        },
        "price_to_budget": {
            "awards": prices.awards,
            "mean_ratio": _optional(prices.mean_ratio, 4),
            "mean_saving": _optional(prices.mean_saving, 1),
            "budget_total": prices.budget_total,
            "price_total": prices.price_total,
            "saving_total": prices.saving_total,
            "saving_share": _optional(prices.saving_share, 1),
            "distribution": [
                {
                    "low": float(low),
                    "high": None if math.isinf(high) else float(high),
                    "awards": int(n),
                }
                for low, high, n in zip(
                    prices.bins["low"], prices.bins["high"], prices.bins["awards"], strict=True
                )
            ],
        },
        "evaluation_grades": [
            {
                "year": int(year),
                **{grade: int(row[grade]) for grade in GRADES},
                "total": int(row["total"]),
            }
            for year, row in stats.grades.iterrows()
        ],
        "flags": [
            {
                "kind": kind,
                "label": str(FlagKind(kind).label) if kind in FlagKind.values else kind,
                "counts": {state: int(row[state]) for state in state_labels},
                "total": int(row["total"]),
            }
            for kind, row in stats.flags.iterrows()
        ],
    }


# --- Cached reports ------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What a page or a document shows: the statistics and their figures."""

    stats: Statistics
    key_figures: list[KeyFigure]
    figures: list[Figure]

    @property
    def generated_at(self) -> datetime:
        return self.stats.generated_at


def _cache_key(filters: Filters, audience: str) -> str:
    return ":".join(
        (
            "reports.statistics",
            str(_CACHE_VERSION),
            audience,
            str(filters.year or "all"),
            filters.category or "all",
            get_language() or settings.LANGUAGE_CODE,
        )
    )


def report_for(*, filters: Filters, audience: str) -> Report:
    """The figures for ``filters`` and ``audience`` in the active language, computed at most
    once every ``CACHE_SECONDS`` (statistics may be a few minutes old; the page says when
    they were computed)."""
    key = _cache_key(filters, audience)
    report = cache.get(key)
    if report is None:
        stats = statistics_compute(filters=filters, audience=audience)
        report = Report(stats=stats, key_figures=key_figures(stats), figures=figures(stats))
        cache.set(key, report, CACHE_SECONDS)
    return report


@dataclass(frozen=True)
class Choices:
    """What the filters offer: the years with published tenders (newest first) and the
    service categories (code, name)."""

    years: list[int]
    categories: list[tuple[str, str]]

    @property
    def latest_year(self) -> int | None:
        return self.years[0] if self.years else None


def filter_choices() -> Choices:
    """The filters' choices, cached like the figures (two queries on a miss)."""
    key = ":".join(
        (
            "reports.statistics.choices",
            str(_CACHE_VERSION),
            get_language() or settings.LANGUAGE_CODE,
        )
    )
    choices = cache.get(key)
    if choices is None:
        categories = [(category.code, category.name) for category in ServiceCategory.objects.all()]
        choices = Choices(years=sorted(published_years(), reverse=True), categories=categories)
        cache.set(key, choices, CACHE_SECONDS)
    return choices
