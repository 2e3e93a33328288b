"""The public disclosure portal: what anyone reads without signing in (DESIGN 1, issue 8).

One street office's record is built once for the module with the real services:

- tender A, awarded (four ranked bids, ``tests.tenders.test_award.awarded_tender``), then
  contracted, in delivery and evaluated (final: Good);
- tender B, the same path (``tests.evaluation.performance_support.build_active``), with a
  mid-term evaluation (not public) and a final one (Excellent), its service area two
  communities, in the consultation method;
- tender C, past its deadline with two sealed bids that nobody has opened;
- tender D, open for bids with one sealed bid;
- a draft and a tender waiting for approval, which the public never sees.

Every person has a phone and an ID number, every organization a phone: none of them may
appear on a public page, nor a sealed price, nor an unpublished title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import partial

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluation.models import PerformanceEvaluation
from marketplace.dashboard import nav_for
from marketplace.models import Role, User
from orgs_registry.identifiers import mask_id_number, mask_phone
from orgs_registry.models import Organization, Person, ServiceCategory
from tenders import services as tender_services
from tenders.models import Community, Contract, Tender, TenderStatus
from tenders.services import contracts as contract_services
from tests.conftest import Clock, building, module_database, patch_clock, persona
from tests.contract_support import SHANGHAI, supplier_admin
from tests.evaluation.performance_support import build_active, evaluate, make_assessors
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import RANKED_AT, awarded_tender

# Prices of the sealed bids, in every form a page could print them.
SEALED_PRICES = ("399123.45", "388765.43", "377654.32")
DRAFT_TITLE = "尚未发布的草稿项目"
PENDING_TITLE = "等待审批的项目"
SEALED_BIDDERS = ("密封投标甲中心", "密封投标乙中心", "密封投标丙中心")
QUESTION = "热线是否需要二十四小时值守？"
ANSWER = "需要，夜间可由两名社工轮值。"
UNANSWERED = "能否提前公布预算明细？"


@dataclass
class Record:
    awarded: int  # tender A
    delivered: int  # tender B
    closed: int  # tender C: deadline passed, bids sealed
    open: int  # tender D: open for bids, one sealed bid
    draft: int
    pending: int
    final_a: int
    final_b: int
    mid_term_b: int


def _contract_for(tender: Tender) -> Contract:
    """Draw up, sign and start the contract of an awarded tender (its service has begun)."""
    official = persona("official", Role.OFFICIAL)
    contract = contract_services.contract_draft(tender=tender, actor=official)
    contract_services.contract_sign(contract=contract, actor=official)
    contract_services.contract_sign(contract=contract, actor=supplier_admin(contract))
    contract_services.contracts_start_due()
    return Contract.objects.get(pk=contract.pk)


def _build(clock) -> Record:
    first = awarded_tender(clock)  # clock: the award day, 2026-09-30
    built = build_active(clock)  # clock: 2027-01-04, contract of B in delivery
    tender_b = Tender.objects.get(pk=built.contract.tender_id)
    # B: a consultation in two communities (set on the row: the facts the filters read).
    Tender.objects.filter(pk=tender_b.pk).update(method="competitive_consultation")
    tender_b.communities.set(Community.objects.order_by("sort_order")[:2])
    mid_term = evaluate(built, "mid_term", built.assessor("independent"), "0.7")
    final_b = evaluate(built, "final", built.assessor("second"), "0.95")
    contract_a = _contract_for(Tender.objects.get(pk=first.tender.pk))
    assessors_a = make_assessors(contract_a, prefix="perfa")
    final_a = evaluate(contract_a, "final", User.objects.get(pk=assessors_a["second"]), "0.85")

    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    care = ServiceCategory.objects.get(code="elderly_care")
    make = partial(publish_tender, official=official, approver=approver, category=care)
    closed = make(title="社区助浴服务项目")
    for name, price in zip(SEALED_BIDDERS[:2], SEALED_PRICES[:2], strict=True):
        submit_bid(closed, make_bidder(name), price)
    clock.advance(days=26)  # C's deadline is past; nobody opened it
    still_open = make(title="社区心理热线项目")
    asker = make_bidder(SEALED_BIDDERS[2])
    submit_bid(still_open, asker, SEALED_PRICES[2])
    # Questions (澄清): the answered one is public, without the asker; the other is not.
    answered = tender_services.question_ask(tender=still_open, actor=asker.admin, text=QUESTION)
    tender_services.question_answer(question=answered, actor=official, answer=ANSWER)
    tender_services.question_ask(tender=still_open, actor=asker.admin, text=UNANSWERED)
    draft = make(title=DRAFT_TITLE, published=False)
    pending = make(title=PENDING_TITLE, published=False)
    tender_services.tender_publish(tender=pending, actor=official)

    # Personal data everywhere it can be: every person and organization has a phone.
    for index, person in enumerate(Person.objects.order_by("pk")):
        Person.objects.filter(pk=person.pk).update(phone=f"1391234{index:04d}")
    for index, organization in enumerate(Organization.objects.order_by("pk")):
        Organization.objects.filter(pk=organization.pk).update(phone=f"1370987{index:04d}")
    return Record(
        awarded=first.tender.pk,
        delivered=tender_b.pk,
        closed=closed.pk,
        open=still_open.pk,
        draft=draft.pk,
        pending=pending.pk,
        final_a=final_a.pk,
        final_b=final_b.pk,
        mid_term_b=mid_term.pk,
    )


@dataclass
class Built:
    record: Record
    until: object


@pytest.fixture(scope="module")
def _built_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Built]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        record = _build(clock)
        yield Built(record=record, until=clock.current)


@pytest.fixture
def record(_built_once, db, clock) -> Record:
    clock.set(_built_once.until)
    return _built_once.record


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return patch_clock(monkeypatch, timezone.now())


def visitor() -> Client:
    """An anonymous browser reading English."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name: str, *args: object) -> str:
    return reverse(name, args=args or None)


