"""The seal on the pages (DESIGN.md 6): before the opening, nobody but the bidding
organization sees a bid's price, plan, proposal or documents, or even that it exists."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from marketplace.models import Role
from tenders import services
from tests.conftest import make_user
from tests.tenders.conftest import make_bidder

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PRICE = "483210.55"
PROPOSAL = "每月组织三次独居老人茶话会并建立应急呼叫台账"
DOCUMENT = "机密报价明细表.pdf"
# The CSRF token changes at every render; everything else must not change.
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')
OUTSIDERS = [
    "anonymous",
    "official",
    "approver",
    "assessor",
    "auditor",
    "registry_admin",
    "other_org_admin",
    "outsider",
]


@pytest.fixture
def second_official(db):
    return make_user("official_two", Role.OFFICIAL)


@pytest.fixture
def tender(make_tender):
    return make_tender()


@pytest.fixture
def sealed_bidder(db):
    return make_bidder("保密测试机构")


def seal_a_bid(tender, bidder):
    bid = services.bid_prepare(
        tender=tender,
        actor=bidder.admin,
        price=Decimal(PRICE),
        staff=[{"person": person, "role": "社工", "fte": "0.5"} for person in bidder.staff_ids],
        proposal=PROPOSAL,
    )
    services.bid_document_add(
        bid=bid, actor=bidder.admin, upload=SimpleUploadedFile(DOCUMENT, PDF), kind="price"
    )
    receipt = services.bid_submit(bid=bid, actor=bidder.admin)
    return bid, receipt


def secrets_of(bid, receipt, bidder) -> list[str]:
    staff_names = [employment.person.name for employment in bidder.organization.employments.all()]
    return [
        PRICE,
        "483,210.55",
        "483210",
        PROPOSAL,
        DOCUMENT,
        "机密报价明细表",
        *staff_names,
        bidder.organization.name,
        bidder.organization.uscc,
        receipt.sha256,
        reverse("tenders:receipts", args=[bid.pk]),
    ]


def client_as(request, persona: str, language: str = "zh-hans") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


def pages(tender) -> list[str]:
    return [
        reverse("home"),
        reverse("dashboard"),
        reverse("tenders:list"),
        reverse("tenders:detail", args=[tender.pk]),
        reverse("tenders:workspace"),
        reverse("tenders:review", args=[tender.pk]),
        reverse("tenders:my_bids"),
        reverse("tenders:bid", args=[tender.pk]),
        reverse("audit_log"),
    ]


def html_of(client: Client, url: str) -> tuple[int, str]:
    response = client.get(url)
    if "_auth_user_id" in client.session:
        # A signed-in page, not the login page: the check below would prove nothing.
        assert response.status_code in (200, 403, 404), (url, response.status_code)
    body = response.content.decode() if response.status_code == 200 else ""
    return response.status_code, CSRF.sub(r"\1", body)


def assert_nothing_sealed(request, persona, tender, bid, receipt, bidder) -> None:
    for language in ["zh-hans", "en"]:
        client = client_as(request, persona, language)
        for url in pages(tender):
            _status, html = html_of(client, url)
            for secret in secrets_of(bid, receipt, bidder):
                assert secret not in html, (language, url, secret)


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_nothing_sealed_appears_on_any_page_before_the_opening(
    request, clock, tender, sealed_bidder, persona
):
    bid, receipt = seal_a_bid(tender, sealed_bidder)
    assert_nothing_sealed(request, persona, tender, bid, receipt, sealed_bidder)
    # Nor at the deadline, between the deadline and the opening.
    clock.set(tender.bid_deadline)
    assert_nothing_sealed(request, persona, tender, bid, receipt, sealed_bidder)


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_pages_are_the_same_with_or_without_bids(
    request, clock, tender, sealed_bidder, bidders, persona
):
    """No count, no name, no hint: a page before any bid equals the page after three."""
    client = client_as(request, persona)
    compared = pages(tender)
    before = {url: html_of(client, url) for url in compared}
    seal_a_bid(tender, sealed_bidder)
    for bidder in bidders[:2]:
        services.bid_prepare(tender=tender, actor=bidder.member, price=Decimal("400000"))
    after = {url: html_of(client, url) for url in compared}
    for url in compared:
        assert after[url] == before[url], url


def test_the_street_office_is_told_the_bids_are_sealed(
    request, clock, tender, sealed_bidder, official
):
    seal_a_bid(tender, sealed_bidder)
    clock.set(tender.bid_deadline)
    client = client_as(request, "official", "en")
    response = client.get(reverse("tenders:review", args=[tender.pk]))
    assert response.status_code == 200
    assert response.context["sealed"] is True
    assert "The bids are sealed until the opening." in response.content.decode()
    assert "rows" not in response.context


def test_the_bidder_sees_its_own_sealed_bid(client_for, tender, sealed_bidder):
    _bid, receipt = seal_a_bid(tender, sealed_bidder)
    html = client_for(sealed_bidder.member).get(reverse("tenders:bid", args=[tender.pk]))
    html = html.content.decode()
    for secret in [PRICE, PROPOSAL, DOCUMENT, receipt.sha256]:
        assert secret in html, secret


def test_a_cancelled_tenders_bids_stay_sealed(request, tender, sealed_bidder, official):
    bid, receipt = seal_a_bid(tender, sealed_bidder)
    services.tender_cancel(tender=tender, actor=official, reason="需求变更。")
    for persona in ["official", "auditor", "anonymous"]:
        assert_nothing_sealed(request, persona, tender, bid, receipt, sealed_bidder)


def test_after_one_confirmation_the_bids_are_still_sealed(
    request, clock, tender, sealed_bidder, official
):
    bid, receipt = seal_a_bid(tender, sealed_bidder)
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    for persona in ["official", "approver", "auditor"]:
        assert_nothing_sealed(request, persona, tender, bid, receipt, sealed_bidder)


def test_after_the_opening_the_street_office_reads_the_bid(
    client_for, clock, tender, sealed_bidder, bidders, official, second_official
):
    bid, _receipt = seal_a_bid(tender, sealed_bidder)
    for bidder in bidders[:2]:
        services.bid_submit(
            bid=services.bid_prepare(tender=tender, actor=bidder.admin, price=Decimal("490000")),
            actor=bidder.admin,
        )
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)

    html = client_for(official).get(reverse("tenders:review", args=[tender.pk])).content.decode()
    for text in [PRICE, PROPOSAL, DOCUMENT, sealed_bidder.organization.name]:
        assert text in html, text
    document = bid.documents.get()
    response = client_for(official).get(reverse("tenders:bid_document", args=[document.pk]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Disposition"].startswith("attachment;")
