"""The seal through the API (DESIGN.md section 6): before the opening, nobody but the bidding
organization reads a bid's price, staffing, proposal, documents or receipts, or learns that it
exists or how many bids there are; not officials, approvers, assessors, registry admins,
auditors, other organizations or anonymous callers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace.models import Role, User
from tenders import services
from tenders.models import Bid, BidDocument, Tender
from tests.conftest import make_user
from tests.tenders.conftest import Bidder, make_bidder, submit_bid

ENGLISH = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# Distinctive sealed values: none of them may reach anyone but the bidding organization.
PRICE = "483210.55"
PROPOSAL = "独门方案：银发互助时间银行"
DOCUMENT_NAME = "绝密报价单"
# Keys that may mention bids without saying anything about them.
ALLOWED_BID_KEYS = {"bid_deadline", "bid_deadline_before", "bid_deadline_after"}
SEALED = "The bids are sealed until the opening."


@dataclass
class Scene:
    tender: Tender
    bid: Bid
    document: BidDocument
    owner: Bidder
    rival: Bidder
    rival_bid: Bid


@pytest.fixture(params=["open_for_bids", "one_confirmation", "cancelled"])
def scene(request, clock, make_tender, official, db) -> Scene:
    """A tender with a sealed bid, in each state before an opening.

    ``one_confirmation``: past the deadline, one official confirmed the opening and the
    second has not. ``cancelled``: cancelled before the opening, its bids sealed for good.
    """
    tender = make_tender()
    owner, rival = make_bidder("守密投标社工"), make_bidder("另一投标机构")
    bid = services.bid_prepare(
        tender=tender,
        actor=owner.member,
        price=Decimal(PRICE),
        staff=[{"person": p, "role": "项目主管", "fte": "0.8"} for p in owner.staff_ids],
        proposal=PROPOSAL,
    )
    document = services.bid_document_add(
        bid=bid, actor=owner.admin, upload=SimpleUploadedFile(f"{DOCUMENT_NAME}.pdf", PDF)
    )
    services.bid_submit(bid=bid, actor=owner.admin)
    rival_bid, _receipt = submit_bid(tender, rival, "471111.11")
    if request.param == "one_confirmation":
        clock.set(tender.bid_deadline)
        services.tender_open(tender=tender, actor=official)
    elif request.param == "cancelled":
        services.tender_cancel(tender=tender, actor=official, reason="需求变更")
    return Scene(tender, bid, document, owner, rival, rival_bid)


def client_as(user: User | None) -> Client:
    client = Client(headers=ENGLISH)
    if user is not None:
        client.force_login(user)
    return client


def tender_urls(tender: Tender) -> list[str]:
    base = f"/api/v1/tenders/{tender.pk}/"
    return [
        "/api/v1/tenders/",
        f"/api/v1/tenders/?q={tender.reference}",
        "/api/v1/tenders/?status=closed",
        base,
        f"{base}questions/",
        f"{base}documents/",
        f"{base}opening-record/",
    ]


def bid_urls(scene: Scene) -> list[str]:
    bid = f"/api/v1/bids/{scene.bid.pk}/"
    return [
        bid,
        f"{bid}receipt/",
        f"{bid}receipts/",
        f"{bid}documents/",
        f"/api/v1/bid-documents/{scene.document.pk}/download/",
    ]


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def assert_nothing_sealed(response, scene: Scene) -> None:
    text = response.content.decode(errors="replace") + str(dict(response.headers.items()))
    for secret in (PRICE, "483210", PROPOSAL, DOCUMENT_NAME, scene.owner.organization.name):
        assert secret not in text, (response.request["PATH_INFO"], secret)
    assert scene.owner.organization.uscc not in text
    # The root links to the bids resource and says nothing about any bid.
    if response.request["PATH_INFO"] == "/api/v1/":
        return
    if response.get("Content-Type", "").startswith("application/json"):
        mentions = {k for k in keys(response.json()) if "bid" in k} - ALLOWED_BID_KEYS
        assert mentions == set(), response.request["PATH_INFO"]


PERSONAS = [
    "anonymous",
    "official",
    "approver",
    "second_official",
    "assessor",
    "registry_admin",
    "auditor",
    "outsider",
    "rival_admin",
    "rival_member",
]


def persona_user(request, scene: Scene, persona: str) -> User | None:
    if persona == "anonymous":
        return None
    if persona == "second_official":
        return make_user("official_two", Role.OFFICIAL)
    if persona.startswith("rival_"):
        return getattr(scene.rival, persona.removeprefix("rival_"))
    return request.getfixturevalue(persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_nobody_but_the_owner_reads_or_counts_a_sealed_bid(request, scene, persona):
    user = persona_user(request, scene, persona)
    client = client_as(user)

    for url in ["/api/v1/", *tender_urls(scene.tender)]:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert_nothing_sealed(response, scene)

    # A bid that is not yours is exactly a bid that does not exist.
    for url in bid_urls(scene):
        response = client.get(url)
        stranger = str(uuid.uuid4())
        missing = client.get(
            url.replace(f"/{scene.bid.pk}/", f"/{stranger}/", 1).replace(
                f"/{scene.document.pk}/", f"/{stranger}/", 1
            )
        )
        expected = 401 if user is None else 404
        assert response.status_code == missing.status_code == expected, url
        assert response.content == missing.content
        assert_nothing_sealed(response, scene)

    # The tender's bid list: refused to the office, empty or one's own for everyone else.
    response = client.get(f"/api/v1/tenders/{scene.tender.pk}/bids/")
    assert_nothing_sealed(response, scene)
    if user is None:
        assert response.status_code == 401
    elif persona in {"official", "approver", "second_official", "assessor", "auditor"}:
        assert response.status_code == 403
        assert response.json() == {"error": "permission_denied", "detail": SEALED, "fields": {}}
    elif persona.startswith("rival_"):
        body = response.json()
        assert (body["count"], [row["id"] for row in body["results"]]) == (
            1,
            [str(scene.rival_bid.pk)],
        )
    else:
        assert response.json()["count"] == 0

    # The caller's own bids: only one's own organization's.
    own = client.get("/api/v1/bids/")
    assert_nothing_sealed(own, scene)
    if user is not None:
        expected_ids = [str(scene.rival_bid.pk)] if persona.startswith("rival_") else []
        assert [row["id"] for row in own.json()["results"]] == expected_ids


@pytest.mark.parametrize("persona", ["official", "second_official", "auditor", "rival_admin"])
def test_nobody_but_the_owner_writes_to_a_sealed_bid(request, scene, persona):
    client = client_as(persona_user(request, scene, persona))
    bid = f"/api/v1/bids/{scene.bid.pk}/"
    for url, data in [
        (f"{bid}submit/", {}),
        (f"{bid}withdraw/", {}),
        (f"{bid}reopen/", {}),
        (f"{bid}confirm/", {}),
        (f"{bid}qualify/", {"qualified": True}),
    ]:
        response = client.post(url, data, content_type="application/json")
        assert response.status_code == 404, url
        assert_nothing_sealed(response, scene)
    assert client.patch(bid, {"price": "1"}, content_type="application/json").status_code == 404
    upload = {"file": SimpleUploadedFile("x.pdf", PDF)}
    assert client.post(f"{bid}documents/", upload).status_code == 404
    response = client.delete(f"/api/v1/bid-documents/{scene.document.pk}/")
    assert response.status_code == 404
    assert BidDocument.objects.filter(pk=scene.document.pk).exists()


def test_the_owner_reads_its_own_sealed_bid(scene):
    """The control: the values the other tests look for are really in the owner's answers."""
    for user in (scene.owner.admin, scene.owner.member):
        client = client_as(user)
        body = client.get(f"/api/v1/bids/{scene.bid.pk}/").json()
        assert (body["price"], body["proposal"], body["sealed"]) == (PRICE, PROPOSAL, True)
        assert [d["name"] for d in body["documents"]] == [f"{DOCUMENT_NAME}.pdf"]
        assert body["receipt"]["sha256"] == body["sha256"]
        listed = client.get(f"/api/v1/tenders/{scene.tender.pk}/bids/").json()
        assert [row["id"] for row in listed["results"]] == [str(scene.bid.pk)]
        download = client.get(f"/api/v1/bid-documents/{scene.document.pk}/download/")
        assert b"".join(download.streaming_content) == PDF
        # The tender itself says nothing about bids, to the owner either.
        assert_nothing_sealed(client.get(f"/api/v1/tenders/{scene.tender.pk}/"), scene)


def test_after_the_opening_the_office_reads_the_bid_and_the_public_the_record(
    clock, make_tender, official, auditor
):
    tender = make_tender()
    owner = make_bidder("守密投标社工")
    bids = [
        submit_bid(tender, bidder, price, proposal=PROPOSAL)[0]
        for bidder, price in [
            (owner, PRICE),
            (make_bidder("乙机构"), "471111.11"),
            (make_bidder("丙机构"), "499999.00"),
        ]
    ]
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=make_user("official_two", Role.OFFICIAL))
    record = client_as(None).get(f"/api/v1/tenders/{tender.pk}/opening-record/").json()
    assert PRICE in [row["price"] for row in record["rows"]]
    assert client_as(auditor).get(f"/api/v1/bids/{bids[0].pk}/").json()["price"] == PRICE
    # The public reads the record, not the bids themselves.
    assert client_as(None).get(f"/api/v1/bids/{bids[0].pk}/").status_code == 401
