"""OCDS 1.1 publication (reports/ocds.py): what each tender's releases say in each state, that
the package validates offline against the OCDS 1.1.5 schemas and codelists, that sealed bids
stay out of it until the opening, that it holds no personal data, and the three ways out:
``manage.py export_ocds``, ``GET /api/v1/ocds/releases/`` and the bulk file.

State is built once for the module with the real services (tests.contract_support and the
tenders fixtures): a contract in delivery with its first milestone paid and the payment
recorded; a failed tender (one bid where three are needed); a published tender with an
amendment and three sealed bids; a tender cancelled before its opening; a draft, one waiting
for approval and one returned to its drafter.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from marketplace.models import Role, User
from orgs_registry.models import Organization, Person, ServiceCategory
from reports import ocds
from tenders import services as tender_services
from tenders.models import Bid, Contract, Milestone, Tender, TenderDocument
from tenders.services import contracts as contract_services
from tenders.services import delivery as delivery_services
from tests import contract_support
from tests.conftest import Clock, building, module_database, patch_clock, persona
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import local

# The reference data lies beside the repository (../shared/data) or where $SHARED_DATA says.
OCDS_DIR = (
    Path(os.environ.get("SHARED_DATA") or Path(settings.BASE_DIR).parent / "shared" / "data")
    / "ocds-1.1.5"
)
REPORT_DAY = local(2027, 1, 25, 10, 0)
PAYMENT_DAY = local(2027, 1, 28, 15, 0)
FAILED_DAY = local(2027, 2, 1, 9, 0)
SEALED_DAY = local(2027, 3, 1, 9, 0)
BUILT_UNTIL = local(2027, 3, 3, 12, 0)
# Prices of the sealed bids: none of them may appear anywhere before the opening.
SEALED_PRICES = ["431234.56", "445678.9", "452345.67"]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class World:
    contract: int
    contract_tender: int
    failed: int
    sealed: int
    cancelled: int
    draft: int
    pending: int
    returned: int


def _official() -> User:
    return persona("official", Role.OFFICIAL)


def _approver() -> User:
    return persona("approver", Role.APPROVER)


def _publish(clock: Clock, title: str, **overrides: Any) -> Tender:
    return publish_tender(
        official=_official(),
        approver=_approver(),
        category=ServiceCategory.objects.get(code="elderly_care"),
        title=title,
        bid_deadline=clock.current + timedelta(days=25),
        question_deadline=clock.current + timedelta(days=12),
        service_start=date(2027, 6, 1),
        service_end=date(2028, 5, 31),
        **overrides,
    )


def _build(clock: Clock) -> World:
    # A contract in delivery (award notice 2026-09-30, started 2027-01-04); milestone 1 is
    # reported, accepted (released) and its payment recorded.
    contract = contract_support.make_active_contract(clock)
    clock.set(REPORT_DAY)
    first = Milestone.objects.get(contract=contract, sequence=1)
    report = delivery_services.delivery_report_file(
        milestone=first,
        actor=contract_support.supplier_member(contract),
        period_start=date(2027, 1, 4),
        period_end=date(2027, 1, 24),
        activities="上门探访独居老人 120 人次。",
        people_served=86,
    )
    delivery_services.delivery_report_accept(report=report, actor=_official())
    clock.set(PAYMENT_DAY)
    contract_services.milestone_payment_record(
        milestone=Milestone.objects.get(pk=first.pk),
        actor=_official(),
        paid_on=date(2027, 1, 27),
        reference="GK-2027-0001",
    )

    # Failed: one bid where an open tender needs three (流标 at the opening).
    clock.set(FAILED_DAY)
    failed = _publish(clock, "解放碑街道社区矫正帮教项目")
    submit_bid(failed, make_bidder("孤单投标社工中心"), "300000")
    clock.set(failed.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=failed, actor=_official())
    tender_services.tender_open(tender=failed, actor=persona("second_official", Role.OFFICIAL))

    # Published with an amendment (the budget goes down) and three sealed bids.
    clock.set(SEALED_DAY)
    sealed = _publish(clock, "解放碑街道儿童托管服务项目", budget=Decimal("500000.00"))
    clock.advance(days=1)
    tender_services.tender_amend(
        tender=sealed,
        actor=_official(),
        summary="根据财政评审意见调整预算。",
        changes={"budget": Decimal("470000.00")},
        uploads=[(SimpleUploadedFile("更正.pdf", PDF), "更正后的招标文件")],
    )
    clock.advance(hours=2)
    for index, price in enumerate(SEALED_PRICES):
        submit_bid(sealed, make_bidder(f"密封投标机构{index}号"), price)

    # Cancelled before its opening, with a sealed bid that stays sealed.
    cancelled = _publish(clock, "解放碑街道文体活动项目")
    submit_bid(cancelled, make_bidder("取消项目投标机构"), "199999.99")
    clock.advance(hours=1)
    tender_services.tender_cancel(tender=cancelled, actor=_official(), reason="预算未获批准。")

    # Never published.
    draft = _publish(clock, "草稿项目", published=False)
    pending = _publish(clock, "待审批项目", published=False)
    tender_services.tender_publish(tender=pending, actor=_official())
    returned = _publish(clock, "退回项目", published=False)
    tender_services.tender_publish(tender=returned, actor=_official())
    tender_services.tender_return(tender=returned, actor=_approver(), note="请补充服务标准。")
    clock.set(BUILT_UNTIL)
    return World(
        contract=contract.pk,
        contract_tender=contract.tender_id,
        failed=failed.pk,
        sealed=sealed.pk,
        cancelled=cancelled.pk,
        draft=draft.pk,
        pending=pending.pk,
        returned=returned.pk,
    )


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker,
            start=contract_support.DRAFT_DAY,
            media=tmp_path_factory.mktemp("ocds"),
        ) as clock,
    ):
        yield _build(clock)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return patch_clock(monkeypatch, BUILT_UNTIL)


@pytest.fixture
def world(_world, db, clock) -> World:
    return _world


# --- Reading the output -------------------------------------------------------------------------


def package(queryset=None, **kwargs: Any) -> dict[str, Any]:
    tenders = ocds.published_tenders() if queryset is None else queryset
    text = "".join(ocds.package_chunks(tenders, **kwargs))
    return json.loads(text)


def releases_of(pk: int) -> list[dict[str, Any]]:
    return list(ocds.releases_for(Tender.objects.filter(pk=pk)))


def by_tag(releases: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    return [release for release in releases if tag in release["tag"]]


def open_sealed(world: World, clock: Clock) -> None:
    tender = Tender.objects.get(pk=world.sealed)
    clock.set(tender.bid_deadline + timedelta(minutes=5))
    tender_services.tender_open(tender=tender, actor=_official())
    tender_services.tender_open(tender=tender, actor=persona("second_official", Role.OFFICIAL))


# --- Validation against the standard ------------------------------------------------------------

# jsonschema checks "date-time" and "uri" only with optional packages; these two checks
# stand in for them (RFC 3339 date-times with an offset; absolute URIs).
FORMATS = FormatChecker()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme in ("http", "https") and parts.netloc)


def _schema(name: str) -> dict[str, Any]:
    return json.loads((OCDS_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def standard() -> dict[str, Any]:
    if not OCDS_DIR.is_dir():
        message = f"the OCDS 1.1.5 schemas are not at {OCDS_DIR} (../shared/data/README.md)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must validate the OCDS output: set SHARED_DATA")
        pytest.skip(message)
    release = _schema("dereferenced-release-schema.json")
    registry = Registry().with_resource(
        release["id"], Resource.from_contents(release, default_specification=DRAFT4)
    )
    codelists = {}
    for path in (OCDS_DIR / "codelists").glob("*.csv"):
        with path.open(encoding="utf-8") as file:
            codelists[path.stem] = {row["Code"] for row in csv.DictReader(file)}
    return {
        "package": Draft4Validator(
            _schema("release-package-schema.json"), registry=registry, format_checker=FORMATS
        ),
        "release": Draft4Validator(release, format_checker=FORMATS),
        "bids": Draft4Validator(_bids_schema(release), format_checker=FORMATS),
        "codelists": codelists,
    }


# The bids extension v1.1.5 (open-contracting-extensions/ocds_bid_extension), transcribed:
# its release-schema.json patch for `bids`, with the codes of its bidStatistics.csv.
BID_STATISTICS = [
    "requests",
    "bids",
    "validBids",
    "bidders",
    "qualifiedBidders",
    "disqualifiedBidders",
    "electronicBids",
    "smeBids",
    "foreignBids",
    "foreignBidsFromEU",
    "foreignBidsFromNonEU",
    "tendersAbnormallyLow",
    "lowestValidBidValue",
    "highestValidBidValue",
]


def _bids_schema(release: dict[str, Any]) -> dict[str, Any]:
    definitions = release["definitions"]
    return {
        "type": "object",
        "properties": {
            "statistics": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "measure", "value"],
                    "properties": {
                        "id": {"type": "string"},
                        "measure": {"type": "string", "enum": BID_STATISTICS},
                        "date": {"type": ["string", "null"], "format": "date-time"},
                        "value": {"type": "number"},
                        "valueGross": {"type": ["number", "null"]},
                        "currency": {"type": ["string", "null"], "enum": ["CNY", None]},
                        "notes": {"type": ["string", "null"]},
                        "relatedLot": {"type": ["string", "null"]},
                    },
                },
            },
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string"},
                        "date": {"type": ["string", "null"], "format": "date-time"},
                        "status": {
                            "type": ["string", "null"],
                            "enum": [
                                "invited",
                                "pending",
                                "valid",
                                "disqualified",
                                "withdrawn",
                                None,
                            ],
                        },
                        "tenderers": {
                            "type": "array",
                            "items": definitions["OrganizationReference"],
                        },
                        "value": definitions["Value"],
                        "documents": {"type": "array", "items": definitions["Document"]},
                    },
                },
            },
        },
    }


def problems(standard: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """Every schema error and every code outside its codelist, as readable lines."""
    found = [
        f"package {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in standard["package"].iter_errors(document)
    ]
    codes = standard["codelists"]
    for release in document.get("releases", []):
        where = release.get("id", "?")
        found += [
            f"{where} {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in standard["release"].iter_errors(release)
        ]
        if "bids" in release:
            found += [
                f"{where} bids/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in standard["bids"].iter_errors(release["bids"])
            ]
        found += [f"{where}: {message}" for message in _codelist_problems(release, codes)]
    return found


def _codelist_problems(release: dict[str, Any], codes: dict[str, set[str]]) -> list[str]:
    """Codes outside their codelists. Releases are incremental: a field a release does not
    carry is not checked in it."""
    found: list[str] = []

    def check(codelist: str, value: Any, where: str) -> None:
        if value is not None and value not in codes[codelist]:
            found.append(f"{where} {value!r} is not in {codelist}")

    for tag in release["tag"]:
        check("releaseTag", tag, "tag")
    check("initiationType", release["initiationType"], "initiationType")
    tender = release.get("tender", {})
    check("tenderStatus", tender.get("status"), "tender.status")
    check("method", tender.get("procurementMethod"), "tender.procurementMethod")
    check("procurementCategory", tender.get("mainProcurementCategory"), "mainProcurementCategory")
    check("awardCriteria", tender.get("awardCriteria"), "tender.awardCriteria")
    check("currency", tender.get("value", {}).get("currency"), "tender.value.currency")
    for method in tender.get("submissionMethod", []):
        check("submissionMethod", method, "tender.submissionMethod")
    for party in release.get("parties", []):
        for role in party["roles"]:
            check("partyRole", role, f"party {party['id']} role")
    documents = list(tender.get("documents", []))
    for award in release.get("awards", []):
        check("awardStatus", award.get("status"), "award.status")
    for contract in release.get("contracts", []):
        check("contractStatus", contract.get("status"), "contract.status")
        documents += contract.get("documents", [])
        implementation = contract.get("implementation", {})
        for milestone in contract.get("milestones", []) + implementation.get("milestones", []):
            check("milestoneStatus", milestone.get("status"), "milestone.status")
            check("milestoneType", milestone.get("type"), "milestone.type")
    for document in documents:
        check("documentType", document.get("documentType"), "documentType")
    return found


def test_the_checks_themselves_catch_errors(world, standard):
    """A release with a date without time, a closed-codelist slip and an unknown tag fails."""
    document = package()
    release = document["releases"][0]
    release["date"] = "2027-01-01"
    release["tag"] = ["tender", "rumour"]
    release["tender"]["status"] = "open"
    release["parties"][0]["roles"] = ["boss"]
    found = problems(standard, document)
    assert any("'2027-01-01' is not a 'date-time'" in line for line in found)
    assert any("'rumour'" in line for line in found)
    assert any("'open' is not in tenderStatus" in line for line in found)
    assert any("'boss' is not in partyRole" in line for line in found)


def test_the_whole_package_validates_with_zero_errors(world, standard, clock):
    document = package()
    assert problems(standard, document) == []
    tags = {tag for release in document["releases"] for tag in release["tag"]}
    assert {
        "tender",
        "tenderAmendment",
        "tenderUpdate",
        "tenderCancellation",
        "award",
        "contract",
        "implementation",
    } <= tags


def test_the_package_validates_after_the_opening_and_a_termination(world, standard, clock):
    open_sealed(world, clock)
    contract = Contract.objects.get(pk=world.contract)
    clock.set(local(2027, 4, 1, 10, 0))
    contract_services.contract_terminate(contract=contract, actor=_official(), reason="服务中止。")
    document = package()
    assert problems(standard, document) == []
    assert any("contractTermination" in release["tag"] for release in document["releases"])


# --- Which tenders, which releases ---------------------------------------------------------------


def test_only_published_tenders_are_in_the_package(world):
    document = package()
    ocids = {release["ocid"] for release in document["releases"]}
    published = Tender.objects.filter(
        pk__in=[world.contract_tender, world.failed, world.sealed, world.cancelled]
    )
    assert ocids == {f"{settings.OCDS_OCID_PREFIX}-{t.reference}" for t in published}
    text = json.dumps(document, ensure_ascii=False)
    for title in ("草稿项目", "待审批项目", "退回项目"):
        assert title not in text
    for pk in (world.draft, world.pending, world.returned):
        assert releases_of(pk) == []


def test_the_package_names_its_publisher_license_and_the_bids_extension(world):
    document = package()
    assert document["version"] == "1.1"
    assert document["extensions"] == [ocds.BIDS_EXTENSION]
    assert document["license"] == settings.OCDS_LICENSE_URL
    assert document["uri"].endswith(reverse("reports:ocds_bulk"))
    assert document["publicationPolicy"] == settings.OCDS_SITE_URL + reverse("reports:data")
    assert document["publisher"]["name"] == "重庆市渝中区解放碑街道办事处"
    assert re.search(r"\+08:00$", document["publishedDate"])


def test_release_ids_are_unique_and_stable(world, clock):
    first = [release["id"] for release in package()["releases"]]
    clock.advance(days=1)
    second = [release["id"] for release in package()["releases"]]
    assert first == second
    assert len(set(first)) == len(first)
    assert all(rid.startswith(settings.OCDS_OCID_PREFIX + "-") for rid in first)


def test_the_buyer_is_the_street_office_in_both_languages(world):
    [release, *_] = releases_of(world.sealed)
    buyer = release["parties"][0]
    assert buyer["roles"] == ["buyer", "procuringEntity"]
    assert release["buyer"] == {"id": buyer["id"], "name": buyer["name"]}
    assert release["tender"]["procuringEntity"] == release["buyer"]
    assert buyer["name_en"] == "Jiefangbei Sub-district Office, Yuzhong District, Chongqing"
    assert "identifier" not in buyer  # no registered code configured


def test_with_the_street_offices_code_the_buyer_is_identified_by_it(world, settings):
    settings.STREET_OFFICE = {**settings.STREET_OFFICE, "uscc": "11500103MB1234567X"}
    [release, *_] = releases_of(world.sealed)
    buyer = release["parties"][0]
    assert buyer["id"] == "CN-USCI-11500103MB1234567X"
    assert buyer["identifier"]["scheme"] == "CN-USCI"
    publisher = package()["publisher"]
    assert (publisher["scheme"], publisher["uid"]) == ("CN-USCI", "11500103MB1234567X")


def test_the_tender_release_has_the_values_before_the_amendment(world):
    releases = releases_of(world.sealed)
    assert [release["tag"] for release in releases] == [["tender"], ["tenderAmendment"]]
    tender_release, amended = releases
    assert tender_release["tender"]["value"] == {"amount": 500000, "currency": "CNY"}
    assert "amendments" not in tender_release["tender"]
    assert amended["tender"]["value"] == {"amount": 470000, "currency": "CNY"}
    [amendment] = amended["tender"]["amendments"]
    assert amendment["rationale"] == "根据财政评审意见调整预算。"
    assert amendment["amendsReleaseID"] == tender_release["id"]
    assert amendment["releaseID"] == amended["id"]
    assert "500000.00" in amendment["description"]
    assert "470000.00" in amendment["description"]
    # The document the amendment added is in its release, not in the earlier one.
    assert "documents" not in tender_release["tender"]
    [document] = amended["tender"]["documents"]
    assert document["title"] == "更正后的招标文件"
    assert document["documentType"] == "biddingDocuments"
    assert document["url"].startswith(settings.OCDS_SITE_URL + "/tenders/documents/")


def test_a_document_added_by_an_amendment_is_published_with_it(world):
    """The document is stored a moment after the amendment's row; it is still in the
    amendment's release, dated with it."""
    document = TenderDocument.objects.get(tender_id=world.sealed)
    assert document.amendment is not None
    TenderDocument.objects.filter(pk=document.pk).update(
        uploaded_at=document.amendment.published_at + timedelta(milliseconds=350)
    )
    tender_release, amended = releases_of(world.sealed)
    assert "documents" not in tender_release["tender"]
    [listed] = amended["tender"]["documents"]
    assert listed["datePublished"] == amended["date"]