def get(path: str, **params: object):
    return visitor().get(path, params)


def text(response) -> str:
    return response.content.decode()


def tender(pk: int) -> Tender:
    return Tender.objects.get(pk=pk)


def contract_of(pk: int) -> Contract:
    return Contract.objects.select_related("organization").get(tender_id=pk)


# --- Navigation and the home page ----------------------------------------------------------------


def test_the_portal_is_in_the_navigation_of_visitors_and_users(record):
    from django.contrib.auth.models import AnonymousUser

    for user in (AnonymousUser(), persona("official", Role.OFFICIAL)):
        names = [item.url_name for item in nav_for(user)]
        assert "reports:portal" in names
        # Right after the home page (and the dashboard), before the tenders.
        assert names.index("reports:portal") == names.index("tenders:list") - 1


def test_the_home_page_counts_and_lists_each_kind_of_disclosure(record):
    response = get(url("reports:portal"))

    assert response.status_code == 200
    overview = response.context["overview"]
    assert overview.tender_count == 4  # A, B, C, D: never the draft or the pending one
    assert overview.open_tender_count == 1  # D
    assert [t.pk for t in overview.open_tenders] == [record.open]
    assert overview.opening_count == 2
    assert {t.pk for t in overview.openings} == {record.awarded, record.delivered}
    assert overview.result_count == 2
    assert overview.contract_count == 2
    assert overview.contract_value == sum(
        (contract_of(pk).price for pk in (record.awarded, record.delivered)), Decimal(0)
    )
    assert {e.pk for e in overview.evaluations} == {record.final_a, record.final_b}
    assert overview.organization_count == Organization.objects.filter(status="active").count()
    page = text(response)
    for name, args in [
        ("reports:openings", ()),
        ("reports:results", ()),
        ("reports:performance_results", ()),
        ("reports:data", ()),
        ("tenders:contracts", ()),
        ("orgs_registry:directory", ()),
        ("orgs_registry:credit_lists", ()),
        ("reports:result", (record.awarded,)),
        ("reports:opening", (record.delivered,)),
        ("tenders:detail", (record.open,)),
        ("tenders:contract_detail", (contract_of(record.awarded).pk,)),
        ("orgs_registry:profile", (contract_of(record.delivered).organization_id,)),
    ]:
        assert f'href="{url(name, *args)}' in page, name
    assert f'action="{url("reports:portal_search")}"' in page


