"""The statistics dashboard (issue 8 point 5): each figure on hand-checked numbers, the seal
and the audiences, constant queries, the page, the API and the annual report (统计年报).

The aggregation functions are checked on plain frames first. The database figures are then
checked on one world built once for the module with the real services:

- tender A (``tests.evaluation.performance_support.build_active``): elderly care, open
  tender, budget 500,000.00, four bids opened on 2026-09-14, awarded at 480,000.00 on
  2026-09-30, contract signed 2026-10-16, active from 2027-01-04; its mid-term evaluation
  (85 points: good) and final evaluation (95: excellent) are filed on 2027-01-04 and release
  192,000.00 and 144,000.00;
- tender B: elderly care, open tender, one bid, opened 2026-03-27 (and failed: too few);
- tender C: youth services, competitive consultation, two bids, opened 2026-03-27;
- tender D: published 2026-04-01 with two sealed bids, never opened;
- the subsidy ledger: an old import (999,999.00 in 2026, replaced) and the current one:
  40,000.00 and 20,000.00 starting in 2026, 60,000.00 starting in 2027;
- the integrity screens run on 2027-01-05; of their flags one is confirmed, one dismissed
  and one confirmed then resolved.

So in 2026: 480,000.00 awarded against 60,000.00 of subsidies (88.9% through competition),
three tenders opened with 1, 2 and 4 bids (mean 2.33, single valid bid 1 in 3: 33.3%), one
award at 96% of its budget (saving 4.0%). In 2027: 336,000.00 paid, 60,000.00 of subsidies.
"""

from __future__ import annotations

import io
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pandas as pd
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from evaluation.models import FlagKind, FlagSeverity, IntegrityFlag
from evaluation.services import integrity as integrity_services
from marketplace.dashboard import nav_for
from marketplace.models import Role
from orgs_registry.models import Organization, ServiceCategory
from reports import documents, statistics
from reports.statistics import Filters
from tenders import services as tender_services
from tenders.models import Bid, BidStatus, Tender
from tests.conftest import building, module_database, patch_clock, persona
from tests.evaluation.conftest import open_tender
from tests.evaluation.integrity_support import import_subsidies, subsidy
from tests.evaluation.performance_support import build_active, evaluate
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
D = Decimal


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- The aggregation functions on plain data -------------------------------------------------


def test_spending_by_year_sets_competition_against_subsidies():
    frame = statistics.spending_by_year(
        awarded={2025: D("100.00"), 2026: D("300.00")},
        contracted={2026: D("250.00")},
        paid={2026: D("50.00")},
        subsidies={2025: D("300.00")},
    )
    assert list(frame.index) == [2025, 2026]
    assert list(frame["subsidies"]) == [D("300.00"), D("0.00")]
    assert list(frame["contracted"]) == [D("0.00"), D("250.00")]
    # 100 / (100 + 300) and 300 / (300 + 0)
    assert list(frame["tender_share"]) == [25.0, 100.0]


def test_a_year_with_neither_awards_nor_subsidies_has_no_share():
    frame = statistics.spending_by_year(
        awarded={}, contracted={}, paid={2027: D("5.00")}, subsidies={}
    )
    assert pd.isna(frame.loc[2027, "tender_share"])


AWARDS = pd.DataFrame(
    {
        "tender": [1, 2, 3],
        "amount": [D("90.00"), D("60.00"), D("30.00")],
        "budget": [D("100.00"), D("100.00"), D("50.00")],
        "category": ["elderly_care", "child_youth", "elderly_care"],
        "category_label": ["养老服务", "儿童与青少年服务", "养老服务"],
    }
)


def test_breakdown_sums_awarded_money_per_value_largest_first():
    frame = statistics.breakdown(AWARDS, "category", "category_label")
    assert list(frame["key"]) == ["elderly_care", "child_youth"]
    assert list(frame["tenders"]) == [2, 1]
    assert list(frame["amount"]) == [D("120.00"), D("60.00")]
    assert [round(share, 2) for share in frame["share"]] == [66.67, 33.33]


