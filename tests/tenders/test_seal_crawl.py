"""The seal across every route (DESIGN.md section 6).

Walks every URL pattern of the site (pages, API, admin) and calls each with the ids of
everything that exists, as every role that is not the bidder, before the opening. No
sealed value may appear in any answer: not the price, the proposal, a staff member on the
plan, a document's name or bytes; and on the tender, bid, dashboard and audit pages not
the bidder's name or code either. New routes are covered without touching this test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace.models import User
from orgs_registry.identifiers import make_id_number
from orgs_registry.services import StaffInput, staff_add
from tenders import services
from tenders.models import Bid, BidDocument, BidReceipt, Question, Tender, TenderDocument
from tests.reliability.access_support import fill as fill_route
from tests.reliability.access_support import routes
from tests.tenders.conftest import make_bidder

PRICE = "483210.55"
PRICE_VARIANTS = (PRICE, "483,210.55", "483210.5", "483 210.55")
PROPOSAL = "封存方案文字QXJ7"
STAFF_NAME = "封存员工甲乙"
DOCUMENT_NAME = "封存附件名称ZK9"
DOCUMENT_BYTES = b"%PDF-1.4\n% sealed body XQ-4471 \n%%EOF\n"
BIDDER_NAME = "封存投标机构丙丁"
PERSONAS = [
    None,
    "official",
    "approver",
    "assessor",
    "registry_admin",
    "auditor",
    "other_org_admin",
    "outsider",
    "superuser",
]


@dataclass
class Scene:
    tender: Tender
    bid: Bid
    bidder_uscc: str
    int_ids: list[int]
    uuid_ids: list[str]


def fill(route: str, scene: Scene) -> list[str]:
    """Every URL the route makes with the scene's ids (regex routes are skipped)."""
    return fill_route(route, scene.int_ids, scene.uuid_ids)


@pytest.fixture
def scene(make_tender, official) -> Scene:
    tender = make_tender()
    services.question_ask(tender=tender, actor=make_bidder("提问机构").admin, text="问题？")
    bidder = make_bidder(BIDDER_NAME, staff=1)
    person = staff_add(
        organization=bidder.organization,
        actor=bidder.admin,
        data=StaffInput(
            name=STAFF_NAME,
            id_number=make_id_number(
                region="500103", born=date(1990, 3, 3), sequence=77, male=True
            ),
            role="社工",
            start_date=date(2024, 1, 1),
        ),
    ).person
    bid = services.bid_prepare(
        tender=tender,
        actor=bidder.admin,
        price=Decimal(PRICE),
        staff=[{"person": person.pk, "role": "项目主管", "fte": "0.8"}],
        proposal=PROPOSAL,
    )
    services.bid_document_add(
        bid=bid,
        actor=bidder.admin,
        upload=SimpleUploadedFile(f"{DOCUMENT_NAME}.pdf", DOCUMENT_BYTES),
    )
    services.bid_submit(bid=bid, actor=bidder.admin)
    for name, price in (("竞争机构一", "471111.11"), ("竞争机构二", "499999.00")):
        other = make_bidder(name)
        services.bid_submit(
            bid=services.bid_prepare(tender=tender, actor=other.admin, price=Decimal(price)),
            actor=other.admin,
        )
    int_ids = sorted(
        {tender.pk, bidder.organization.pk, person.pk}
        | set(Question.objects.values_list("pk", flat=True))
        | set(TenderDocument.objects.values_list("pk", flat=True))
        | {1}
    )
    uuid_ids = [str(pk) for pk in Bid.objects.values_list("pk", flat=True)]
    uuid_ids += [str(pk) for pk in BidDocument.objects.values_list("pk", flat=True)]
    uuid_ids += [str(pk) for pk in BidReceipt.objects.values_list("pk", flat=True)]
    uuid_ids.append(str(uuid.uuid4()))
    return Scene(
        tender=tender,
        bid=bid,
        bidder_uscc=bidder.organization.uscc,
        int_ids=int_ids,
        uuid_ids=uuid_ids,
    )


def client_for_persona(request, persona: str | None) -> Client:
    client = Client()
    if persona == "superuser":
        client.force_login(
            User.objects.create_superuser("root", "root@example.cn", "a-Strong-passw0rd")
        )
    elif persona is not None:
        client.force_login(request.getfixturevalue(persona))
    return client


def leaks(body: bytes, url: str, scene: Scene) -> list[str]:
    text = body.decode("utf-8", errors="replace")
    found = [marker for marker in PRICE_VARIANTS if marker in text]
    found += [marker for marker in (PROPOSAL, DOCUMENT_NAME) if marker in text]
    if DOCUMENT_BYTES in body:
        found.append("document bytes")
    # The bidder and its staff are on the register (its roster, its profile); what is
    # sealed is that they are on this bid, so tender, bid, dashboard and audit pages must
    # not name them.
    sealed_pages = (
        "/tenders",
        "/api/v1/tenders",
        "/api/v1/bids",
        "/api/v1/bid-documents",
        "/dashboard",
        "/audit",
    )
    if url.startswith(sealed_pages):
        found += [
            marker for marker in (BIDDER_NAME, scene.bidder_uscc, STAFF_NAME) if marker in text
        ]
    return found


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p or "anonymous")
def test_no_route_shows_a_sealed_value_to_anyone_but_the_bidder(request, scene, persona):
    client = client_for_persona(request, persona)
    checked = 0
    for route in routes():
        # Everyone but a superuser is sent to the admin's login page; only the superuser
        # walks the admin site itself.
        if route.startswith("admin/") and persona != "superuser":
            continue
        for url in fill(route, scene):
            response = client.get(url, follow=False)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert leaks(body, url, scene) == [], (persona, url, response.status_code)
            checked += 1
    assert checked > 200, "the walk reached the site's routes"


def test_the_bidder_itself_does_see_its_values(scene):
    """A control: the markers are real, and the walk would catch them."""
    client = Client()
    client.force_login(scene.bid.created_by)
    page = client.get(f"/tenders/{scene.tender.pk}/bid/").content.decode()
    api = client.get(f"/api/v1/bids/{scene.bid.pk}/").content.decode()
    assert PRICE in api
    assert PROPOSAL in page
    assert STAFF_NAME in page
    assert DOCUMENT_NAME in page
