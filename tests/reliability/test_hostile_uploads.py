"""Hostile files at every upload point, through the page and through the API.

Upload points (every ``FileField`` of the forms, serializers and models): tender documents,
bid documents, challenge evidence, delivery report photos and documents, the low-price
justification's document, the organization's roster import and the auditors' funding
imports. (Organizations register without documents: there is no upload there.)

Each hostile file (a program or an HTML page renamed .pdf, an SVG with a script, a PDF
that runs JavaScript, written plainly, with escaped names or inside a compressed object
stream, a zip bomb dressed as .docx or .xlsx, an oversize file) is refused with a message
on the upload field, and leaves nothing behind: no row, no audit event, no file under
``MEDIA_ROOT``. Names that try to leave their folder or hide their extension are stored
cleaned. Every download is an attachment with ``nosniff``.

The tenders are built once for the module (each test rolls back to them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from evaluation.models import PriceJustification
from marketplace.models import AuditEvent, Role, User
from marketplace.uploads import DOCUMENT_MAX_BYTES
from orgs_registry import roster_import, services_funding
from orgs_registry.models import Employment, FundingImport, ServiceCategory, StaffingRecord
from tenders import sealing
from tenders.models import (
    Bid,
    BidDocument,
    ChallengeDocument,
    DeliveryDocument,
    Milestone,
    Tender,
    TenderDocument,
)
from tenders.services import bid_prepare
from tenders.services import contracts as contract_services
from tests.conftest import building, module_database, persona
from tests.contract_support import ACTIVE_DAY, DRAFT_DAY, supplier_member
from tests.evaluation.conftest import form_panel
from tests.evaluation.test_api_support import build_opened, build_personas, build_pool
from tests.funding_support import STAFFING_HEADER, csv_bytes, staff_row
from tests.reliability import hostile_support as hostile
from tests.tenders.conftest import make_bidder, publish_tender
from tests.tenders.test_award import RANKED_AT, awarded_tender, local

IN_THE_CHALLENGE_WINDOW = local(2026, 10, 9, 9, 0)
REPORT_DAY = local(2027, 1, 25, 10, 0)
LOW_PRICES = ["480000", "450000", "470000", "300000"]
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}

# --- What every document point must refuse -------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    label: str
    name: str
    data: bytes
    says: str  # a phrase of the refusal ("a|b": either)


HOSTILE_DOCUMENTS = [
    Hostile("program renamed .pdf", "方案.pdf", hostile.EXECUTABLE, "a program"),
    Hostile("ELF program renamed .pdf", "run.pdf", hostile.ELF, "a program"),
    Hostile("HTML renamed .pdf", "page.pdf", hostile.HTML, "not an accepted document"),
    Hostile("SVG with a script", "logo.svg", hostile.SVG, "not an accepted document"),
    Hostile("PDF opening with JavaScript", "a.pdf", hostile.PDF_OPEN_ACTION_JS, "scripts"),
    Hostile("PDF with escaped /J#53 names", "b.pdf", hostile.PDF_ESCAPED_JS, "scripts"),
    Hostile("PDF with JS in an object stream", "c.pdf", hostile.PDF_OBJECT_STREAM_JS, "scripts"),
    Hostile("PDF launching a program", "d.pdf", hostile.PDF_LAUNCH, "scripts"),
    Hostile("zip bomb as .docx", "plan.docx", hostile.DOCX_BOMB, "unpacks to"),
    Hostile("zip bomb as .xlsx", "budget.xlsx", hostile.XLSX_BOMB, "unpacks to"),
    Hostile("Word file with macros", "m.docx", hostile.DOCX_WITH_MACROS, "macros"),
    Hostile("empty file", "empty.pdf", b"", "empty"),
]


# --- The shared state ----------------------------------------------------------------------


@dataclass
class World:
    draft_tender: int
    bid: uuid.UUID
    bid_day: Any
    awarded_tender: int
    challenger: int
    justification: int
    justification_day: Any
    organization: int


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        build_pool()
        ranked = awarded_tender(clock)
        challenger = ranked.bidder_of(ranked.bid_at(2)).member
        # The low price's justification is requested when the panel is formed.
        opened = build_opened(clock, prices=LOW_PRICES)
        form_panel(opened.tender, persona("official", Role.OFFICIAL))
        justification = PriceJustification.objects.get(bid__tender=opened.tender)
        justification_day = clock.current
        # A tender taking bids with one draft bid, and a draft tender.
        official, approver = persona("official", Role.OFFICIAL), persona("approver", Role.APPROVER)
        category = ServiceCategory.objects.get(code="elderly_care")
        open_for_bids = publish_tender(official=official, approver=approver, category=category)
        bid_day = clock.current + timedelta(hours=1)
        bidder = make_bidder("上传测试机构")
        bid = bid_prepare(tender=open_for_bids, actor=bidder.admin, proposal="方案")
        draft = publish_tender(
            official=official, approver=approver, category=category, published=False
        )
        yield World(
            draft_tender=draft.pk,
            bid=bid.pk,
            bid_day=bid_day,
            awarded_tender=ranked.tender.pk,
            challenger=challenger.pk,
            justification=justification.pk,
            justification_day=justification_day,
            organization=persona("org_admin", Role.ORG_ADMIN).organization_id,
        )


@pytest.fixture
def world(_world, db) -> World:
    return _world


def client_of(user: User) -> Client:
    """A client signed in as ``user`` reading English pages and API messages."""
    client = Client(**ENGLISH)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def user(username: str) -> User:
    return User.objects.get(username=username)


def active_contract_milestone(world: World, clock) -> Milestone:
    """The awarded tender's contract, drawn up, signed and started (within this test)."""
    clock.set(DRAFT_DAY)
    tender = Tender.objects.get(pk=world.awarded_tender)
    official = persona("official", Role.OFFICIAL)
    contract = contract_services.contract_draft(tender=tender, actor=official)
    contract_services.contract_sign(contract=contract, actor=official)
    supplier = User.objects.filter(
        organization_id=contract.organization_id, role=Role.ORG_ADMIN
    ).first()
    contract_services.contract_sign(contract=contract, actor=supplier)
    clock.set(ACTIVE_DAY)
    contract_services.contracts_start_due()
    clock.set(REPORT_DAY)
    return Milestone.objects.get(contract=contract, sequence=1)