def test_the_home_page_costs_the_same_queries_whatever_the_data(
    record, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        assert get(url("reports:portal")).status_code == 200


# --- Opening records -----------------------------------------------------------------------------


def test_the_opening_list_has_the_opened_tenders_with_their_bids(record):
    response = get(url("reports:openings"))

    assert response.status_code == 200
    rows = {t.pk: t for t in response.context["page"].object_list}
    assert set(rows) == {record.awarded, record.delivered}
    assert rows[record.awarded].bid_count == 4
    assert rows[record.awarded].lowest_price == Decimal("430000.00")
    assert rows[record.awarded].highest_price == Decimal("480000.00")


def test_the_opening_record_names_every_bidder_with_its_price_and_receipt(record):
    response = get(url("reports:opening", record.awarded))

    assert response.status_code == 200
    page = text(response)
    bids = tender(record.awarded).bids.select_related("organization").order_by("price")
    assert bids.count() == 4
    for bid in bids:
        assert bid.organization.name in page
        assert f"{bid.price:,.2f}".replace(",", "") in page.replace(",", "")
        assert bid.content_sha256 in page
    assert "Opening record" in page


@pytest.mark.parametrize("which", ["closed", "open", "draft", "pending"])
def test_no_opening_record_before_the_opening_or_of_an_unpublished_tender(record, which):
    assert get(url("reports:opening", getattr(record, which))).status_code == 404


def test_the_opening_record_is_published_at_the_opening_and_not_before(record):
    closed = tender(record.closed)
    assert get(url("reports:opening", closed.pk)).status_code == 404
    assert closed.pk not in {t.pk for t in get(url("reports:openings")).context["page"]}

    tender_services.tender_open(tender=closed, actor=persona("official", Role.OFFICIAL))
    assert get(url("reports:opening", closed.pk)).status_code == 404  # one official is not two
    tender_services.tender_open(tender=closed, actor=persona("second_official", Role.OFFICIAL))

    response = get(url("reports:opening", closed.pk))
    assert response.status_code == 200
    page = text(response)
    for name, price in zip(SEALED_BIDDERS[:2], SEALED_PRICES[:2], strict=True):
        assert name in page
        assert price in page.replace(",", "")
    assert closed.pk in {t.pk for t in get(url("reports:openings")).context["page"]}


def test_an_unknown_opening_record_is_404(record):
    assert get(url("reports:opening", 999999)).status_code == 404


# --- Award notices -------------------------------------------------------------------------------


def test_the_result_list_has_each_award_in_force(record):
    response = get(url("reports:results"))

    assert response.status_code == 200
    awards = {a.tender_id: a for a in response.context["page"].object_list}
    assert set(awards) == {record.awarded, record.delivered}
    award = awards[record.awarded]
    assert award.bid_count == 4
    assert award.ranked_count == 4
    assert award.winner_total == Decimal("87.88")
    assert award.public_contract_id == contract_of(record.awarded).pk
    page = text(response)
    assert award.bid.organization.name in page
    assert url("tenders:contract_detail", contract_of(record.awarded).pk) in page


def test_the_award_notice_ranks_every_valid_bid_with_its_total(record):
    response = get(url("reports:result", record.awarded))

    assert response.status_code == 200
    notice = response.context["notice"]
    assert [row.total for row in notice.rows] == [
        Decimal("87.88"),
        Decimal("84.67"),
        Decimal("84.00"),
        Decimal("73.45"),
    ]
    assert [row.rank for row in notice.rows] == [1, 2, 3, 4]
    assert [row.won for row in notice.rows] == [True, False, False, False]
    assert notice.price == Decimal("480000.00")
    assert notice.saving == tender(record.awarded).budget - Decimal("480000.00")
    assert notice.bids_opened == 4
    assert notice.window_open is False  # the tender is in delivery
    page = text(response)
    for row in notice.rows:
        assert f'href="{url("orgs_registry:profile", row.organization_id)}"' in page
        assert row.organization_name in page
    assert "87.88" in page
    assert url("tenders:contract_detail", contract_of(record.awarded).pk) in page


def test_the_challenge_window_is_open_until_its_last_day(record, clock):
    awarded = tender(record.awarded)
    award = awarded.awards.get(status="active")
    # The tender back at the award (before its contract), on the last day of the window.
    Tender.objects.filter(pk=awarded.pk).update(status=TenderStatus.AWARDED)
    clock.set(datetime.combine(award.challenge_deadline, time(23, 0), tzinfo=SHANGHAI))
    assert get(url("reports:result", awarded.pk)).context["notice"].window_open is True
    assert "Open for challenges" in text(get(url("reports:result", awarded.pk)))
    listed = {a.tender_id: a for a in get(url("reports:results")).context["page"].object_list}
    assert listed[awarded.pk].window_open is True

    clock.advance(hours=2)  # the next day
    assert get(url("reports:result", awarded.pk)).context["notice"].window_open is False
    listed = {a.tender_id: a for a in get(url("reports:results")).context["page"].object_list}
    assert listed[awarded.pk].window_open is False


@pytest.mark.parametrize("which", ["closed", "open", "draft", "pending"])
def test_no_award_notice_for_a_tender_without_an_award(record, which):
    assert get(url("reports:result", getattr(record, which))).status_code == 404


def test_a_withdrawn_award_is_no_longer_a_notice(record):
    Tender.objects.get(pk=record.awarded).awards.update(status="withdrawn")
    assert get(url("reports:result", record.awarded)).status_code == 404
    listed = {a.tender_id for a in get(url("reports:results")).context["page"].object_list}
    assert listed == {record.delivered}


# --- Performance results -------------------------------------------------------------------------


def test_the_performance_results_are_the_final_evaluations_only(record):
    response = get(url("reports:performance_results"))

    assert response.status_code == 200
    listed = [e.pk for e in response.context["page"].object_list]
    assert sorted(listed) == sorted([record.final_a, record.final_b])
    assert record.mid_term_b not in listed
    summary = response.context["summary"]
    assert summary.count == 2
    assert {share.grade: share.count for share in summary.grades} == {
        "excellent": 1,
        "good": 1,
        "fair": 0,
        "poor": 0,
    }
    page = text(response)
    for pk in (record.final_a, record.final_b):
        evaluation = PerformanceEvaluation.objects.select_related("contract").get(pk=pk)
        assert f'href="{url("evaluation:performance_detail", pk)}"' in page
        assert f'href="{url("orgs_registry:profile", evaluation.contract.organization_id)}"' in page
        assert f'href="{url("tenders:contract_detail", evaluation.contract_id)}"' in page
        assert f"{evaluation.total_score}" in page


# --- Filters -------------------------------------------------------------------------------------


def listed(name: str, **params: object) -> set[int]:
    response = get(url(name), **params)
    assert response.status_code == 200, response.context and response.context["filter"].errors
    rows = response.context["page"].object_list
    if name == "reports:results":
        return {row.tender_id for row in rows}
    if name == "reports:performance_results":
        return {row.contract.tender_id for row in rows}
    return {row.pk for row in rows}


LISTS = ["reports:openings", "reports:results", "reports:performance_results"]


@pytest.mark.parametrize("name", LISTS)
def test_the_lists_filter_by_text_category_community_and_year(record, name):
    a, b = tender(record.awarded), tender(record.delivered)
    both = {a.pk, b.pk}
    assert listed(name) == both
    assert listed(
        name,
        q=a.reference if name != "reports:performance_results" else contract_of(a.pk).reference,
    ) == {a.pk}
    assert listed(name, q="没有这个项目") == set()
    assert listed(name, category=a.category.code) == both  # both elderly care
    assert listed(name, category="child_youth") == set()
    community = b.communities.order_by("sort_order").first()
    assert listed(name, community=community.code) == {b.pk}
    year = {
        "reports:openings": a.opened_at,
        "reports:results": a.awards.get().notice_published_at,
        "reports:performance_results": PerformanceEvaluation.objects.get(
            pk=record.final_a
        ).submitted_at,
    }[name].year
    assert a.pk in listed(name, year=year)
    assert listed(name, year=year - 5) == set()


@pytest.mark.parametrize("name", ["reports:openings", "reports:results"])
def test_the_tender_lists_filter_by_method(record, name):
    assert listed(name, method="competitive_consultation") == {record.delivered}
    assert listed(name, method="public_tender") == {record.awarded}


def test_the_performance_results_filter_by_grade_and_organization(record):
    assert listed("reports:performance_results", grade="excellent") == {record.delivered}
    assert listed("reports:performance_results", grade="poor") == set()
    supplier = contract_of(record.awarded).organization
    assert listed("reports:performance_results", q=supplier.uscc) == {record.awarded}


def test_a_bidder_is_found_in_the_opening_records_only_once_opened(record):
    assert listed("reports:openings", q=SEALED_BIDDERS[0]) == set()
    loser = tender(record.awarded).bids.exclude(status="won").first().organization
    assert record.awarded in listed("reports:openings", q=loser.name)


BAD_FILTERS = [
    {"year": "abc"},
    {"year": "1800"},
    {"year": "2026.5"},
    {"category": "no_such_category"},
    {"community": "no_such_community"},
    {"q": "长" * 101},
]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("params", BAD_FILTERS)
def test_a_bad_filter_is_a_400_with_the_error_never_a_500(record, name, params):
    response = get(url(name), **params)

    assert response.status_code == 400
    assert response.context["filter"].errors
    assert "Please correct the problems below." in text(response)
    assert list(response.context["page"].object_list) == []


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("reports:openings", {"method": "auction"}),
        ("reports:results", {"method": "auction"}),
        ("reports:performance_results", {"grade": "superb"}),
    ],
)
def test_an_unknown_choice_is_a_400(record, name, params):
    assert get(url(name), **params).status_code == 400