def test_a_tender_names_its_method_category_and_periods_in_chinese_and_english(world):
    tender = releases_of(world.sealed)[0]["tender"]
    assert tender["procurementMethod"] == "open"
    assert tender["procurementMethodDetails_en"] == "Open tender"
    assert tender["procurementMethodDetails"]
    assert tender["mainProcurementCategory"] == "services"
    [item] = tender["items"]
    assert item["classification"]["id"] == "elderly_care"
    category = ServiceCategory.objects.get(code="elderly_care")
    assert item["classification"]["description"] == category.name_zh
    assert item["classification"]["description_en"] == category.name_en
    assert tender["contractPeriod"]["startDate"] == "2027-06-01T00:00:00+08:00"
    model = Tender.objects.get(pk=world.sealed)
    assert tender["tenderPeriod"]["endDate"] == model.bid_deadline.astimezone(
        local(2027, 1, 1).tzinfo
    ).isoformat(timespec="seconds")


# --- Sealed bids ---------------------------------------------------------------------------------


def _sealed_bidders(world: World) -> list[Organization]:
    return [
        bid.organization
        for bid in Bid.objects.filter(tender_id=world.sealed).select_related("organization")
    ]


def test_before_the_opening_nothing_of_the_bids_is_published(world):
    releases = releases_of(world.sealed)
    text = json.dumps(releases, ensure_ascii=False)
    for release in releases:
        assert "bids" not in release
        assert "numberOfTenderers" not in release["tender"]
        assert "tenderers" not in release["tender"]
        for party in release.get("parties", []):
            assert party["roles"] == ["buyer", "procuringEntity"]
    for organization in _sealed_bidders(world):
        assert organization.name not in text
        assert organization.uscc not in text
    for price in SEALED_PRICES:
        assert price not in text
        assert price.replace(".", "") not in text
    for bid in Bid.objects.filter(tender_id=world.sealed):
        assert str(bid.pk) not in text


