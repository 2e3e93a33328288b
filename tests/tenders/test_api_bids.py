"""API v1 bids: preparation, documents, submission and receipts, withdrawal, confirmation,
the two-official opening, the qualification review, and query counts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent, Role, User
from tenders import services
from tenders.models import Bid, BidDocument, BidReceipt, BidStatus, Tender
from tests.conftest import PASSWORD, make_user
from tests.tenders.conftest import Bidder, make_bidder, submit_bid

ERROR_KEYS = {"error", "detail", "fields"}
ENGLISH = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
RECEIVED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={**ENGLISH, "Authorization": f"Token {response.json()['token']}"})


@pytest.fixture
def client() -> Client:
    return Client(headers=ENGLISH)


@pytest.fixture
def client_for(db):
    def build(user: User) -> Client:
        signed_in = Client(headers=ENGLISH)
        signed_in.force_login(user)
        return signed_in

    return build


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def bids_url(tender: Tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/bids/"


def bid_url(bid: Bid | int, action: str = "") -> str:
    pk = bid if isinstance(bid, int) else bid.pk
    return f"/api/v1/bids/{pk}/" + (f"{action}/" if action else "")


def plan(bidder: Bidder, fte: str = "0.5") -> list[dict]:
    return [{"person": person, "role": "社工", "fte": fte} for person in bidder.staff_ids]


def events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


@pytest.fixture
def tender(make_tender) -> Tender:
    return make_tender()


@pytest.fixture
def bidder(db) -> Bidder:
    return make_bidder("阳光投标社工")


@pytest.fixture
def rival(db) -> Bidder:
    return make_bidder("竞争投标机构")


@pytest.fixture
def second_official(db) -> User:
    return make_user("official_two", Role.OFFICIAL)


@pytest.fixture
def draft_bid(tender, bidder) -> Bid:
    return services.bid_prepare(
        tender=tender,
        actor=bidder.member,
        price=Decimal("480000"),
        staff=plan(bidder),
        proposal="每周上门探访两次。",
    )


# --- Preparing (CONTRACTS section 3) -----------------------------------------------------------


def test_an_organization_prepares_its_bid_and_gets_the_contract_shape(tender, bidder):
    response = post(
        token_client(bidder.member),
        bids_url(tender),
        {"price": "480000.50", "staff": plan(bidder), "proposal": "每周上门探访两次。"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    bid = Bid.objects.get()
    assert (body["id"], body["status"]) == (str(bid.pk), "draft")
    assert (body["tender"], body["organization"]) == (tender.pk, bidder.organization.pk)
    # The owner reads its own sealed content, decrypted; ID numbers masked.
    assert (body["price"], body["proposal"], body["sealed"]) == (
        "480000.50",
        "每周上门探访两次。",
        True,
    )
    assert [row["person"] for row in body["staff"]] == bidder.staff_ids
    assert all("*" in row["id_number_masked"] for row in body["staff"])
    assert body["receipt"] is None
    assert bid.price is None  # plain only after the opening
    [event] = events(AuditAction.BID_PREPARED)
    assert (event.object_id, event.actor_id) == (str(bid.pk), bidder.member.pk)
    assert "480000" not in str(event.details)


def test_preparing_again_changes_the_same_draft(client_for, tender, bidder, draft_bid):
    response = post(client_for(bidder.admin), bids_url(tender), {"price": "470000"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["price"]) == (str(draft_bid.pk), "470000.00")
    # Only the fields given change.
    assert body["proposal"] == "每周上门探访两次。"
    assert Bid.objects.count() == 1


def test_a_price_above_the_budget_is_a_400_and_saves_nothing(client_for, tender, bidder):
    response = post(
        client_for(bidder.admin), bids_url(tender), {"price": "500000.01", "staff": plan(bidder)}
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert list(body["fields"]) == ["price"]
    assert "above the budget ceiling of 500000.00" in body["fields"]["price"][0]
    assert Bid.objects.count() == 0
    assert events(AuditAction.BID_PREPARED) == []


def test_a_bad_change_leaves_the_draft_as_it_was(client_for, tender, bidder, draft_bid):
    response = patch(client_for(bidder.admin), bid_url(draft_bid), {"price": "0"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["price"]
    body = client_for(bidder.admin).get(bid_url(draft_bid)).json()
    assert body["price"] == "480000.00"


def test_staff_not_on_the_roster_is_a_400_row_by_row_and_saves_nothing(
    client_for, tender, bidder, rival
):
    staff = [
        {"person": bidder.staff_ids[0], "role": "社工", "fte": "0.5"},
        {"person": rival.staff_ids[0], "role": "社工", "fte": "0.5"},
        {"person": bidder.staff_ids[1], "role": "", "fte": "1.5"},
    ]
    response = post(client_for(bidder.admin), bids_url(tender), {"price": "480000", "staff": staff})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "staff": [
            "staff 2: the person is not on the organization's current roster",
            "staff 3: the role is missing",
            "staff 3: the full-time equivalent must be more than 0 and at most 1",
        ]
    }
    assert Bid.objects.count() == 0


def test_malformed_input_is_named_field_by_field(client_for, tender, bidder):
    response = post(
        client_for(bidder.admin),
        bids_url(tender),
        {"price": "lots", "staff": "everyone", "status": "submitted"},
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"price", "staff", "status"}
    assert Bid.objects.count() == 0


@pytest.mark.parametrize(
    "persona", ["official", "approver", "assessor", "registry_admin", "auditor"]
)
def test_only_organizations_prepare_bids(request, client_for, tender, persona):
    user = request.getfixturevalue(persona)
    response = post(client_for(user), bids_url(tender), {"price": "480000"})
    assert response.status_code == 403
    assert Bid.objects.count() == 0


def test_anonymous_callers_must_sign_in(client, tender, draft_bid):
    assert post(client, bids_url(tender), {"price": "1"}).status_code == 401
    assert client.get(bids_url(tender)).status_code == 401
    assert client.get(bid_url(draft_bid)).status_code == 401


def test_there_are_no_bids_on_a_draft_tender(client_for, make_tender, bidder):
    draft = make_tender(published=False)
    assert post(client_for(bidder.admin), bids_url(draft), {"price": "1"}).status_code == 404


def test_after_the_deadline_no_bid_is_prepared(clock, client_for, tender, bidder):
    clock.set(tender.bid_deadline)
    response = post(client_for(bidder.admin), bids_url(tender), {"price": "480000"})
    assert response.status_code == 400
    assert "deadline has passed" in response.json()["detail"]
    assert Bid.objects.count() == 0


def test_the_owner_changes_the_draft(client_for, bidder, draft_bid):
    response = patch(
        client_for(bidder.member),
        bid_url(draft_bid),
        {"proposal": "每周三次。", "staff": plan(bidder, fte="1")},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["proposal"], body["price"]) == ("每周三次。", "480000.00")
    assert {row["fte"] for row in body["staff"]} == {"1.00"}
    assert len(events(AuditAction.BID_PREPARED)) == 2


def test_someone_elses_bid_is_not_found_for_reading_and_writing(
    client_for, official, rival, draft_bid
):
    for user in (rival.admin, official):
        client = client_for(user)
        missing = client.get(bid_url(999999))
        response = client.get(bid_url(draft_bid))
        assert response.status_code == 404
        # Exactly like a bid that does not exist: nothing tells it apart.
        assert response.json() == missing.json()
        assert patch(client, bid_url(draft_bid), {"price": "1"}).status_code == 404
        assert post(client, bid_url(draft_bid, "submit")).status_code == 404
        assert client.get(bid_url(draft_bid, "receipt")).status_code == 404
        assert client.get(bid_url(draft_bid, "receipts")).status_code == 404
        assert client.get(bid_url(draft_bid, "documents")).status_code == 404
    assert Bid.objects.get().status == BidStatus.DRAFT


def test_bids_are_not_replaced_or_deleted(client_for, bidder, draft_bid):
    client = client_for(bidder.admin)
    assert client.put(bid_url(draft_bid), {}, content_type="application/json").status_code == 405
    assert client.delete(bid_url(draft_bid)).status_code == 405
    assert client.get(bid_url(draft_bid, "submit")).status_code == 405
    assert client.get(bid_url(draft_bid, "withdraw")).status_code == 405
    assert client.get(bid_url(draft_bid, "qualify")).status_code == 405
    assert post(client, bid_url(draft_bid, "receipt")).status_code == 405
    assert Bid.objects.count() == 1


def test_the_organization_lists_its_own_bids(client_for, official, bidder, rival, draft_bid):
    submit_bid(draft_bid.tender, rival, "470000")
    body = client_for(bidder.admin).get("/api/v1/bids/").json()
    assert [row["id"] for row in body["results"]] == [str(draft_bid.pk)]
    assert client_for(official).get("/api/v1/bids/").json()["count"] == 0


# --- Submission and receipts -------------------------------------------------------------------


def test_the_org_admin_submits_and_gets_the_receipt(bidder, draft_bid):
    response = post(token_client(bidder.admin), bid_url(draft_bid, "submit"))
    assert response.status_code == 200, response.content
    body = response.json()
    bid = Bid.objects.get()
    receipt = BidReceipt.objects.get()
    assert (body["id"], body["status"]) == (str(bid.pk), "submitted")
    assert RECEIVED_AT.match(body["receipt"]["received_at"])
    assert body["receipt"]["received_at"] == receipt.received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert body["receipt"]["sha256"] == bid.content_sha256 == receipt.sha256
    assert body["receipt"]["sequence"] == receipt.sequence
    event = AuditEvent.objects.get(sequence=receipt.sequence)
    assert (event.action, event.object_id) == (AuditAction.BID_SUBMITTED, str(bid.pk))
    latest = token_client(bidder.admin).get(bid_url(bid, "receipt")).json()
    assert latest == body["receipt"]


def test_submitting_twice_returns_the_same_receipt_and_one_bid(client_for, bidder, draft_bid):
    first = post(client_for(bidder.admin), bid_url(draft_bid, "submit")).json()
    second = post(client_for(bidder.admin), bid_url(draft_bid, "submit"))
    assert second.status_code == 200
    assert second.json()["receipt"] == first["receipt"]
    assert (Bid.objects.count(), BidReceipt.objects.count()) == (1, 1)
    assert len(events(AuditAction.BID_SUBMITTED)) == 1


def test_receipts_carry_microseconds(clock, client_for, bidder, draft_bid):
    clock.advance(microseconds=123456)
    body = post(client_for(bidder.admin), bid_url(draft_bid, "submit")).json()
    assert body["receipt"]["received_at"].endswith(".123456Z")


def test_members_prepare_but_only_the_admin_submits(client_for, bidder, draft_bid):
    response = post(client_for(bidder.member), bid_url(draft_bid, "submit"))
    assert response.status_code == 403
    assert Bid.objects.get().status == BidStatus.DRAFT
    assert BidReceipt.objects.count() == 0


def test_a_late_submission_is_a_400_naming_the_server_time(clock, client_for, bidder, draft_bid):
    deadline = draft_bid.tender.bid_deadline
    clock.set(deadline + timezone.timedelta(microseconds=1))
    response = post(client_for(bidder.admin), bid_url(draft_bid, "submit"))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    server_time = timezone.localtime(clock()).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert f"Received at {server_time}, after the deadline" in body["detail"]
    assert Bid.objects.get().status == BidStatus.DRAFT
    assert BidReceipt.objects.count() == 0
    assert events(AuditAction.BID_SUBMITTED) == []


def test_a_bid_without_a_price_is_not_submitted(client_for, tender, bidder):
    bid = services.bid_prepare(tender=tender, actor=bidder.admin, staff=plan(bidder))
    response = post(client_for(bidder.admin), bid_url(bid, "submit"))
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["price"]
    assert BidReceipt.objects.count() == 0


def test_withdraw_reopen_and_submit_again_issue_a_second_receipt(client_for, bidder, draft_bid):
    client = client_for(bidder.admin)
    post(client, bid_url(draft_bid, "submit"))
    response = post(client, bid_url(draft_bid, "withdraw"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert len(events(AuditAction.BID_WITHDRAWN)) == 1
    assert post(client_for(bidder.member), bid_url(draft_bid, "reopen")).status_code == 403
    response = post(client, bid_url(draft_bid, "reopen"))
    assert response.json()["status"] == "draft"
    assert len(events(AuditAction.BID_REOPENED)) == 1
    assert patch(client, bid_url(draft_bid), {"price": "460000"}).status_code == 200
    post(client, bid_url(draft_bid, "submit"))
    receipts = client.get(bid_url(draft_bid, "receipts")).json()
    assert receipts["count"] == 2
    newest, oldest = receipts["results"]
    assert newest["sequence"] > oldest["sequence"]
    assert newest["sha256"] != oldest["sha256"]
    assert client.get(bid_url(draft_bid, "receipt")).json() == newest


def test_a_draft_cannot_be_withdrawn_and_a_submitted_bid_cannot_change(
    client_for, bidder, draft_bid
):
    client = client_for(bidder.admin)
    assert post(client, bid_url(draft_bid, "withdraw")).status_code == 400
    post(client, bid_url(draft_bid, "submit"))
    response = post(client, bids_url(draft_bid.tender), {"price": "1000"})
    assert response.status_code == 400
    assert "withdraw it" in response.json()["detail"]


def test_an_amendment_asks_for_confirmation_and_confirming_issues_a_new_receipt(
    client_for, official, bidder, draft_bid
):
    client = client_for(bidder.admin)
    first = post(client, bid_url(draft_bid, "submit")).json()["receipt"]
    assert post(client, bid_url(draft_bid, "confirm")).status_code == 400
    services.tender_amend(
        tender=draft_bid.tender,
        actor=official,
        summary="服务范围调整",
        affects_preparation=True,
        changes={"description": "服务范围扩大到全街道。"},
    )
    assert client.get(bid_url(draft_bid)).json()["status"] == "needs_confirmation"
    assert post(client_for(bidder.member), bid_url(draft_bid, "confirm")).status_code == 403
    response = post(client, bid_url(draft_bid, "confirm"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["receipt"]["kind"] == "confirmed"
    assert body["receipt"]["sequence"] > first["sequence"]
    [event] = events(AuditAction.BID_CONFIRMED)
    assert event.sequence == body["receipt"]["sequence"]


# --- Documents ---------------------------------------------------------------------------------


def documents_url(bid: Bid) -> str:
    return f"/api/v1/bids/{bid.pk}/documents/"


def test_the_owner_attaches_a_document_and_downloads_it(client_for, bidder, draft_bid):
    response = client_for(bidder.member).post(
        documents_url(draft_bid),
        {"file": SimpleUploadedFile("报价明细.pdf", PDF), "kind": "price"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    document = BidDocument.objects.get()
    assert {key: body[key] for key in ("id", "name", "kind", "content_type", "size")} == {
        "id": str(document.pk),
        "name": "报价明细.pdf",
        "kind": "price",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    assert body["sha256"] == document.sha256
    [event] = events(AuditAction.BID_DOCUMENT_ADDED)
    assert "报价明细" not in str(event.details)
    listed = client_for(bidder.admin).get(documents_url(draft_bid)).json()
    assert [row["name"] for row in listed["results"]] == ["报价明细.pdf"]
    download = client_for(bidder.admin).get(body["download"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PDF
    # Stored encrypted: the file on disk is not the PDF.
    with document.file.open("rb") as handle:
        assert not handle.read().startswith(b"%PDF")


def test_a_file_that_is_not_a_document_by_content_is_a_400_and_saves_nothing(
    client_for, bidder, draft_bid
):
    response = client_for(bidder.admin).post(
        documents_url(draft_bid), {"file": SimpleUploadedFile("方案.pdf", b"just some text")}
    )
    assert response.status_code == 400
    assert "by its content it is text or an unknown format" in response.json()["fields"]["file"][0]
    response = client_for(bidder.admin).post(
        documents_url(draft_bid),
        {"file": SimpleUploadedFile("a.pdf", PDF), "kind": "poetry"},
    )
    assert list(response.json()["fields"]) == ["kind"]
    assert BidDocument.objects.count() == 0
    assert events(AuditAction.BID_DOCUMENT_ADDED) == []


def test_the_owner_removes_a_document_from_the_draft(client_for, bidder, rival, draft_bid):
    document = services.bid_document_add(
        bid=draft_bid, actor=bidder.admin, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    url = f"/api/v1/bid-documents/{document.pk}/"
    assert client_for(rival.admin).delete(url).status_code == 404
    assert client_for(rival.admin).get(f"{url}download/").status_code == 404
    assert client_for(bidder.member).get(url).status_code == 405
    assert client_for(bidder.member).delete(url).status_code == 204
    assert BidDocument.objects.count() == 0
    [event] = events(AuditAction.BID_DOCUMENT_REMOVED)
    assert event.details["sha256"] == document.sha256


def test_a_submitted_bid_takes_no_documents(client_for, bidder, draft_bid):
    document = services.bid_document_add(
        bid=draft_bid, actor=bidder.admin, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    post(client_for(bidder.admin), bid_url(draft_bid, "submit"))
    response = client_for(bidder.admin).post(
        documents_url(draft_bid), {"file": SimpleUploadedFile("b.pdf", PDF)}
    )
    assert response.status_code == 403
    assert (
        client_for(bidder.admin).delete(f"/api/v1/bid-documents/{document.pk}/").status_code == 403
    )
    assert BidDocument.objects.count() == 1


# --- The opening and the review ----------------------------------------------------------------

PRICES = ["480000", "455000.50", "499000"]


def submit_with_document(tender: Tender, bidder: Bidder, price: str) -> Bid:
    bid = services.bid_prepare(
        tender=tender,
        actor=bidder.admin,
        price=Decimal(price),
        staff=plan(bidder),
        proposal=f"方案{price}",
    )
    services.bid_document_add(
        bid=bid, actor=bidder.admin, upload=SimpleUploadedFile(f"资质{price}.pdf", PDF)
    )
    services.bid_submit(bid=bid, actor=bidder.admin)
    return bid


@pytest.fixture
def submitted(tender, bidders) -> list[Bid]:
    return [
        submit_with_document(tender, bidder, price)
        for bidder, price in zip(bidders, PRICES, strict=True)
    ]


@pytest.fixture
def opened(clock, tender, submitted, official, second_official) -> list[Bid]:
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    return submitted


def test_two_distinct_officials_open_the_bids_through_the_api(
    clock, client_for, tender, submitted, official, second_official, bidders
):
    url = f"/api/v1/tenders/{tender.pk}/open/"
    response = post(token_client(official), url)
    assert response.status_code == 400
    assert "not before" in response.json()["detail"]

    clock.set(tender.bid_deadline)
    assert post(client_for(bidders[0].admin), url).status_code == 403
    response = post(token_client(official), url)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": tender.pk,
        "status": "closed",
        "status_label": "Closed, waiting for the opening",
        "opened": False,
        "confirmations": 1,
    }
    response = post(token_client(official), url)
    assert response.status_code == 400
    assert "second, different official" in response.json()["detail"]
    # Still sealed between the two confirmations.
    assert client_for(official).get(bids_url(tender)).status_code == 403

    response = post(token_client(second_official), url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["opened"], body["confirmations"]) == ("opened", True, 2)
    assert len(events(AuditAction.TENDER_OPENING_CONFIRMED)) == 2
    [event] = events(AuditAction.TENDER_OPENED)
    assert event.details["bids"] == 3
    assert len(events(AuditAction.BID_OPENED)) == 3
    assert client_for(official).get(f"/api/v1/tenders/{tender.pk}/").json()["status"] == "opened"


def test_too_few_bids_fail_the_tender_at_the_opening(
    clock, client_for, tender, bidders, official, second_official
):
    submit_bid(tender, bidders[0], "480000")
    clock.set(tender.bid_deadline)
    post(client_for(official), f"/api/v1/tenders/{tender.pk}/open/")
    body = post(client_for(second_official), f"/api/v1/tenders/{tender.pk}/open/").json()
    assert (body["status"], body["opened"]) == ("failed", True)
    detail = client_for(official).get(f"/api/v1/tenders/{tender.pk}/").json()
    with translation.override(settings.LANGUAGE_CODE):  # stored in the language of record
        expected = translation.gettext(
            "%(count)s valid bid(s) were received; this procurement method needs at least "
            "%(minimum)s."
        ) % {"count": 1, "minimum": 3}
    assert detail["failed_reason"] == expected


def test_after_the_opening_an_assessor_off_the_panel_reads_no_bid(
    client_for, tender, opened, assessor
):
    """Assessors read bids only as declared members of the tender's panel."""
    client = client_for(assessor)
    assert client.get(bids_url(tender)).status_code == 403
    assert client.get(bid_url(opened[0])).status_code == 404


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_after_the_opening_the_office_reads_every_bid(
    request, client_for, tender, opened, bidders, persona
):
    client = client_for(request.getfixturevalue(persona))
    response = client.get(bids_url(tender))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert [row["price"] for row in body["results"]] == ["455000.50", "480000.00", "499000.00"]
    row = body["results"][0]
    assert row["sealed"] is False
    assert row["status"] == "opened"
    assert row["proposal"] == "方案455000.50"
    assert [d["name"] for d in row["documents"]] == ["资质455000.50.pdf"]
    assert len(row["staff"]) == 2
    for line in row["staff"]:
        assert "*" in line["id_number_masked"]
        # Auditors read full ID numbers (DESIGN 4.1); the office does not.
        assert ("id_number" in line) is (persona == "auditor")
    detail = client.get(bid_url(opened[0])).json()
    assert detail["price"] == "480000.00"
    assert detail["receipt"]["sha256"] == detail["sha256"]