@pytest.mark.parametrize("name", LISTS)
def test_a_bad_page_number_gives_a_page(record, name):
    assert get(url(name), page="abc").status_code == 200
    assert get(url(name), page="99999").status_code == 200


# --- Search --------------------------------------------------------------------------------------


def test_the_search_finds_tenders_contracts_and_organizations(record):
    contract = contract_of(record.delivered)
    response = get(url("reports:portal_search"), q=contract.organization.name)
    results = response.context["results"]
    assert response.status_code == 200
    assert contract.pk in {c.pk for c in results.contracts}
    assert contract.organization_id in {o.pk for o in results.organizations}

    by_reference = get(url("reports:portal_search"), q=tender(record.awarded).reference)
    assert [t.pk for t in by_reference.context["results"].tenders] == [record.awarded]
    by_number = get(url("reports:portal_search"), q=contract.reference)
    assert [c.pk for c in by_number.context["results"].contracts] == [contract.pk]


def test_the_search_never_finds_an_unpublished_tender(record):
    for title in (DRAFT_TITLE, PENDING_TITLE):
        response = get(url("reports:portal_search"), q=title)
        assert response.status_code == 200
        assert response.context["results"].total == 0
        assert "0 matches" in text(response)


@pytest.mark.parametrize("q", ["", "长" * 101])
def test_an_empty_or_overlong_search_is_a_400_with_the_error(record, q):
    response = get(url("reports:portal_search"), q=q)
    assert response.status_code == 400
    assert response.context["search_form"].errors