def test_a_tender_cancelled_before_its_opening_keeps_its_bids_sealed(world):
    releases = releases_of(world.cancelled)
    assert releases[-1]["tag"] == ["tenderCancellation"]
    assert releases[-1]["tender"]["status"] == "cancelled"
    [reason] = releases[-1]["tender"]["documents"]
    assert (reason["documentType"], reason["description"]) == (
        "cancellationDetails",
        "预算未获批准。",
    )
    text = json.dumps(releases, ensure_ascii=False)
    assert "199999.99" not in text
    assert "取消项目投标机构" not in text
    assert all("bids" not in release for release in releases)


def test_after_the_opening_the_bids_and_their_statistics_are_published(world, clock):
    open_sealed(world, clock)
    releases = releases_of(world.sealed)
    assert [release["tag"] for release in releases] == [
        ["tender"],
        ["tenderAmendment"],
        ["tenderUpdate"],
    ]
    before, opened = releases[1], releases[2]
    assert "bids" not in before
    statistics = {s["measure"]: s["value"] for s in opened["bids"]["statistics"]}
    assert statistics == {"bids": 3, "bidders": 3}  # reviewed later: no valid count yet
    details = opened["bids"]["details"]
    assert sorted(d["value"]["amount"] for d in details) == [
        float(price) for price in SEALED_PRICES
    ]
    assert {d["status"] for d in details} == {"pending"}
    names = {d["tenderers"][0]["name"] for d in details}
    assert names == {organization.name for organization in _sealed_bidders(world)}
    assert opened["tender"]["numberOfTenderers"] == 3
    tenderers = [p for p in opened["parties"] if "tenderer" in p["roles"]]
    assert len(tenderers) == 3
    assert all(p["identifier"]["scheme"] == "CN-USCI" for p in tenderers)
    # The earlier releases do not change: nothing learnt at the opening goes back in time.
    assert releases[:2] == releases_of(world.sealed)[:2]