def test_the_opened_bids_cost_the_same_queries_for_3_or_6(
    clock, client_for, make_tender, official, second_official
):
    small, large = make_tender(), make_tender()
    for n in range(6):
        bidder = make_bidder(f"投标机构{n}")
        for tender in [large] + ([small] if n < 3 else []):
            submit_with_document(tender, bidder, str(400000 + n))
    clock.set(large.bid_deadline)
    for tender in (small, large):
        services.tender_open(tender=tender, actor=official)
        services.tender_open(tender=tender, actor=second_official)
    client = client_for(official)

    def queries(tender: Tender) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(bids_url(tender))
            assert response.status_code == 200
        return len(captured)

    assert queries(small) == queries(large)
    assert client.get(bids_url(large)).json()["count"] == 6


def test_an_official_qualifies_and_disqualifies_opened_bids(client_for, official, opened, bidders):
    first, second, _third = opened
    client = client_for(official)
    assert (
        post(
            client_for(bidders[0].admin), bid_url(first, "qualify"), {"qualified": True}
        ).status_code
        == 403
    )
    response = post(client, bid_url(first, "qualify"), {"qualified": False})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert Bid.objects.get(pk=first.pk).status == BidStatus.OPENED
    assert list(post(client, bid_url(first, "qualify"), {}).json()["fields"]) == ["qualified"]

    response = post(client, bid_url(first, "qualify"), {"qualified": True})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "qualified"
    response = post(
        client, bid_url(second, "qualify"), {"qualified": False, "reason": "资质证明缺失"}
    )
    assert (response.json()["status"], response.json()["review_reason"]) == (
        "disqualified",
        "资质证明缺失",
    )
    assert len(events(AuditAction.BID_QUALIFIED)) == 1
    [event] = events(AuditAction.BID_DISQUALIFIED)
    assert event.details["reason"] == "资质证明缺失"
    # Reviewed once.
    assert (
        post(client, bid_url(first, "qualify"), {"qualified": False, "reason": "x"}).status_code
        == 400
    )


def test_before_the_opening_there_is_nothing_to_review(client_for, official, submitted):
    response = post(client_for(official), bid_url(submitted[0], "qualify"), {"qualified": True})
    assert response.status_code == 404
    assert Bid.objects.get(pk=submitted[0].pk).status == BidStatus.SUBMITTED


def test_the_own_bids_cost_the_same_queries_for_2_or_6(client_for, make_tender, bidder):
    client = client_for(bidder.admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/bids/").status_code == 200
        return len(captured)

    for n in range(6):
        submit_bid(make_tender(), bidder, str(400000 + n))
        if n == 1:
            few = queries()
    assert queries() == few
    assert client.get("/api/v1/bids/").json()["count"] == 6


def test_an_official_cannot_change_an_opened_bid(client_for, official, opened):
    response = patch(client_for(official), bid_url(opened[0]), {"price": "1"})
    assert response.status_code == 403
    assert Bid.objects.get(pk=opened[0].pk).price == Decimal("480000")


def test_preparing_is_post_only_on_the_tenders_bids(client_for, bidder, draft_bid):
    client = client_for(bidder.admin)
    url = bids_url(draft_bid.tender)
    assert client.put(url, {}, content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405
    assert Bid.objects.count() == 1