def test_a_tender_serving_several_communities_is_divided_equally():
    areas = pd.DataFrame(
        {
            "tender": [1, 1, 2],
            "key": ["xinhua", "bayi", "xinhua"],
            "label": ["新华", "八一", "新华"],
        }
    )
    frame = statistics.community_breakdown(AWARDS, areas, whole_label="全街道").set_index("key")
    # xinhua: 90 / 2 + 60; bayi: 90 / 2; tender 3 serves the whole street office.
    assert frame.loc["xinhua", "amount"] == D("105.00")
    assert frame.loc["bayi", "amount"] == D("45.00")
    assert frame.loc["", "amount"] == D("30.00")
    assert frame.loc["", "label"] == "全街道"
    assert list(frame["tenders"]) == [2, 1, 1]
    assert sum(frame["amount"]) == D("180.00")


def test_bidder_stats_count_bids_and_single_valid_bids():
    opened = pd.DataFrame(
        {
            "year": [2025, 2026, 2026, 2026],
            "received": [3, 1, 2, 4],
            # The 2025 tender had three bids of which two were disqualified: one valid.
            "valid": [1, 1, 2, 4],
        }
    )
    stats = statistics.bidder_stats(opened, year=2026)
    assert stats.tenders == 3
    assert stats.mean_bids == pytest.approx(7 / 3)
    assert stats.single_bid_share == pytest.approx(100 / 3)
    assert dict(zip(stats.distribution["bids"], stats.distribution["tenders"], strict=True)) == {
        0: 0,
        1: 1,
        2: 1,
        3: 0,
        4: 1,
    }
    per_year = stats.per_year
    assert list(per_year["tenders"]) == [1, 3]
    assert list(per_year["single_bid_share"]) == [100.0, pytest.approx(100 / 3)]
    assert statistics.bidder_stats(opened).tenders == 4


def test_many_bids_share_the_last_bar():
    opened = pd.DataFrame({"year": [2026, 2026], "received": [12, 10], "valid": [12, 10]})
    stats = statistics.bidder_stats(opened)
    assert stats.distribution.iloc[-1].to_dict() == {"bids": statistics.BIDS_CAP, "tenders": 2}
    assert stats.mean_bids == 11


def test_price_ratio_stats_bin_the_award_price_against_the_budget():
    prices = statistics.price_ratio_stats(AWARDS)
    # Ratios 0.9, 0.6 and 0.6.
    bins = dict(zip(prices.bins["low"], prices.bins["awards"], strict=True))
    assert bins == {0.0: 0, 0.6: 2, 0.7: 0, 0.8: 0, 0.9: 1, 0.95: 0, 1.0: 0}
    assert prices.mean_ratio == pytest.approx(0.7)
    assert prices.mean_saving == pytest.approx(30.0)
    assert prices.budget_total == D("250.00")
    assert prices.price_total == D("180.00")
    assert prices.saving_total == D("70.00")
    assert prices.saving_share == pytest.approx(28.0)


def test_grade_table_counts_grades_per_year_in_grade_order():
    rows = pd.DataFrame(
        {"year": [2026, 2026, 2027], "grade": ["poor", "excellent", "good"], "n": [1, 2, 3]}
    )
    table = statistics.grade_table(rows)
    assert list(table.columns) == ["excellent", "good", "fair", "poor", "total"]
    assert table.loc[2026].to_dict() == {
        "excellent": 2,
        "good": 0,
        "fair": 0,
        "poor": 1,
        "total": 3,
    }
    assert table.loc[2027, "total"] == 3


FLAG_ROWS = pd.DataFrame(
    {
        "kind": ["R018_single_bid", "R018_single_bid", "subsidy_overlap", "price_screen"],
        "status": ["confirmed", "open", "resolved", "dismissed"],
        "n": [2, 5, 1, 3],
    }
)


def test_the_public_sees_confirmed_and_resolved_flags_only():
    table = statistics.flag_table(FLAG_ROWS, audience=statistics.PUBLIC)
    assert list(table.columns) == ["confirmed", "resolved", "total"]
    assert table["total"].to_dict() == {"R018_single_bid": 2, "subsidy_overlap": 1}


def test_officials_see_every_flag_status():
    table = statistics.flag_table(FLAG_ROWS, audience=statistics.OFFICIAL)
    assert list(table.columns) == ["open", "confirmed", "dismissed", "resolved", "total"]
    assert list(table.index) == ["R018_single_bid", "price_screen", "subsidy_overlap"]
    assert table.loc["R018_single_bid"].to_dict() == {
        "open": 5,
        "confirmed": 2,
        "dismissed": 0,
        "resolved": 0,
        "total": 7,
    }