def test_a_review_adds_the_valid_bids(world, clock):
    open_sealed(world, clock)
    bids = list(Bid.objects.filter(tender_id=world.sealed).order_by("price"))
    for bid in bids[:-1]:
        tender_services.bid_review(bid=bid, actor=_official(), qualified=True)
    tender_services.bid_review(bid=bids[-1], actor=_official(), qualified=False, reason="资质不全")
    opened = releases_of(world.sealed)[-1]
    statistics = {s["measure"]: s["value"] for s in opened["bids"]["statistics"]}
    assert statistics["validBids"] == 2
    assert statistics["disqualifiedBidders"] == 1
    assert statistics["lowestValidBidValue"] == 431234.56
    assert statistics["highestValidBidValue"] == 445678.9
    assert sorted(d["status"] for d in opened["bids"]["details"]) == [
        "disqualified",
        "valid",
        "valid",
    ]


def test_a_failed_tender_is_unsuccessful_with_its_one_bid(world):
    releases = releases_of(world.failed)
    # The opening and the failure it causes are one release.
    assert [release["tag"] for release in releases] == [["tender"], ["tenderUpdate"]]
    last = releases[-1]
    assert last["tender"]["status"] == "unsuccessful"
    assert {s["measure"]: s["value"] for s in last["bids"]["statistics"]}["bids"] == 1
    [reason] = [d for d in last["tender"]["documents"] if d["id"] == "failure"]
    assert reason["documentType"] == "cancellationDetails"
    assert reason["description"]


