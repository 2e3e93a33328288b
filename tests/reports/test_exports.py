"""Exports of the list pages (CSV and XLSX): the rows of the page's own selector and
filters over every page, readable back with pandas, headers in the reader's language,
personal data masked per role, sealed bids never, formulas neutralized, a constant number
of queries, and 400/404/405 where they belong."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from evaluation.models import FlagKind, FlagSeverity, IntegrityFlag
from evaluation.selectors import integrity as integrity_selectors
from evaluation.selectors import performance as performance_selectors
from marketplace.models import Role, User
from orgs_registry import selectors as registry_selectors
from orgs_registry.identifiers import make_uscc, mask_id_number, mask_phone
from orgs_registry.models import Organization, ServiceCategory
from orgs_registry.services import grade_assign, grade_request, organization_create
from reports import exports
from tenders import selectors as tender_selectors
from tenders.models import BidStaff, Tender
from tenders.selectors import contracts as contract_selectors
from tests.conftest import building, make_organization, make_user, module_database, persona
from tests.evaluation.conftest import make_assessor
from tests.evaluation.performance_support import build_active, evaluate
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import RANKED_AT

INJECTION = "=cmd|' /C calc'!A0"
PHONE = "13812345678"
EXTRA_TENDERS = 33  # with the others, more than a page of the tender list (30)
EXTRA_ORGANIZATIONS = 32  # more than a page of the directory (30)
EXTRA_FLAGS = 55  # more than a page of the integrity queue (50)
FORMATS = ["csv", "xlsx"]


@dataclass
class World:
    contract_id: int
    awarded_tender_id: int
    sealed_tender_id: int
    sealed_bidder_admin_id: int
    injection_org_id: int
    injection_member_id: int
    flag_id_number: str
    grade_assessor_id: int
    grade_org_admin_id: int
    built_until: datetime

    def user(self, pk: int) -> User:
        return User.objects.get(pk=pk)


def _tenders(official: User, approver: User, category: ServiceCategory) -> tuple[int, int]:
    for number in range(EXTRA_TENDERS):
        publish_tender(
            official=official,
            approver=approver,
            category=category,
            title=f"批量招标项目{number:02d}",
            method="competitive_consultation" if number % 3 == 0 else "public_tender",
            budget=Decimal(100_000 + 1_000 * number),
        )
    publish_tender(official=official, approver=approver, category=category, title=INJECTION)
    sealed = publish_tender(
        official=official, approver=approver, category=category, title="密封中的招标项目"
    )
    bidder = make_bidder("密封投标机构")
    submit_bid(sealed, bidder, "300000.00")
    return sealed.pk, bidder.admin.pk


def _organizations(category: ServiceCategory) -> tuple[Organization, User]:
    for number in range(EXTRA_ORGANIZATIONS):
        make_organization(f"批量社会组织{number:02d}", f"6{number:07d}")
    injected = organization_create(
        name=INJECTION,
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="69999999"),
        actor=None,
        verified=True,
        phone=PHONE,
        categories=[category],
    )
    return injected, make_user("injected_member", Role.ORG_MEMBER, injected)


def _grades() -> tuple[User, User]:
    """Two organizations asked for a grade assessment; the first is assigned an assessor."""
    registry = persona("registry_admin", Role.REGISTRY_ADMIN)
    assessor = make_assessor("grade_assessor", agency="等级评估所")
    admins = []
    for number in range(2):
        organization = organization_create(
            name=f"申请评估的社会组织{number}",
            uscc=make_uscc(
                authority="5", category="2", region="500103", org_body=f"6800000{number}"
            ),
            actor=None,
            verified=True,
            registration_date=date(2019, 6, 1),
        )
        admin = make_user(f"grade_admin_{number}", Role.ORG_ADMIN, organization)
        assessment = grade_request(organization=organization, actor=admin)
        if number == 0:
            grade_assign(assessment=assessment, actor=registry, assessor=assessor)
        admins.append(admin)
    return assessor, admins[1]


def _flags(awarded: Tender) -> str:
    now = timezone.now()
    line = BidStaff.objects.filter(bid__tender=awarded).select_related("person").first()
    assert line is not None
    person = line.person
    IntegrityFlag.objects.bulk_create(
        [
            IntegrityFlag(
                kind=FlagKind.R003_SHORT_PERIOD,
                severity=FlagSeverity.LOW,
                fingerprint=f"export-{number:03d}",
                evidence_digest="-",
                subject_label=f"批量线索 {number:03d}",
                first_seen_at=now,
                last_seen_at=now,
            )
            for number in range(EXTRA_FLAGS)
        ]
        + [
            IntegrityFlag(
                kind=FlagKind.STAFF_ON_PUBLIC_PAYROLL,
                severity=FlagSeverity.HIGH,
                fingerprint="export-person",
                evidence_digest="-",
                subject_label=f"{person.name} · 财政供养岗位",
                tender=awarded,
                person=person,
                first_seen_at=now,
                last_seen_at=now,
            )
        ]
    )
    return person.id_number


def build_world(clock: Any) -> World:
    built = build_active(clock)
    evaluate(built, "final", built.assessor("independent"), "0.85")
    persona("auditor", Role.AUDITOR)
    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    category = ServiceCategory.objects.get(code="elderly_care")
    sealed_id, sealed_admin_id = _tenders(official, approver, category)
    injected, member = _organizations(category)
    grade_assessor, grade_admin = _grades()
    awarded = built.contract.tender
    return World(
        contract_id=built.contract_id,
        awarded_tender_id=awarded.pk,
        sealed_tender_id=sealed_id,
        sealed_bidder_admin_id=sealed_admin_id,
        injection_org_id=injected.pk,
        injection_member_id=member.pk,
        flag_id_number=_flags(awarded),
        grade_assessor_id=grade_assessor.pk,
        grade_org_admin_id=grade_admin.pk,
        built_until=clock.current,
    )


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        yield build_world(clock)


@pytest.fixture
def world(_world_once, db) -> World:
    return _world_once


# --- Helpers -------------------------------------------------------------------------------------


def browser(user: User | None = None, *, language: str = "en") -> Client:
    """A browser reading ``language`` (as if chosen with the switch), signed in or not."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def chinese(user: User | None = None) -> Client:
    """A browser that never touched the language switch: Chinese pages."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def url(name: str, fmt: str = "csv", pk: int | None = None) -> str:
    if pk is not None:
        return reverse("reports:export_of", args=[name, pk, fmt])
    return reverse("reports:export", args=[name, fmt])


def frame_of(response: Any, fmt: str) -> pd.DataFrame:
    """The download read back with pandas, every cell as text ("" when empty)."""
    assert response.status_code == 200, response.content[:500]
    content = io.BytesIO(response.content)
    if fmt == "csv":
        return pd.read_csv(content, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return pd.read_excel(content, dtype=str).fillna("")


def export(client: Client, name: str, fmt: str = "csv", params=None, pk=None) -> pd.DataFrame:
    return frame_of(client.get(url(name, fmt, pk), params or {}), fmt)


def safe(text: str) -> str:
    return exports.neutralize(text)


def official() -> User:
    return persona("official", Role.OFFICIAL)


def auditor() -> User:
    return persona("auditor", Role.AUDITOR)


def registry_admin() -> User:
    return persona("registry_admin", Role.REGISTRY_ADMIN)


# --- Each list: the page's rows, every page, in its order ----------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params", [{}, {"method": "competitive_consultation"}, {"q": "批量", "budget_min": "110000"}]
)
def test_the_tender_export_holds_every_filtered_row_of_the_list(world, fmt, params):
    user = official()
    expected = [t.title for t in tender_selectors.tender_directory(user, filters=params)[0]]
    frame = export(browser(user), "tenders", fmt, params)
    assert list(frame["Title"]) == [safe(title) for title in expected]
    if not params:
        from tenders.views import LIST_PAGE_SIZE

        assert len(frame) > LIST_PAGE_SIZE


def test_the_tender_export_holds_the_rows_of_the_later_pages(world):
    """Page 2 of the public list is in the export, and the export has more than page 1."""
    client = browser()
    page_two = client.get(reverse("tenders:list"), {"q": "批量", "page": "2"}).content.decode()
    titles = list(export(client, "tenders", "csv", {"q": "批量"})["Title"])
    later = [title for title in titles if title in page_two]
    assert later
    assert len(later) == len(titles) - 30
    assert "批量招标项目00" in titles


def test_the_public_exports_only_published_tenders(world):
    draft = publish_tender(
        official=official(),
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code="elderly_care"),
        published=False,
        title="尚未发布的草稿",
    )
    assert draft.title not in set(export(browser(), "tenders")["Title"])
    assert draft.title in set(export(browser(official()), "tenders")["Title"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_bid_export_after_the_opening_lists_the_opened_bids(world, fmt):
    user = official()
    tender = Tender.objects.get(pk=world.awarded_tender_id)
    bids = list(tender_selectors.bid_list_for_user(user, tender))
    frame = export(browser(user), "bids", fmt, pk=tender.pk)
    assert list(frame["Unified Social Credit Code"]) == [b.organization.uscc for b in bids]
    assert [Decimal(price) for price in frame["Price (yuan)"]] == [b.price for b in bids]
    assert len(bids) >= 3


@pytest.mark.parametrize("who", ["official", "auditor", "bidder"])
def test_no_bid_is_exported_before_the_opening(world, who):
    user = {
        "official": official,
        "auditor": auditor,
        "bidder": lambda: world.user(world.sealed_bidder_admin_id),
    }[who]()
    for fmt in FORMATS:
        response = browser(user).get(url("bids", fmt, world.sealed_tender_id))
        assert response.status_code == 404
        assert "密封投标机构".encode() not in response.content
        assert b"300000" not in response.content


def test_the_bids_of_a_tender_one_may_not_read_are_404(world, org_member):
    assert browser(org_member).get(url("bids", pk=world.awarded_tender_id)).status_code == 404
    assert browser(official()).get(url("bids", pk=999_999)).status_code == 404
    anonymous = browser().get(url("bids", pk=world.awarded_tender_id))
    assert anonymous.status_code == 302
    assert "next=" in anonymous["Location"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params", [{}, {"q": "批量社会组织"}, {"category": "elderly_care"}, {"kind": "social_group"}]
)
def test_the_organization_export_holds_the_filtered_directory(world, fmt, params):
    expected = [o.uscc for o in registry_selectors.organization_directory(None, filters=params)[0]]
    frame = export(browser(), "organizations", fmt, params)
    assert list(frame["Unified Social Credit Code"]) == expected
    if params.get("q"):
        assert len(frame) == EXTRA_ORGANIZATIONS


def test_the_registry_exports_every_registration_and_nobody_else_does(world):
    pending = organization_create(
        name="待核准的社会组织",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="67777777"),
        actor=None,
    )
    frame = export(browser(registry_admin()), "registrations")
    assert pending.uscc in set(frame["Unified Social Credit Code"])
    assert pending.uscc not in set(export(browser(), "organizations")["Unified Social Credit Code"])
    assert browser(official()).get(url("registrations")).status_code == 403
    assert browser().get(url("registrations")).status_code == 302


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", ["anonymous", "official"])
@pytest.mark.parametrize("params", [{}, {"status": "active"}, {"status": "draft"}])
def test_the_contract_export_holds_the_filtered_contracts(world, fmt, who, params):
    user = official() if who == "official" else None
    expected = [
        c.reference for c in contract_selectors.contract_directory(user, filters=params or None)[0]
    ]
    frame = export(browser(user), "contracts", fmt, params)
    assert list(frame["Contract number"]) == expected
    if params.get("status") == "active":
        assert len(expected) == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("who", ["anonymous", "official", "assessor"])
def test_the_performance_export_holds_the_evaluations_of_the_list(world, fmt, who):
    user = {
        "anonymous": lambda: None,
        "official": official,
        "assessor": lambda: User.objects.get(username="perf_independent"),
    }[who]()
    if who == "assessor":
        expected = performance_selectors.my_performance_evaluations(user)
    else:
        expected = performance_selectors.performance_evaluation_directory(user, filters=None)[0]
    frame = export(browser(user), "performance", fmt)
    assert list(frame["Contract number"]) == [e.contract.reference for e in expected]
    assert len(frame) == 1
    assert frame["Kind of evaluation"][0] == "Final evaluation"
    assert float(frame["Total score"][0]) == float(expected[0].total_score or "nan")


def test_the_performance_export_takes_the_list_filters(world):
    client = browser(official())
    assert len(export(client, "performance", params={"kind": "final"})) == 1
    assert len(export(client, "performance", params={"kind": "mid_term"})) == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_grade_export_holds_the_assessments_of_the_list(world, fmt):
    everyone = export(browser(registry_admin()), "grades", fmt)
    assert len(everyone) == 2
    assessing = export(browser(registry_admin()), "grades", fmt, {"status": "assessing"})
    assert list(assessing["Organization"]) == ["申请评估的社会组织0"]
    mine = export(browser(world.user(world.grade_assessor_id)), "grades", fmt)
    assert list(mine["Organization"]) == ["申请评估的社会组织0"]
    own = export(browser(world.user(world.grade_org_admin_id)), "grades", fmt)
    assert list(own["Organization"]) == ["申请评估的社会组织1"]
    assert browser().get(url("grades", fmt)).status_code == 302


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("params", [{}, {"kind": FlagKind.R003_SHORT_PERIOD}, {"severity": "high"}])
def test_the_flag_export_holds_the_filtered_queue_beyond_its_first_page(world, fmt, params):
    user = auditor()
    expected = [f.pk for f in integrity_selectors.flag_queue(user, filters=params or None)[0]]
    frame = export(browser(user), "flags", fmt, params)
    assert [int(number) for number in frame["Flag number"]] == expected
    if params.get("kind"):
        assert len(frame) == EXTRA_FLAGS > 50


@pytest.mark.parametrize("who", ["org_admin", "assessor"])
def test_only_reviewers_export_flags(world, request, who):
    user = request.getfixturevalue(who)
    assert browser(user).get(url("flags")).status_code == 403
    assert browser().get(url("flags")).status_code == 302


# --- Values and headers --------------------------------------------------------------------------


def test_headers_are_in_the_readers_language(world):
    chinese_headers = export(chinese(), "organizations").columns
    assert "统一社会信用代码" in chinese_headers
    assert "联系电话" in chinese_headers
    english = export(browser(), "organizations")
    assert "Unified Social Credit Code" in english.columns
    assert "Phone" in english.columns
    with translation.override("zh-hans"):
        kind = str(Organization._meta.get_field("kind").choices[1][1])
    assert kind in set(export(chinese(), "organizations")["类型"])
    assert "Social service agency" in set(english["Kind"])


def test_choices_are_labels_money_is_a_number_and_dates_are_dates(world):
    tender = Tender.objects.get(title="批量招标项目04")
    response = browser(official()).get(url("tenders", "xlsx"), {"q": "批量招标项目04"})
    frame = pd.read_excel(io.BytesIO(response.content))
    assert frame["Procurement method"][0] == "Open tender"
    assert frame["Status"][0] == "Open for bids"
    assert pd.api.types.is_numeric_dtype(frame["Budget ceiling (yuan)"])
    assert frame["Budget ceiling (yuan)"][0] == float(tender.budget)
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    budget = sheet.cell(row=2, column=header.index("Budget ceiling (yuan)") + 1)
    assert budget.data_type == "n"
    assert budget.number_format == exports.MONEY_FORMAT
    starts = sheet.cell(row=2, column=header.index("Service starts") + 1)
    assert starts.is_date
    assert starts.value.date() == date(2027, 1, 1)
    deadline = sheet.cell(row=2, column=header.index("Bid deadline") + 1).value
    assert deadline == timezone.localtime(tender.bid_deadline).replace(tzinfo=None)
    csv = pd.read_csv(
        io.BytesIO(browser(official()).get(url("tenders"), {"q": "批量招标项目04"}).content),
        encoding="utf-8-sig",
    )
    assert csv["Budget ceiling (yuan)"][0] == float(tender.budget)
    assert csv["Service starts"][0] == "2027-01-01"


def test_the_xlsx_has_a_bold_frozen_header_fitted_columns_and_a_title(world):
    response = browser(official()).get(url("tenders", "xlsx"))
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet.title == "Tenders"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet.cell(row=2, column=1).font.bold
    header = [cell.value for cell in sheet[1]]
    title_column = sheet.column_dimensions[chr(ord("A") + header.index("Title"))]
    assert title_column.width > 20  # 批量招标项目00: 14 wide characters


def test_the_download_is_a_dated_attachment_never_cached(world):
    for fmt, content_type in [("csv", "text/csv"), ("xlsx", "spreadsheetml")]:
        response = browser().get(url("tenders", fmt))
        today = timezone.localdate().isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="tenders-{today}.{fmt}"'
        assert content_type in response["Content-Type"]
        assert "no-store" in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"
    bids = browser(official()).get(url("bids", "csv", world.awarded_tender_id))
    assert f'filename="bids-{world.awarded_tender_id}-' in bids["Content-Disposition"]


def test_the_csv_starts_with_a_byte_order_mark_for_excel(world):
    content = browser().get(url("organizations")).content
    assert content.startswith("\ufeff".encode())
    assert "社会组织".encode() in content


# --- Personal data and sealed data ---------------------------------------------------------------


def _phone_of_injected(client: Client) -> str:
    frame = export(client, "organizations", params={"q": "cmd"})
    return frame.loc[frame["Name"] == safe(INJECTION), "Phone"].iloc[0]


def test_phones_are_masked_unless_the_role_shows_them_whole(world, other_org_admin):
    assert _phone_of_injected(browser()) == mask_phone(PHONE)
    assert _phone_of_injected(browser(official())) == mask_phone(PHONE)
    assert _phone_of_injected(browser(other_org_admin)) == mask_phone(PHONE)
    assert _phone_of_injected(browser(registry_admin())) == PHONE
    assert _phone_of_injected(browser(auditor())) == PHONE
    assert _phone_of_injected(browser(world.user(world.injection_member_id))) == PHONE


@pytest.mark.parametrize("fmt", FORMATS)
def test_flag_id_numbers_are_whole_for_auditors_only(world, fmt):
    number = world.flag_id_number

    def shown(user: User) -> str:
        frame = export(browser(user), "flags", fmt, {"kind": FlagKind.STAFF_ON_PUBLIC_PAYROLL})
        return frame["National ID number"].iloc[0]

    assert shown(official()) == mask_id_number(number)
    assert shown(auditor()) == number


@pytest.mark.parametrize("fmt", FORMATS)
def test_staffing_plans_in_the_bid_export_are_masked_for_officials(world, fmt):
    staff = BidStaff.objects.filter(bid__tender_id=world.awarded_tender_id).select_related("person")
    numbers = [row.person.id_number for row in staff]
    by_official = " ".join(
        export(browser(official()), "bids", fmt, pk=world.awarded_tender_id)["Staffing plan"]
    )
    by_auditor = " ".join(
        export(browser(auditor()), "bids", fmt, pk=world.awarded_tender_id)["Staffing plan"]
    )
    assert numbers
    for number in numbers:
        assert number not in by_official
        assert mask_id_number(number) in by_official
        assert number in by_auditor


# --- Formula injection ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_formula_in_a_title_or_a_name_comes_out_as_text(world, fmt):
    titles = export(browser(), "tenders", fmt, {"q": "cmd"})["Title"]
    assert list(titles) == ["'" + INJECTION]
    names = export(browser(), "organizations", fmt, {"q": "cmd"})["Name"]
    assert list(names) == ["'" + INJECTION]
    if fmt == "xlsx":
        response = browser().get(url("tenders", "xlsx"), {"q": "cmd"})
        cell = load_workbook(io.BytesIO(response.content)).active.cell(row=2, column=2)
        assert cell.data_type == "s"
        assert cell.value == "'" + INJECTION


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_trigger_is_neutralized(text):
    frame = pd.DataFrame({"a": [text], "b": [Decimal("-5.00")], text: ["x"]})
    back = pd.read_csv(io.BytesIO(exports.to_csv_bytes(frame)), encoding="utf-8-sig", dtype=str)
    assert back["a"][0].startswith("'")
    assert back["b"][0] == "-5.00"  # a number is no formula
    assert list(back.columns)[2].startswith("'")
    sheet = load_workbook(io.BytesIO(exports.to_xlsx_bytes(frame))).active
    # (XML reads a carriage return back as a line feed.)
    assert sheet.cell(row=2, column=1).value == "'" + text.replace("\r", "\n")
    assert sheet.cell(row=2, column=2).value == -5
    assert exports.neutralize("plain") == "plain"
    assert exports.neutralize(None) is None


# --- Queries, limits, errors ---------------------------------------------------------------------


def _queries(client: Client, address: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200
    return len(queries), len(frame_of(response, address.rsplit(".", 1)[1]))


def _more_flags() -> None:
    now = timezone.now()
    IntegrityFlag.objects.bulk_create(
        IntegrityFlag(
            kind=FlagKind.R003_SHORT_PERIOD,
            fingerprint=f"more-{number}",
            evidence_digest="-",
            subject_label=f"more {number}",
            first_seen_at=now,
            last_seen_at=now,
        )
        for number in range(40)
    )


def _more_organizations() -> None:
    category = ServiceCategory.objects.get(code="child_youth")
    for number in range(5):
        organization_create(
            name=f"新增社会组织{number}",
            uscc=make_uscc(
                authority="5", category="2", region="500103", org_body=f"6600000{number}"
            ),
            actor=None,
            verified=True,
            categories=[category],
        )


def _more_tenders() -> None:
    for number in range(3):
        publish_tender(
            official=official(),
            approver=persona("approver", Role.APPROVER),
            category=ServiceCategory.objects.get(code="child_youth"),
            title=f"新增招标项目{number}",
        )


@pytest.mark.parametrize(
    ("name", "who", "grow"),
    [
        ("flags", "auditor", _more_flags),
        ("organizations", "registry", _more_organizations),
        ("tenders", "official", _more_tenders),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_number_of_queries_does_not_grow_with_the_rows(world, name, who, grow, fmt):
    user = {"auditor": auditor, "registry": registry_admin, "official": official}[who]()
    client = browser(user)
    before, rows_before = _queries(client, url(name, fmt))
    grow()
    after, rows_after = _queries(client, url(name, fmt))
    assert rows_after > rows_before
    assert after == before
    assert after <= 10


def test_the_bid_export_takes_a_constant_number_of_queries(world, django_assert_max_num_queries):
    client = browser(auditor())
    with django_assert_max_num_queries(12):
        assert client.get(url("bids", "xlsx", world.awarded_tender_id)).status_code == 200


def test_beyond_the_row_limit_the_export_is_refused_with_the_reason(world, monkeypatch):
    monkeypatch.setitem(exports.ROW_LIMITS, "csv", 3)
    response = browser().get(url("tenders", "csv"))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "too_many_rows"
    assert "at most 3" in body["detail"]
    assert browser().get(url("tenders", "csv"), {"q": "批量招标项目01"}).status_code == 200


def test_the_xlsx_limit_is_the_lower_one_and_points_to_csv(world, monkeypatch):
    monkeypatch.setitem(exports.ROW_LIMITS, "xlsx", 3)
    response = browser().get(url("tenders", "xlsx"))
    assert response.status_code == 400
    assert "CSV" in response.json()["detail"]
    assert browser().get(url("tenders", "csv")).status_code == 200
    assert exports.ROW_LIMIT == 100_000


@pytest.mark.parametrize(
    ("name", "who", "params", "field"),
    [
        ("tenders", None, {"budget_min": "abc"}, "budget_min"),
        ("tenders", None, {"status": "nonsense"}, "status"),
        ("organizations", None, {"kind": "nonsense"}, "kind"),
        ("contracts", None, {"status": "nonsense"}, "status"),
        ("performance", "official", {"grade": "nonsense"}, "grade"),
        ("grades", "registry", {"status": "nonsense"}, "status"),
        ("flags", "auditor", {"tender": "abc"}, "tender"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_form_errors(world, name, who, params, field):
    user = {
        None: lambda: None,
        "official": official,
        "registry": registry_admin,
        "auditor": auditor,
    }[who]()
    for fmt in FORMATS:
        response = browser(user).get(url(name, fmt), params)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid_filter"
        assert list(body["fields"]) == [field]
        assert body["fields"][field]


def test_exports_take_only_get(world):
    for fmt in FORMATS:
        assert browser(official()).post(url("tenders", fmt)).status_code == 405
        assert (
            browser(official()).post(url("bids", fmt, world.awarded_tender_id)).status_code == 405
        )


def test_unknown_lists_and_formats_are_404(world):
    client = browser(official())
    assert client.get("/exports/invoices.csv").status_code == 404
    assert client.get("/exports/tenders.pdf").status_code == 404
    assert client.get("/exports/bids.csv").status_code == 404  # the bids of which tender?
    assert client.get(f"/exports/tenders/{world.awarded_tender_id}.csv").status_code == 404


# --- The links on the list pages -----------------------------------------------------------------


def test_the_tender_list_links_both_formats_with_its_filters(world):
    client = browser()
    html = client.get(
        reverse("tenders:list"), {"method": "competitive_consultation", "page": "2"}
    ).content.decode()
    assert f'{url("tenders", "csv")}?method=competitive_consultation"' in html
    assert f'{url("tenders", "xlsx")}?method=competitive_consultation"' in html
    partial = client.get(
        reverse("tenders:list"), {"q": "批量"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert f"{url('tenders', 'csv')}?q=" in partial


def test_every_list_page_links_its_export(world):
    pages = [
        (None, reverse("orgs_registry:directory"), "organizations"),
        (registry_admin(), reverse("orgs_registry:registry_organizations"), "registrations"),
        (None, reverse("tenders:contracts"), "contracts"),
        (official(), reverse("evaluation:performance_list"), "performance"),
        (registry_admin(), reverse("orgs_registry:grade_list"), "grades"),
        (auditor(), reverse("evaluation:integrity_queue"), "flags"),
    ]
    for user, page, name in pages:
        html = browser(user).get(page).content.decode()
        assert url(name, "csv") in html, page
        assert url(name, "xlsx") in html, page
    review = browser(official()).get(reverse("tenders:review", args=[world.awarded_tender_id]))
    assert url("bids", "xlsx", world.awarded_tender_id) in review.content.decode()


def test_the_sealed_review_page_offers_no_bid_export(world):
    html = browser(official()).get(reverse("tenders:review", args=[world.sealed_tender_id]))
    assert "/exports/bids/" not in html.content.decode()


# --- The frame helpers on plain data ------------------------------------------------------------


def test_a_mask_rule_may_decide_per_row():
    columns = [
        exports.Column("pk", "id", kind=exports.NUMBER),
        exports.Column(
            "phone",
            "phone",
            masked_unless=lambda user, rows: rows["pk"] == 2,
            mask=mask_phone,
        ),
    ]
    rows: list[dict[str, Any]] = [
        {"pk": 1, "phone": PHONE},
        {"pk": 2, "phone": PHONE},
        {"pk": 3, "phone": None},
    ]
    frame = exports.frame_from_rows(columns, rows, user=None)
    assert list(frame["phone"][:2]) == [mask_phone(PHONE), PHONE]
    assert pd.isna(frame["phone"][2])


def test_an_empty_list_exports_its_headers():
    columns = exports.export_list("tenders").columns
    with translation.override("en"):
        frame = exports.frame_from_rows(columns, [], user=None)
    back = pd.read_csv(io.BytesIO(exports.to_csv_bytes(frame)), encoding="utf-8-sig")
    assert "Budget ceiling (yuan)" in back.columns
    assert back.empty
    assert load_workbook(io.BytesIO(exports.to_xlsx_bytes(frame))).active.max_row == 1


def test_sheet_titles_are_ones_excel_accepts():
    assert exports.sheet_title("Flags: open/closed [2026]?") == "Flags openclosed 2026"
    assert len(exports.sheet_title("长" * 40)) == 31
    assert exports.sheet_title("") == "Sheet1"


def test_dates_times_are_shown_in_the_office_time_zone():
    columns = [exports.Column("at", "at", kind=exports.DATETIME)]
    moment = datetime(2026, 11, 26, 1, 30, tzinfo=ZoneInfo("UTC"))
    frame = exports.frame_from_rows(columns, [{"at": moment}, {"at": None}], user=None)
    assert frame["at"][0] == pd.Timestamp(2026, 11, 26, 9, 30)  # Asia/Shanghai, UTC+8
    assert pd.isna(frame["at"][1])


# --- The same downloads through the API --------------------------------------------------------


def api_url(name: str, fmt: str = "csv", pk: int | None = None) -> str:
    if pk is not None:
        return reverse("api:export-of", args=[name, pk, fmt])
    return reverse("api:export", args=[name, fmt])


def token_client(user: User) -> Client:
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_api_serves_the_pages_export(world, fmt):
    page = frame_of(browser().get(url("tenders", fmt), {"status": "published"}), fmt)
    api = frame_of(browser().get(api_url("tenders", fmt), {"status": "published"}), fmt)
    pd.testing.assert_frame_equal(page, api)
    assert len(api) > 0


def test_the_api_reads_the_token_and_keeps_the_callers_rights(world):
    anonymous = browser().get(api_url("flags"))
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]
    through_token = frame_of(token_client(auditor()).get(api_url("flags")), "csv")
    through_page = frame_of(browser(auditor()).get(url("flags")), "csv")
    pd.testing.assert_frame_equal(through_page, through_token)
    assert token_client(official()).get(api_url("registrations")).status_code in (403, 404)


def test_the_api_answers_bad_filters_and_unknown_lists_in_the_error_format(world):
    response = browser().get(api_url("tenders"), {"status": "nonsense"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"status": response.json()["fields"]["status"]}
    assert browser().get(api_url("nonsense")).status_code == 404
    assert browser(official()).post(api_url("tenders")).status_code == 405


def test_the_api_exports_a_tenders_bids_once_opened(world):
    tender = Tender.objects.get(pk=world.awarded_tender_id)
    through_api = frame_of(token_client(official()).get(api_url("bids", "csv", tender.pk)), "csv")
    assert through_api.equals(export(browser(official()), "bids", "csv", pk=tender.pk))
    assert len(through_api) >= 3