def test_empty_data_gives_empty_figures():
    empty = statistics.price_ratio_stats(AWARDS.iloc[0:0])
    assert empty.awards == 0
    assert empty.mean_ratio is None
    assert statistics.bidder_stats(pd.DataFrame(columns=["year", "received", "valid"])).tenders == 0
    assert statistics.flag_table(FLAG_ROWS.iloc[0:0], audience=statistics.PUBLIC).empty
    assert statistics.grade_table(pd.DataFrame(columns=["year", "grade", "n"])).empty


# --- The world built with the real services --------------------------------------------------


@dataclass
class World:
    tender_a: int
    tender_d: int
    flag_ids: dict[str, int]
    built_until: datetime
    clock: Any = None


def _open_small(clock, *, prices: list[str], draft: bool = False, **overrides) -> Tender:
    """A tender published now with one bid per price, opened at its deadline and not
    reviewed (an open tender with fewer than three bids fails at the opening). ``draft``:
    one more organization leaves its bid a draft, which the opening ignores."""
    official = persona("official", Role.OFFICIAL)
    publish = partial(
        publish_tender,
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code=overrides.pop("category", "elderly_care")),
    )

    def make_tender(**options) -> Tender:
        tender = publish(**options)
        if draft:
            bidder = make_bidder("未提交投标机构")
            tender_services.bid_prepare(
                tender=tender, actor=bidder.admin, price=Decimal("150000"), proposal="草稿"
            )
        return tender

    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=persona("second_official", Role.OFFICIAL),
        prices=prices,
        review=False,
        **overrides,
    )
    return opened.tender


def build_world(clock, media) -> World:
    clock.set(local(2026, 3, 2, 9, 0))
    _open_small(clock, prices=["300000"], title="解放碑街道助餐服务项目")
    _open_small(
        clock,
        prices=["180000", "190000"],
        category="child_youth",
        method="competitive_consultation",
        title="解放碑街道青少年托管服务项目",
        budget=Decimal("200000.00"),
        draft=True,
    )
    clock.set(local(2026, 4, 1, 9, 0))
    official = persona("official", Role.OFFICIAL)
    sealed = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code="disability"),
        title="解放碑街道助残服务项目",
    )
    for index in range(2):
        submit_bid(sealed, make_bidder(f"密封投标{index}号"), f"{400000 + index * 1000}")

    built = build_active(clock)
    contract = built.contract
    evaluate(built, "mid_term", built.assessor("independent"), "0.85")
    evaluate(built, "final", built.assessor("second"), "0.95")

    others = list(Organization.objects.exclude(pk=contract.organization_id).order_by("pk")[:2])
    import_subsidies(media, [subsidy(others[0], amount="999999", start="2026-01-01")], "old.csv")
    import_subsidies(
        media,
        [
            subsidy(others[0], purpose="child_youth", amount="40000", start="2026-03-01"),
            subsidy(others[1], purpose="culture_sports", amount="20000", start="2026-01-01"),
            subsidy(contract.organization, amount="60000", start="2027-01-01", end="2027-12-31"),
        ],
        "ledger.csv",
    )

    clock.set(local(2027, 1, 5, 9, 0))
    integrity_services.screens_run(actor=official)
    # The figures need flags in every review state and one left open; the screens find two
    # or more here (which ones depends on the shipped collusion model): short periods (R003)
    # make up the rest, as a run would store them.
    found = IntegrityFlag.objects.count()
    for number in range(max(0, 4 - found)):
        IntegrityFlag.objects.create(
            kind=FlagKind.R003_SHORT_PERIOD,
            severity=FlagSeverity.LOW,
            fingerprint=f"statistics-r003-{number}",
            evidence_digest="-",
            subject_label=f"short period {number}",
            first_seen_at=timezone.now(),
            last_seen_at=timezone.now(),
        )
    flags = list(IntegrityFlag.objects.order_by("pk"))
    assert len(flags) >= 4, [flag.kind for flag in flags]
    confirmed, dismissed, resolved = flags[:3]
    integrity_services.flag_confirm(flag=confirmed, actor=official, note="属实")
    integrity_services.flag_dismiss(flag=dismissed, actor=official, reason="误报")
    integrity_services.flag_confirm(flag=resolved, actor=official, note="属实")
    integrity_services.flag_resolve(
        flag=IntegrityFlag.objects.get(pk=resolved.pk), actor=official, resolution="已整改"
    )
    return World(
        tender_a=contract.tender_id,
        tender_d=sealed.pk,
        flag_ids={"confirmed": confirmed.pk, "dismissed": dismissed.pk, "resolved": resolved.pk},
        built_until=clock.current,
    )


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=local(2026, 3, 2, 9, 0), media=tmp_path_factory.mktemp("m")
        ) as clock,
    ):
        yield build_world(clock, tmp_path_factory.mktemp("ledgers"))