# --- The upload points ---------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One way a file reaches the application: the channel, the field the refusal must
    name, how to post a file there and how many documents it holds."""

    name: str
    field: str
    post: Callable[[World, Any, Any], Any]  # (world, clock, file) -> response
    stored: Callable[[], int]
    api: bool


def _tender_document_page(world, clock, file):
    client = client_of(persona("official", Role.OFFICIAL))
    url = reverse("tenders:documents", args=[world.draft_tender])
    return client.post(url, {"file": file, "title": ""})


def _tender_document_api(world, clock, file):
    client = client_of(persona("official", Role.OFFICIAL))
    return client.post(f"/api/v1/tenders/{world.draft_tender}/documents/", {"file": file})


def _bid_owner(world) -> User:
    bid = Bid.objects.get(pk=world.bid)
    return User.objects.filter(organization_id=bid.organization_id, role=Role.ORG_ADMIN).get()


def _bid_document_page(world, clock, file):
    clock.set(world.bid_day)
    url = reverse("tenders:bid_document_add", args=[world.bid])
    return client_of(_bid_owner(world)).post(
        url, {"document-file": file, "document-kind": "technical"}
    )


def _bid_document_api(world, clock, file):
    clock.set(world.bid_day)
    return client_of(_bid_owner(world)).post(f"/api/v1/bids/{world.bid}/documents/", {"file": file})


def _challenge_page(world, clock, file):
    clock.set(IN_THE_CHALLENGE_WINDOW)
    url = reverse("tenders:challenge_file", args=[world.awarded_tender])
    client = client_of(User.objects.get(pk=world.challenger))
    return client.post(url, {"subject": "评分有误", "text": "价格分算错。", "documents": [file]})


def _challenge_api(world, clock, file):
    clock.set(IN_THE_CHALLENGE_WINDOW)
    client = client_of(User.objects.get(pk=world.challenger))
    body = {"tender": world.awarded_tender, "subject": "评分有误", "text": "价格分算错。"}
    return client.post("/api/v1/challenges/", {**body, "documents": [file]})


REPORT_FIELDS = {
    "period_start": "2027-01-04",
    "period_end": "2027-01-24",
    "activities": "上门探访独居老人。",
    "people_served": "8",
    "service_sessions": "2",
}


def _milestone(world, clock) -> Milestone:
    """The test's active contract's first milestone, made on the test's first report."""
    if not hasattr(clock, "hostile_milestone"):
        clock.hostile_milestone = active_contract_milestone(world, clock)
    return Milestone.objects.get(pk=clock.hostile_milestone.pk)