def test_the_search_page_without_a_query_is_the_empty_form(record):
    response = get(url("reports:portal_search"))
    assert response.status_code == 200
    assert response.context["results"] is None


def test_the_search_costs_a_fixed_number_of_queries(record, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        get(url("reports:portal_search"), q="中心")


# --- Query counts --------------------------------------------------------------------------------


def queries(path: str, **params: object) -> int:
    client = visitor()
    client.get(path, params)  # warm: sessions, content types, translations
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_a_list_costs_the_same_queries_for_one_row_or_many(record, name):
    one = contract_of(record.awarded).reference
    q = one if name == "reports:performance_results" else tender(record.awarded).reference
    assert len(get(url(name)).context["page"].object_list) == 2
    assert len(get(url(name), q=q).context["page"].object_list) == 1
    assert queries(url(name)) == queries(url(name), q=q)
    assert queries(url(name)) <= 10


@pytest.mark.parametrize("which", ["awarded", "delivered"])
def test_a_notice_page_costs_a_fixed_number_of_queries(
    record, which, django_assert_max_num_queries
):
    pk = getattr(record, which)
    with django_assert_max_num_queries(10):
        assert get(url("reports:result", pk)).status_code == 200
    with django_assert_max_num_queries(10):
        assert get(url("reports:opening", pk)).status_code == 200


# --- Only reading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["reports:portal", "reports:openings", "reports:results", "reports:data"]
)
def test_the_portal_pages_only_answer_get(record, name):
    assert visitor().post(url(name)).status_code == 405