@pytest.fixture
def world(_world_once, db, monkeypatch) -> World:
    cache.clear()
    return replace(_world_once, clock=patch_clock(monkeypatch, _world_once.built_until))


def compute(year=None, category=None, audience=statistics.PUBLIC) -> statistics.Statistics:
    return statistics.statistics_compute(
        filters=Filters(year=year, category=category), audience=audience
    )


# --- Each figure from the database -------------------------------------------------------------


def test_money_through_competition_against_subsidies_per_year(world):
    frame = compute().by_year
    assert frame.loc[2026, ["subsidies", "awarded", "contracted", "paid"]].to_list() == [
        D("60000.00"),
        D("480000.00"),
        D("480000.00"),
        D("0.00"),
    ]
    # 480,000 / (480,000 + 60,000); the replaced import's 999,999 is not money.
    assert round(frame.loc[2026, "tender_share"], 1) == 88.9
    assert frame.loc[2027, ["subsidies", "awarded", "paid"]].to_list() == [
        D("60000.00"),
        D("0.00"),
        D("336000.00"),
    ]


def test_the_figures_per_year_run_up_to_the_chosen_year(world):
    assert list(compute(year=2026).by_year.index) == [2026]
    assert list(compute(year=2027).by_year.index) == [2026, 2027]


def test_awarded_money_by_category_method_and_community(world):
    stats = compute(year=2026)
    assert stats.by_category[["key", "tenders", "amount", "share"]].to_dict("records") == [
        {"key": "elderly_care", "tenders": 1, "amount": D("480000.00"), "share": 100.0}
    ]
    assert stats.by_method[["key", "amount"]].to_dict("records") == [
        {"key": "public_tender", "amount": D("480000.00")}
    ]
    # Tender A names no community: the whole street office.
    assert stats.by_community[["key", "amount"]].to_dict("records") == [
        {"key": "", "amount": D("480000.00")}
    ]
    assert compute(year=2027).by_category.empty  # nothing was awarded in 2027


def test_bids_per_opened_tender_and_the_single_bid_share(world):
    # Tender C also has a bid left a draft: not a bid at the opening, not counted.
    assert Bid.objects.filter(status=BidStatus.DRAFT).count() == 1
    bidders = compute(year=2026).bidders
    assert bidders.tenders == 3
    assert round(bidders.mean_bids, 2) == 2.33  # (1 + 2 + 4) / 3
    assert round(bidders.single_bid_share, 1) == 33.3  # one tender in three
    assert dict(
        zip(bidders.distribution["bids"], bidders.distribution["tenders"], strict=True)
    ) == {
        0: 0,
        1: 1,
        2: 1,
        3: 0,
        4: 1,
    }


def test_sealed_bids_are_not_counted_before_the_opening(world):
    before = compute(year=2026).bidders
    assert before.tenders == 3  # tender D's two sealed bids are not there, not even as a count

    tender = Tender.objects.get(pk=world.tender_d)
    world.clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=persona("official", Role.OFFICIAL))
    assert compute(year=2026).bidders.tenders == 3  # one confirmation does not open
    tender_services.tender_open(tender=tender, actor=persona("second_official", Role.OFFICIAL))

    after = compute(year=2026).bidders
    assert after.tenders == 4
    assert after.mean_bids == pytest.approx(9 / 4)


def test_award_prices_against_budgets(world):
    prices = compute(year=2026).prices
    assert prices.awards == 1
    assert prices.mean_ratio == pytest.approx(0.96)  # 480,000 / 500,000
    assert prices.mean_saving == pytest.approx(4.0)
    assert prices.saving_total == D("20000.00")
    assert dict(zip(prices.bins["low"], prices.bins["awards"], strict=True))[0.95] == 1


def test_the_public_counts_final_evaluations_officials_mid_term_too(world):
    public = compute().grades
    assert public.loc[2027].to_dict() == {
        "excellent": 1,
        "good": 0,
        "fair": 0,
        "poor": 0,
        "total": 1,
    }
    official = compute(audience=statistics.OFFICIAL).grades
    assert official.loc[2027, ["excellent", "good", "total"]].to_list() == [1, 1, 2]