def _report_page(world, clock, file):
    milestone = _milestone(world, clock)
    client = client_of(supplier_member(milestone.contract))
    management = {
        "spending-TOTAL_FORMS": "0",
        "spending-INITIAL_FORMS": "0",
        "spending-MIN_NUM_FORMS": "0",
        "spending-MAX_NUM_FORMS": "50",
    }
    url = reverse("tenders:delivery_report_file", args=[milestone.pk])
    return client.post(url, {**REPORT_FIELDS, **management, "uploads": [file]})


def _report_api(world, clock, file):
    milestone = _milestone(world, clock)
    client = client_of(supplier_member(milestone.contract))
    body = {**REPORT_FIELDS, "milestone": milestone.pk, "spending": "[]", "uploads": [file]}
    return client.post(f"/api/v1/contracts/{milestone.contract_id}/reports/", body)


def _cheap_admin(world) -> User:
    justification = PriceJustification.objects.select_related("bid").get(pk=world.justification)
    return User.objects.filter(
        organization_id=justification.bid.organization_id, role=Role.ORG_ADMIN
    ).get()


def _justification_page(world, clock, file):
    clock.set(world.justification_day)
    url = reverse("evaluation:justification_submit", args=[world.justification])
    return client_of(_cheap_admin(world)).post(url, {"text": "志愿者补充人力。", "file": file})


def _justification_api(world, clock, file):
    clock.set(world.justification_day)
    url = f"/api/v1/price-justifications/{world.justification}/submit/"
    return client_of(_cheap_admin(world)).post(url, {"text": "志愿者补充人力。", "document": file})


def _justification_documents() -> int:
    return PriceJustification.objects.exclude(document="").count()


DOCUMENT_POINTS = [
    Point(
        "tender document page", "file", _tender_document_page, TenderDocument.objects.count, False
    ),
    Point("tender document API", "file", _tender_document_api, TenderDocument.objects.count, True),
    Point("bid document page", "file", _bid_document_page, BidDocument.objects.count, False),
    Point("bid document API", "file", _bid_document_api, BidDocument.objects.count, True),
    Point("challenge page", "documents", _challenge_page, ChallengeDocument.objects.count, False),
    Point("challenge API", "documents", _challenge_api, ChallengeDocument.objects.count, True),
    Point("report page", "uploads", _report_page, DeliveryDocument.objects.count, False),
    Point("report API", "uploads", _report_api, DeliveryDocument.objects.count, True),
    Point("justification page", "file", _justification_page, _justification_documents, False),
    Point("justification API", "document", _justification_api, _justification_documents, True),
]


def _org_admin() -> User:
    return persona("org_admin", Role.ORG_ADMIN)


def _roster_page(world, clock, file):
    url = reverse("orgs_registry:roster_import", args=[world.organization])
    return client_of(_org_admin()).post(url, {"file": file})


def _roster_api(world, clock, file):
    url = f"/api/v1/organizations/{world.organization}/staff/import/"
    return client_of(_org_admin()).post(url, {"file": file})


def _funding_page(world, clock, file):
    url = reverse("orgs_registry:funding_upload")
    return client_of(persona("auditor", Role.AUDITOR)).post(
        url, {"kind": "staffing", "file": file, "note": ""}
    )


def _funding_api(world, clock, file):
    client = client_of(persona("auditor", Role.AUDITOR))
    return client.post("/api/v1/staffing-records/import/", {"file": file})