# --- Award, contract, implementation -------------------------------------------------------------


def test_the_award_names_the_supplier_and_the_price(world):
    releases = releases_of(world.contract_tender)
    [award_release] = by_tag(releases, "award")
    [award] = award_release["awards"]
    contract = Contract.objects.select_related("organization").get(pk=world.contract)
    assert award["status"] == "active"
    assert award["value"] == {"amount": 480000, "currency": "CNY"}
    assert award["suppliers"] == [
        {"id": f"CN-USCI-{contract.organization.uscc}", "name": contract.organization.name}
    ]
    assert award_release["tender"]["status"] == "complete"
    supplier = next(p for p in award_release["parties"] if p["id"] == award["suppliers"][0]["id"])
    assert supplier["roles"] == ["tenderer", "supplier"]
    # Before the award notice the tender was still active and had no awards.
    before = ocds.record(releases[: releases.index(award_release)])
    assert "awards" not in before
    assert before["tender"]["status"] == "active"


def test_the_contract_carries_its_payment_milestones(world):
    releases = releases_of(world.contract_tender)
    [contract_release] = by_tag(releases, "contract")
    [contract] = contract_release["contracts"]
    model = Contract.objects.get(pk=world.contract)
    assert contract["id"] == model.reference
    assert contract["awardID"] == str(model.award_id)
    assert contract["status"] == "active"
    assert contract["value"] == {"amount": 480000, "currency": "CNY"}
    assert [m["status"] for m in contract["milestones"]] == ["scheduled"] * 3
    assert [m["type"] for m in contract["milestones"]] == ["payment"] * 3
    first = contract["milestones"][0]
    milestone = Milestone.objects.get(contract=model, sequence=1)
    assert first["title"] == milestone.title
    if milestone.title_en:
        assert first["title_en"] == milestone.title_en
    assert first["dueDate"] == "2027-01-31T23:59:59+08:00"
    assert "implementation" not in contract