# --- Personal data and sealed bids on every public page ------------------------------------------


def public_pages(record: Record) -> list[str]:
    """Every page the public reads: the portal's and the other apps' public pages."""
    a, b = contract_of(record.awarded), contract_of(record.delivered)
    bidders = Organization.objects.filter(bids__tender_id__in=[record.awarded, record.delivered])
    sealed = Organization.objects.filter(name__in=SEALED_BIDDERS)
    return [
        url("reports:portal"),
        url("reports:portal_search") + "?q=%E4%B8%AD%E5%BF%83",  # 中心
        url("reports:portal_search") + f"?q={a.organization.uscc}",
        url("reports:openings"),
        url("reports:opening", record.awarded),
        url("reports:opening", record.delivered),
        url("reports:results"),
        url("reports:result", record.awarded),
        url("reports:result", record.delivered),
        url("reports:performance_results"),
        url("reports:data"),
        url("tenders:list"),
        *(url("tenders:detail", pk) for pk in (record.awarded, record.delivered)),
        *(url("tenders:detail", pk) for pk in (record.closed, record.open)),
        url("tenders:contracts"),
        *(url("tenders:contract_detail", c.pk) for c in (a, b)),
        url("orgs_registry:directory"),
        url("orgs_registry:credit_lists"),
        *(url("orgs_registry:profile", pk) for pk in {o.pk for o in bidders}),
        *(url("orgs_registry:profile", o.pk) for o in sealed),
        url("evaluation:performance_list"),
        *(url("evaluation:performance_detail", pk) for pk in (record.final_a, record.final_b)),
    ]


def forbidden(record: Record) -> list[str]:
    """What no public page may show: ID numbers and phones (plain or masked), people's full
    names (teams are masked), organizations' phones in full, sealed prices, unpublished
    titles."""
    values: list[str] = []
    for person in Person.objects.all():
        values += [
            person.id_number,
            mask_id_number(person.id_number),
            person.phone,
            mask_phone(person.phone),
            person.phone[-8:],
            person.name,
        ]
    for organization in Organization.objects.exclude(phone=""):
        values += [organization.phone, organization.phone[3:]]
    for price in SEALED_PRICES:
        values += [price, f"{Decimal(price):,.2f}"]
    return [*values, DRAFT_TITLE, PENDING_TITLE, UNANSWERED]