SPREADSHEET_POINTS = [
    Point("roster import page", "file", _roster_page, Employment.objects.count, False),
    Point("roster import API", "file", _roster_api, Employment.objects.count, True),
    Point("funding import page", "file", _funding_page, FundingImport.objects.count, False),
    Point("funding import API", "file", _funding_api, FundingImport.objects.count, True),
]

HOSTILE_SPREADSHEETS = [
    Hostile("program renamed .csv", "roster.csv", hostile.EXECUTABLE, "a program"),
    Hostile("PDF renamed .xlsx", "roster.xlsx", hostile.PDF_OPEN_ACTION_JS, "a PDF document"),
    Hostile("zip bomb as .xlsx", "roster.xlsx", hostile.XLSX_BOMB, "unpacks to|zip bomb"),
    Hostile("Word file renamed .xlsx", "roster.xlsx", hostile.DOCX_WITH_MACROS, "Word|ZIP archive"),
    Hostile("empty file", "roster.csv", b"", "empty"),
]


def last_event() -> int:
    return AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0


def _flatten(errors: Any) -> list[str]:
    """Messages of a field, also when a list field's errors are keyed by item."""
    if isinstance(errors, dict):
        return [text for value in errors.values() for text in _flatten(value)]
    if isinstance(errors, list):
        return [text for value in errors for text in _flatten(value)]
    return [str(errors)]


def refusal_text(response, field: str, api: bool) -> str:
    """The refusal's message on ``field``; fails unless the answer refuses on that field."""
    if api:
        assert response.status_code == 400, (response.status_code, response.content[:300])
        body = response.json()
        assert body["error"], body
        assert field in body["fields"], body
        return " ".join(_flatten(body["fields"][field]))
    assert response.status_code in (200, 400), response.status_code  # the form again
    names = response.context.keys()  # a ContextList: iterating it yields contexts
    form = next(
        (
            value
            for value in (response.context[name] for name in names)
            if hasattr(value, "errors")
            and hasattr(value, "fields")
            and field in value.fields
            and value.errors.get(field)
        ),
        None,
    )
    assert form is not None, f"no form with an error on {field!r}"
    messages = " ".join(form.errors[field])
    assert messages.split(":")[0][:20] in response.content.decode()  # shown on the page
    return messages


def _check_refusals(point: Point, world: World, clock, cases: list[Hostile]) -> None:
    before, since = point.stored(), last_event()
    failures = []
    for case in cases:
        response = point.post(world, clock, SimpleUploadedFile(case.name, case.data))
        try:
            message = refusal_text(response, point.field, point.api)
            assert any(part.lower() in message.lower() for part in case.says.split("|")), message
        except AssertionError as exc:
            failures.append(f"{case.label}: {exc}")
    assert not failures, "\n".join(failures)
    assert point.stored() == before
    # Whatever the test built itself (a contract) is audited; no document or import is.
    added = AuditEvent.objects.filter(sequence__gt=since).values_list("action", flat=True)
    assert not [action for action in added if "document" in action or "import" in action]
    assert hostile.media_files() == []


@pytest.mark.parametrize("point", DOCUMENT_POINTS, ids=lambda p: p.name)
def test_hostile_documents_are_refused_on_the_field_leaving_nothing(point, world, clock):
    _check_refusals(point, world, clock, HOSTILE_DOCUMENTS)


@pytest.mark.parametrize("point", SPREADSHEET_POINTS, ids=lambda p: p.name)
def test_hostile_spreadsheets_are_refused_on_the_field_leaving_nothing(point, world, clock):
    _check_refusals(point, world, clock, HOSTILE_SPREADSHEETS)


@pytest.mark.parametrize("point", DOCUMENT_POINTS, ids=lambda p: p.name)
def test_a_document_over_the_limit_is_refused_without_being_stored(point, world, clock):
    before = point.stored()
    with hostile.sparse_file("big.pdf", DOCUMENT_MAX_BYTES + 1) as big:
        response = point.post(world, clock, big)
    message = refusal_text(response, point.field, point.api)
    assert "the limit is 20.0" in message
    assert point.stored() == before
    assert hostile.media_files() == []