def test_the_releases_merge_into_the_record_of_the_whole_process(world):
    """Releases are incremental: merged in date order they give the process as it stands."""
    compiled = ocds.record(releases_of(world.contract_tender))
    model = Contract.objects.select_related("organization").get(pk=world.contract)
    assert compiled["tender"]["status"] == "complete"
    assert compiled["tender"]["numberOfTenderers"] == 4
    assert [award["status"] for award in compiled["awards"]] == ["active"]
    [contract] = compiled["contracts"]
    assert contract["status"] == "active"
    assert [m["status"] for m in contract["milestones"]] == ["scheduled"] * 3
    assert [m["status"] for m in contract["implementation"]["milestones"]] == ["met"]
    assert len(contract["implementation"]["transactions"]) == 1
    roles = {party["id"]: party["roles"] for party in compiled["parties"]}
    assert roles[f"CN-USCI-{model.organization.uscc}"] == ["tenderer", "supplier", "payee"]
    assert roles[compiled["buyer"]["id"]] == ["buyer", "procuringEntity", "payer"]
    statistics = {s["measure"]: s["value"] for s in compiled["bids"]["statistics"]}
    assert (statistics["bids"], statistics["validBids"]) == (4, 4)
    assert {d["status"] for d in compiled["bids"]["details"]} == {"valid"}
    assert all("value" in d for d in compiled["bids"]["details"])