def test_no_public_page_shows_personal_data_sealed_bids_or_unpublished_tenders(record):
    never = forbidden(record)
    assert len(never) > 50
    client = visitor()
    for path in public_pages(record):
        response = client.get(path)
        assert response.status_code == 200, path
        page = text(response)
        shown = [value for value in never if value and value in page]
        assert shown == [], (path, shown)


def test_the_sealed_bidders_are_named_on_no_tender_or_portal_page(record):
    pages = [p for p in public_pages(record) if not p.startswith("/organizations/")]
    pages = [p for p in pages if "portal_search" not in p and "/public/search/" not in p]
    client = visitor()
    for path in pages:
        page = text(client.get(path))
        assert not [name for name in SEALED_BIDDERS if name in page], path


def test_the_tender_page_publishes_the_answered_question_without_its_asker(record):
    page = text(get(url("tenders:detail", record.open)))
    assert QUESTION in page
    assert ANSWER in page
    assert UNANSWERED not in page
    assert SEALED_BIDDERS[2] not in page


def test_the_team_of_a_contract_is_shown_masked(record):
    contract = contract_of(record.delivered)
    page = text(get(url("tenders:contract_detail", contract.pk)))
    members = list(contract.team.select_related("person"))
    assert members
    for member in members:
        assert member.person.name not in page
        assert member.person.name[0] + "*" * (len(member.person.name) - 1) in page


def test_an_unpublished_tender_is_404_on_its_public_pages(record):
    for pk in (record.draft, record.pending):
        for name in ("tenders:detail", "reports:opening", "reports:result"):
            assert get(url(name, pk)).status_code == 404, name


def test_the_mid_term_evaluation_is_not_public(record):
    page = text(get(url("reports:performance_results")))
    assert f'href="{url("evaluation:performance_detail", record.mid_term_b)}"' not in page
    assert get(url("evaluation:performance_detail", record.mid_term_b)).status_code == 404


# --- The data page -------------------------------------------------------------------------------


def test_the_data_page_links_the_feed_the_downloads_and_the_statistics(record):
    page = text(get(url("reports:data")))

    for name, args in [
        ("api:ocds-releases", ()),
        ("reports:ocds_bulk", ()),
        ("reports:statistics", ()),
        *(("reports:export", (name, fmt)) for name in PUBLIC_EXPORTS for fmt in ("csv", "xlsx")),
    ]:
        assert f'href="{url(name, *args)}"' in page, (name, args)
    # Lists that need a sign-in, or one object's rows, are not offered.
    for name in ("bids", "registrations", "grades", "flags"):
        assert url("reports:export", name, "csv") not in page
    assert f'href="{settings.OCDS_LICENSE_URL}"' in page
    assert 'id="policy"' in page
    assert settings.OCDS_OCID_PREFIX in page


PUBLIC_EXPORTS = ("tenders", "contracts", "organizations", "performance")


def test_every_link_of_the_data_page_answers_a_visitor(record):
    page = text(get(url("reports:data")))
    links = sorted(set(re.findall(r'href="(/[^"#]*)"', page)))
    assert len(links) > 10
    never = forbidden(record)
    client = visitor()
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        if link.endswith((".csv", ".json")) or link.startswith("/api/v1/"):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            decoded = body.decode("utf-8-sig")
            if not link.endswith(".csv"):  # JSON may escape Chinese: read it as text
                decoded = json.dumps(json.loads(decoded), ensure_ascii=False)
            # Downloads carry no more than the pages: no personal data, nothing sealed.
            assert not [value for value in never if value and value in decoded], link


def test_the_tender_page_leads_to_its_opening_record_and_award_notice(record):
    page = text(get(url("tenders:detail", record.awarded)))
    assert f'href="{url("reports:opening", record.awarded)}"' in page
    assert f'href="{url("reports:result", record.awarded)}"' in page

    sealed = text(get(url("tenders:detail", record.closed)))
    assert url("reports:opening", record.closed) not in sealed
    assert url("reports:result", record.closed) not in sealed