@pytest.mark.parametrize("point", SPREADSHEET_POINTS[:2], ids=lambda p: p.name)
def test_a_roster_over_the_limit_is_refused(point, world, clock):
    before = point.stored()
    with hostile.sparse_file("roster.csv", roster_import.MAX_BYTES + 1, head=b"name\n") as big:
        response = point.post(world, clock, big)
    assert "the limit is 5.0" in refusal_text(response, point.field, point.api)
    assert point.stored() == before


def test_a_funding_file_over_400_mb_is_refused_before_it_is_read(world):
    """The limit is checked on the declared size: nothing is read, nothing is written."""
    streamed = hostile.StreamedUpload("roster.csv", services_funding.MAX_BYTES + 1)
    with pytest.raises(ValidationError) as excinfo:
        services_funding.funding_import_start(
            kind="staffing", upload=streamed, actor=persona("auditor", Role.AUDITOR)
        )
    assert excinfo.value.error_dict["file"][0].code == "too_large"
    assert streamed.bytes_read == 0
    assert not FundingImport.objects.exists()
    assert hostile.media_files() == []


def test_a_funding_file_lying_about_its_size_is_cut_off_at_the_limit(world, monkeypatch):
    """A client that declares a small size and sends more is stopped one chunk past the
    limit, and the partial copy is removed."""
    monkeypatch.setattr(services_funding, "MAX_BYTES", 1024 * 1024)
    streamed = hostile.StreamedUpload("roster.csv", 50 * 1024 * 1024, head=b"name\n", declared=10)
    with pytest.raises(Exception, match="limit"):
        services_funding.funding_import_start(
            kind="staffing", upload=streamed, actor=persona("auditor", Role.AUDITOR)
        )
    assert streamed.bytes_read <= 2 * 1024 * 1024
    assert not FundingImport.objects.exists()
    assert hostile.media_files() == []


# --- Names ---------------------------------------------------------------------------------

BOUNDARY = "HostileBoundary7MA4YWxkTrZu0gW"
HOSTILE_NAMES = [
    "../../etc/passwd.pdf",
    "..\\..\\windows\\win.ini.pdf",
    "a\x00b.pdf",
    "invoice\u202efdp.exe",
    "x" * 400 + ".pdf",
    "<img src=x onerror=alert(1)>.pdf",
    "line\r\nContent-Type: text/html.pdf",
]


def raw_multipart(fields: dict[str, str], field: str, name: str, data: bytes) -> bytes:
    """A multipart body whose file name is sent byte for byte (the test client would clean
    it first)."""
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    quoted = name.replace('"', "%22")
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{quoted}"\r\nContent-Type: application/pdf\r\n\r\n'.encode(
            "utf-8", "surrogatepass"
        )
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _clean(name: str) -> None:
    assert "/" not in name, name
    assert "\\" not in name, name
    assert all(ch.isprintable() for ch in name), repr(name)  # no NUL, CR, LF, U+202E
    assert "<" not in name, name
    assert len(name) <= 200, len(name)
    assert name.endswith(".pdf"), name  # the extension follows the content


def _stored_names() -> list[str]:
    names = list(TenderDocument.objects.values_list("original_name", flat=True))
    names += ChallengeDocument.objects.values_list("original_name", flat=True)
    names += [sealing.unseal_json(d.sealed_name) for d in BidDocument.objects.all()]
    return names


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_file_names_are_stored_cleaned_inside_the_media_folder(name, world, clock):
    official = client_of(persona("official", Role.OFFICIAL))
    clock.set(world.bid_day)
    posts = [
        (official, f"/api/v1/tenders/{world.draft_tender}/documents/", {}, "file"),
        (client_of(_bid_owner(world)), f"/api/v1/bids/{world.bid}/documents/", {}, "file"),
    ]
    for client, url, fields, field in posts:
        body = raw_multipart(fields, field, name, hostile.PLAIN_PDF)
        response = client.post(url, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
        # Django refuses some names outright; any other is stored cleaned.
        assert response.status_code in (201, 400), (url, response.status_code, response.content)
        if response.status_code == 400:
            assert "file" in response.json()["fields"], response.json()
    for stored in _stored_names():
        _clean(stored)
    media = hostile.media_files()
    for path in media:
        assert ".." not in path.parts
        assert "etc" not in path.parts
        assert "passwd" not in path.name


# --- Downloads -----------------------------------------------------------------------------


def _assert_attachment(response) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;"), response[
        "Content-Disposition"
    ]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] in {"application/pdf"}, response["Content-Type"]