def test_implementation_releases_record_the_met_milestone_and_the_payment(world):
    releases = releases_of(world.contract_tender)
    settled, paid = by_tag(releases, "implementation")
    implementation = settled["contracts"][0]["implementation"]
    [milestone] = implementation["milestones"]
    assert (milestone["id"], milestone["status"]) == ("1", "met")
    assert milestone["dateMet"] == REPORT_DAY.isoformat(timespec="seconds")
    assert "transactions" not in implementation
    [transaction] = paid["contracts"][0]["implementation"]["transactions"]
    assert transaction["id"] == "1-GK-2027-0001"
    assert transaction["date"] == "2027-01-27T00:00:00+08:00"
    assert transaction["value"] == {"amount": 144000, "currency": "CNY"}
    assert transaction["payer"] == releases[0]["buyer"]
    payee = next(p for p in paid["parties"] if p["id"] == transaction["payee"]["id"])
    assert "payee" in payee["roles"]
    assert "payer" in paid["parties"][0]["roles"]
    assert paid["date"] == PAYMENT_DAY.isoformat(timespec="seconds")


def test_a_terminated_contract_ends_with_its_milestones_not_met(world, clock):
    clock.set(local(2027, 4, 1, 10, 0))
    contract_services.contract_terminate(
        contract=Contract.objects.get(pk=world.contract), actor=_official(), reason="服务中止。"
    )
    releases = releases_of(world.contract_tender)
    last = releases[-1]
    assert last["tag"] == ["implementation", "contractTermination"]
    [contract] = last["contracts"]
    assert contract["status"] == "terminated"
    assert [m["status"] for m in contract["implementation"]["milestones"]] == ["notMet"] * 2
    assert contract["documents"][0]["description"] == "服务中止。"
    [compiled] = ocds.record(releases)["contracts"]
    assert [m["status"] for m in compiled["implementation"]["milestones"]] == [
        "met",
        "notMet",
        "notMet",
    ]


# --- Personal data --------------------------------------------------------------------------------


def test_no_personal_data_is_published(world, clock):
    open_sealed(world, clock)
    text = "".join(ocds.package_chunks(ocds.published_tenders()))
    people = list(Person.objects.values_list("name", "id_number", "phone"))
    assert people
    for name, id_number, phone in people:
        assert name not in text
        assert id_number not in text
        if phone:
            assert phone not in text
    for user in User.objects.all():
        assert user.email not in text
        assert f'"{user.username}"' not in text
        if user.full_name:
            assert user.full_name not in text
    for organization in Organization.objects.exclude(legal_representative=""):
        assert organization.legal_representative not in text