def test_the_public_sees_only_reviewed_flags_officials_every_status(world):
    flags = IntegrityFlag.objects.values_list("kind", "status")
    everything = Counter(flags)
    public = compute(year=2027).flags
    assert public["total"].sum() == 2  # the confirmed and the resolved one
    assert set(public.columns) == {"confirmed", "resolved", "total"}
    confirmed = IntegrityFlag.objects.get(pk=world.flag_ids["confirmed"])
    assert public.loc[confirmed.kind, "confirmed"] == everything[(confirmed.kind, "confirmed")]

    official = compute(year=2027, audience=statistics.OFFICIAL).flags
    assert official["total"].sum() == sum(everything.values())
    for (kind, status), count in everything.items():
        assert official.loc[kind, status] == count
    assert official["dismissed"].sum() == 1
    # Flags count by the year a screen first found them: none in 2026.
    assert compute(year=2026, audience=statistics.OFFICIAL).flags.empty


def test_a_category_filter_narrows_every_money_figure(world):
    stats = compute(category="child_youth")
    assert stats.by_year.loc[2026, ["subsidies", "awarded"]].to_list() == [
        D("40000.00"),
        D("0.00"),
    ]
    assert stats.bidders.tenders == 1  # tender C
    assert stats.by_category.empty


def _queries(**kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        compute(**kwargs)
    return len(captured.captured_queries)


def test_the_figures_take_the_same_queries_whatever_the_data_size(world, tmp_path):
    small = _queries(audience=statistics.OFFICIAL)
    world.clock.set(local(2027, 2, 1, 9, 0))
    for index in range(3):
        _open_small(world.clock, prices=["100000", "110000", "120000"], title=f"项目{index}")
    import_subsidies(
        tmp_path,
        [subsidy(org, amount="1000", start="2027-02-01") for org in Organization.objects.all()],
    )
    assert compute(year=2027).bidders.tenders == 3  # the data did grow
    assert _queries(audience=statistics.OFFICIAL) == small
    assert small <= 9


# --- The page ---------------------------------------------------------------------------------


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_the_page_is_public_and_shows_the_numbers_beside_the_charts(world, client):
    response = english(client).get(reverse("reports:statistics"), {"year": 2026})
    assert response.status_code == 200
    html = response.content.decode()
    # Nine figures; in 2026 nothing was evaluated yet and no flag reviewed: no chart there.
    assert html.count('class="panel stats-figure"') == 9
    assert html.count('<img class="chart"') == 7
    assert html.count("No data for this selection.") == 2
    for number in ("480,000.00", "60,000.00", "88.9%", "33.3%", "2.33", "4.0%"):
        assert number in html, number
    assert "Figures as of 2027-01-05" in html
    assert reverse("reports:document_pdf", args=["annual_statistics", 2026]) in html
    assert "Statistics" in [str(item.label) for item in nav_for(response.wsgi_request.user)]


def test_the_public_page_hides_open_and_dismissed_flags(world, client, client_for):
    public = english(client).get(reverse("reports:statistics"), {"year": 2027}).content.decode()
    official = persona("official", Role.OFFICIAL)
    officials = (
        english(client_for(official))
        .get(reverse("reports:statistics"), {"year": 2027})
        .content.decode()
    )
    assert ">Dismissed<" not in public
    assert ">Open<" not in public
    assert ">Dismissed<" in officials
    assert ">Open<" in officials
    assert "Mid-term and final evaluations" in officials


@pytest.mark.parametrize("query", [{"year": "abc"}, {"year": "1850"}, {"category": "nope"}])
def test_a_bad_filter_is_a_400_with_the_reason(world, client, query):
    response = english(client).get(reverse("reports:statistics"), query)
    assert response.status_code == 400
    assert "Please correct the problems below." in response.content.decode()


def test_the_page_takes_the_same_queries_whatever_the_data_size(
    world, client, django_assert_max_num_queries
):
    # The filters' two choices (years, categories) and the nine figure queries.
    with django_assert_max_num_queries(11):
        assert client.get(reverse("reports:statistics")).status_code == 200
    world.clock.set(local(2027, 2, 1, 9, 0))
    _open_small(world.clock, prices=["100000", "110000", "120000"], title="再一个项目")
    cache.clear()
    with django_assert_max_num_queries(11):
        assert client.get(reverse("reports:statistics")).status_code == 200


def test_the_figures_are_cached_for_a_few_minutes(world, django_assert_num_queries):
    first = statistics.report_for(filters=Filters(year=2026), audience=statistics.PUBLIC)
    with django_assert_num_queries(0):
        again = statistics.report_for(filters=Filters(year=2026), audience=statistics.PUBLIC)
    assert again.generated_at == first.generated_at
    # Each audience (and year, category and language) has its own figures.
    with django_assert_num_queries(9):
        statistics.report_for(filters=Filters(year=2026), audience=statistics.OFFICIAL)


# --- The API ----------------------------------------------------------------------------------


def test_the_api_gives_the_page_figures_as_json(world, client):
    answer = english(client).get(reverse("api:statistics"), {"year": 2026})
    assert answer.status_code == 200
    data = answer.json()
    assert data["audience"] == "public"
    page = english(client).get(reverse("reports:statistics"), {"year": 2026}).content.decode()
    year = data["spending_by_year"][0]
    assert year == {
        "year": 2026,
        "subsidies": "60000.00",
        "awarded": "480000.00",
        "contracted": "480000.00",
        "paid": "0.00",
        "tender_share": 88.9,
    }
    assert f"{year['tender_share']}%" in page
    assert data["bidders"]["tenders"] == 3
    assert f"{data['bidders']['mean_bids']:.2f}" in page
    assert f"{data['bidders']['single_bid_share']}%" in page
    assert data["price_to_budget"]["mean_ratio"] == 0.96
    assert f"{data['price_to_budget']['mean_saving']}%" in page
    assert data["spending_by_category"][0]["key"] == "elderly_care"
    assert data["spending_by_category"][0]["label"] in page
    assert data["flags"] == []  # nothing reviewed in 2026


def test_an_official_gets_every_flag_status_from_the_api(world, client_for):
    data = client_for(persona("auditor", Role.AUDITOR)).get(reverse("api:statistics")).json()
    assert data["audience"] == "official"
    assert sum(row["total"] for row in data["flags"]) == IntegrityFlag.objects.count()
    assert {"open", "confirmed", "dismissed", "resolved"} == set(data["flags"][0]["counts"])


@pytest.mark.parametrize(
    ("query", "field"),
    [({"year": "20x6"}, "year"), ({"year": "3000"}, "year"), ({"category": "nope"}, "category")],
)
def test_a_bad_year_is_a_400_in_the_error_format(world, client, query, field):
    response = client.get(reverse("api:statistics"), query)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert set(body) == {"error", "detail", "fields"}
    assert field in body["fields"]


def test_the_statistics_endpoint_is_in_the_schema(db, client):
    schema = client.get(
        "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    ).content.decode()
    assert "/api/v1/statistics/" in schema
    assert "single_bid_share" in schema


# --- The annual report ------------------------------------------------------------------------


def text_of(pdf: bytes) -> str:
    """The text of every page, its runs of white space made single spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_the_annual_report_prints_the_year_in_chinese(world):
    pdf = documents.render_document("annual_statistics", 2026, language="zh-hans")
    text = text_of(pdf)
    assert "2026" in text
    assert "养老服务" in text  # the category, from the data
    with translation.override("zh-hans"):
        office = str(settings.STREET_OFFICE["name"])
    assert office in text
    assert "JFB-2026-TJ" in text
    assert "480,000.00" in text


def test_the_annual_report_in_english(world):
    text = text_of(documents.render_document("annual_statistics", 2026, language="en"))
    assert "statistics report for 2026" in text
    assert "Award price against the budget ceiling" in text
    assert "88.9%" in text


def test_the_annual_report_exists_for_years_with_published_tenders(world, client):
    document = documents.document_for("annual_statistics")
    assert document.latest() == 2026
    assert document.for_user(None, 2026) == 2026
    with pytest.raises(Http404):
        document.for_user(None, 2019)
    with pytest.raises(LookupError, match="2019"):
        document.by_id(2019)
    ok = client.get(reverse("reports:document_pdf", args=["annual_statistics", 2026]))
    assert ok.status_code == 200
    assert ok["Content-Type"] == "application/pdf"
    missing = client.get(reverse("reports:document_pdf", args=["annual_statistics", 2019]))
    assert missing.status_code == 404


def test_the_annual_report_carries_public_figures_only(world, client_for):
    official = persona("official", Role.OFFICIAL)
    pdf = documents.render_document("annual_statistics", 2027, user=official, language="en")
    text = text_of(pdf)
    assert "Dismissed" not in text
    assert "Final evaluations by independent assessors" in text