def test_every_stored_document_is_downloaded_as_an_attachment_never_inline(world, clock):
    official = persona("official", Role.OFFICIAL)
    tender_doc = _tender_document_api(world, clock, hostile.upload("需求.pdf", hostile.PLAIN_PDF))
    assert tender_doc.status_code == 201, tender_doc.content
    bid_doc = _bid_document_api(world, clock, hostile.upload("方案.pdf", hostile.PLAIN_PDF))
    assert bid_doc.status_code == 201, bid_doc.content
    challenge = _challenge_api(world, clock, hostile.upload("证据.pdf", hostile.PLAIN_PDF))
    assert challenge.status_code == 201, challenge.content
    justification = _justification_api(world, clock, hostile.upload("测算.pdf", hostile.PLAIN_PDF))
    assert justification.status_code == 200, justification.content

    tender_document = TenderDocument.objects.get()
    bid_document = BidDocument.objects.get()
    challenge_document = ChallengeDocument.objects.get()
    downloads = [
        (official, reverse("tenders:document", args=[tender_document.pk])),
        (official, f"/api/v1/tender-documents/{tender_document.pk}/download/"),
        (_bid_owner(world), reverse("tenders:bid_document", args=[bid_document.pk])),
        (_bid_owner(world), f"/api/v1/bid-documents/{bid_document.pk}/download/"),
        (official, reverse("tenders:challenge_document", args=[challenge_document.pk])),
        (official, f"/api/v1/challenge-documents/{challenge_document.pk}/"),
        (
            _cheap_admin(world),
            reverse("evaluation:justification_document", args=[world.justification]),
        ),
        (_cheap_admin(world), f"/api/v1/price-justifications/{world.justification}/document/"),
    ]
    failures = []
    for who, url in downloads:
        try:
            _assert_attachment(client_of(who).get(url))
        except AssertionError as exc:
            failures.append(f"{url}: {exc}")
    assert not failures, "\n".join(failures)


def test_a_delivery_document_is_downloaded_as_an_attachment_never_inline(world, clock):
    milestone = active_contract_milestone(world, clock)
    report = _report_api_with(milestone, hostile.upload("签到表.pdf", hostile.PLAIN_PDF))
    assert report.status_code == 201, report.content
    document = DeliveryDocument.objects.get()
    reader = supplier_member(milestone.contract)
    _assert_attachment(
        client_of(reader).get(reverse("tenders:delivery_document", args=[document.pk]))
    )
    _assert_attachment(client_of(reader).get(f"/api/v1/delivery-documents/{document.pk}/"))


def _report_api_with(milestone: Milestone, file: Any):
    client = client_of(supplier_member(milestone.contract))
    body = {**REPORT_FIELDS, "milestone": milestone.pk, "spending": "[]", "uploads": [file]}
    return client.post(f"/api/v1/contracts/{milestone.contract_id}/reports/", body)


def test_a_plain_roster_and_funding_file_still_pass(world, clock):
    """The checks refuse what is hostile, not what is ordinary."""
    response = _funding_api(
        world, clock, SimpleUploadedFile("roster.csv", csv_bytes([staff_row(1)], STAFFING_HEADER))
    )
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("data", [hostile.HTML, hostile.SVG], ids=["HTML", "SVG"])
def test_web_text_renamed_csv_ends_a_funding_import_failed_on_its_columns(
    data, world, clock, django_capture_on_commit_callbacks
):
    """The funding import is checked by a background task (202 first): text that is no
    roster ends the import failed, naming the missing columns, with no record imported and
    the stored copy removed."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _funding_api(world, clock, SimpleUploadedFile("roster.csv", data))
    assert response.status_code == 202, response.content
    imported = FundingImport.objects.get(pk=response.json()["id"])
    assert imported.status == "failed"
    assert any("person_name" in str(error) for error in imported.errors), imported.errors
    assert not StaffingRecord.objects.exists()
    assert hostile.media_files() == []