# --- Command, API, bulk file ----------------------------------------------------------------------


def test_export_ocds_writes_the_package_to_a_file(world, standard, tmp_path):
    out = tmp_path / "releases.json"
    err = io.StringIO()
    call_command("export_ocds", "--out", str(out), stderr=err)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert problems(standard, document) == []
    assert document["uri"].startswith(settings.OCDS_SITE_URL)
    assert "releases of 4 tenders" in err.getvalue()
    assert list(tmp_path.iterdir()) == [out]  # the temporary file is gone


def test_export_ocds_writes_to_standard_output_without_out(world):
    out = io.StringIO()
    call_command("export_ocds", stdout=out)
    assert len({r["ocid"] for r in json.loads(out.getvalue())["releases"]}) == 4


def test_export_ocds_refuses_a_missing_folder(world, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_ocds", "--out", str(tmp_path / "no" / "releases.json"))


def test_the_api_answers_one_tenders_package_without_login(world, client, standard):
    tender = Tender.objects.get(pk=world.sealed)
    response = client.get(reverse("api:ocds-releases"), {"tender": tender.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    document = json.loads(response.content)
    assert problems(standard, document) == []
    assert {r["ocid"] for r in document["releases"]} == {ocds.ocid(tender)}
    assert document["uri"].startswith("http://testserver/api/v1/ocds/releases/")
    tenders = [release["tender"] for release in document["releases"] if "tender" in release]
    urls = [d["url"] for tender in tenders for d in tender.get("documents", []) if "url" in d]
    assert urls
    assert all(url.startswith("http://testserver/") for url in urls)


def test_the_api_streams_every_published_tender_without_a_tender(world, client):
    response = client.get(reverse("api:ocds-releases"))
    assert response.status_code == 200
    assert response.streaming
    document = json.loads(b"".join(response.streaming_content))
    assert len({r["ocid"] for r in document["releases"]}) == 4


@pytest.mark.parametrize("value", ["abc", "", "-3", "0", "1.5", str(2**64)])
def test_a_bad_tender_number_is_a_400_in_the_error_format(world, client, value):
    response = client.get(reverse("api:ocds-releases"), {"tender": value})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    assert body["error"] == "invalid"
    assert "tender" in body["fields"]


def test_an_unpublished_or_missing_tender_is_a_404(world, client):
    for pk in (world.draft, world.pending, world.returned, 999_999):
        response = client.get(reverse("api:ocds-releases"), {"tender": pk})
        assert response.status_code == 404
        assert set(response.json()) == {"error", "detail", "fields"}


def test_the_api_is_described_in_the_openapi_schema(world, client):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    operation = response.json()["paths"]["/api/v1/ocds/releases/"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["tender"]
    assert {"200", "400", "404"} <= set(operation["responses"])


def test_the_query_count_does_not_grow_with_the_tenders(world, client, clock):
    def count(**params: Any) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("api:ocds-releases"), params)
            if response.streaming:
                b"".join(response.streaming_content)
        return len(queries)

    everything = count()
    one = count(tender=world.contract_tender)
    open_sealed(world, clock)
    clock.set(local(2027, 5, 1, 9, 0))
    for index in range(3):
        tender = _publish(clock, f"新增项目{index}")
        submit_bid(tender, make_bidder(f"新增投标机构{index}"), "250000")
    assert count() == everything
    assert count(tender=world.contract_tender) == one
    assert everything <= 15


def test_the_bulk_file_is_an_attachment_streamed_as_it_is_written(world, client, standard):
    response = client.get(reverse("reports:ocds_bulk"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="releases.json"'
    document = json.loads(b"".join(response.streaming_content))
    assert problems(standard, document) == []
    assert client.post(reverse("reports:ocds_bulk")).status_code == 405


def test_the_package_is_written_batch_by_batch(world, monkeypatch):
    """With batches of one tender the package is the same, read in more, equal batches."""
    whole = package()["releases"]
    seen: list[int] = []
    original = ocds.batches

    def counting(queryset, size=1):
        for batch in original(queryset, 1):
            seen.append(len(batch.tenders))
            yield batch

    monkeypatch.setattr(ocds, "batches", counting)
    assert package()["releases"] == whole
    assert seen == [1, 1, 1, 1]
