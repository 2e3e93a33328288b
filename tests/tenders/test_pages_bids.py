"""An organization's bid pages: the workspace, preparing, documents, submitting with a
receipt, the deadline, withdrawing, reopening, confirming, and strangers kept out."""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent
from tenders import services
from tenders.models import Bid, BidDocument, BidReceipt, BidStatus
from tests.tenders.conftest import make_bidder, submit_bid

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def bid_data(price: str = "450000", staff=(), proposal: str = "每周上门两次。") -> dict[str, Any]:
    data: dict[str, Any] = {
        "price": price,
        "proposal": proposal,
        "staff-TOTAL_FORMS": str(max(len(staff), 3)),
        "staff-INITIAL_FORMS": "0",
        "staff-MIN_NUM_FORMS": "0",
        "staff-MAX_NUM_FORMS": "1000",
    }
    for index, (person, role, fte) in enumerate(staff):
        data.update(
            {
                f"staff-{index}-person": str(person),
                f"staff-{index}-role": role,
                f"staff-{index}-fte": fte,
            }
        )
    return data


@pytest.fixture
def tender(make_tender):
    return make_tender()


@pytest.fixture
def bidder(db):
    return make_bidder("阳光社工中心")


def bid_url(tender) -> str:
    return reverse("tenders:bid", args=[tender.pk])


def draft(tender, bidder, price="450000") -> Bid:
    return services.bid_prepare(
        tender=tender,
        actor=bidder.member,
        price=Decimal(price),
        staff=[{"person": bidder.staff_ids[0], "role": "社工", "fte": "0.5"}],
        proposal="服务方案。",
    )


# --- The organization's workspace ---------------------------------------------------------------


def test_my_bids_lists_open_tenders_and_the_organizations_bids(client_for, make_tender, bidder):
    open_tender = make_tender(title="开放中的项目")
    bid, receipt = submit_bid(open_tender, bidder, "450000")
    response = english(client_for(bidder.member)).get(reverse("tenders:my_bids"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "开放中的项目" in html
    assert "Submitted (sealed)" in html
    assert reverse("tenders:receipt", args=[bid.pk, receipt.pk]) in html
    assert "Yes: every condition" in html


@pytest.mark.parametrize("persona", ["official", "assessor", "auditor", "registry_admin"])
def test_my_bids_is_for_organizations(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("tenders:my_bids")).status_code == 403


def test_my_bids_needs_a_sign_in(client, db):
    response = client.get(reverse("tenders:my_bids"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_my_bids_costs_the_same_queries_for_more_bids(
    client_for, make_tender, bidder, django_assert_max_num_queries
):
    client = client_for(bidder.admin)
    submit_bid(make_tender(), bidder, "400000")
    with django_assert_max_num_queries(25) as few:
        client.get(reverse("tenders:my_bids"))
    for i in range(8):
        submit_bid(make_tender(title=f"项目{i}"), bidder, str(300000 + i))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("tenders:my_bids"))
    assert len(response.context["open_tenders"]) == 9


# --- Preparing ---------------------------------------------------------------------------------


def test_a_member_prepares_the_draft_from_the_roster(client_for, tender, bidder):
    client = client_for(bidder.member)
    response = client.get(bid_url(tender))
    assert response.status_code == 200
    people = dict(response.context["staff"].forms[0].fields["person"].choices)
    assert set(bidder.staff_ids) <= set(people)

    response = client.post(
        bid_url(tender),
        bid_data(
            staff=[(bidder.staff_ids[0], "项目主管", "0.8"), (bidder.staff_ids[1], "社工", "1")]
        ),
    )

    assert response.status_code == 302
    bid = Bid.objects.get()
    assert bid.status == BidStatus.DRAFT
    assert bid.organization == bidder.organization
    assert bid.price is None  # sealed: nothing in the plain columns before the opening
    assert AuditEvent.objects.filter(action=AuditAction.BID_PREPARED).count() == 1
    again = client.get(bid_url(tender))
    assert again.context["form"].initial["price"] == Decimal("450000.00")
    assert [f.initial["person"] for f in again.context["staff"].forms[:2]] == bidder.staff_ids
    assert "项目主管" in again.content.decode()


def test_a_price_above_the_budget_is_refused_on_the_price(client_for, tender, bidder):
    response = english(client_for(bidder.admin)).post(bid_url(tender), bid_data(price="500000.01"))
    assert response.status_code == 200
    assert "price" in response.context["form"].errors
    assert "above the budget ceiling" in response.content.decode()
    assert not Bid.objects.exists()


def test_someone_not_on_the_roster_is_refused_on_the_row(client_for, tender, bidder):
    stranger = make_bidder("别家机构")
    response = client_for(bidder.admin).post(
        bid_url(tender), bid_data(staff=[(stranger.staff_ids[0], "社工", "0.5")])
    )
    assert response.status_code == 200
    assert "person" in response.context["staff"].forms[0].errors
    assert not Bid.objects.exists()


def test_a_bad_staffing_row_is_refused_on_the_plan(client_for, tender, bidder):
    response = english(client_for(bidder.admin)).post(
        bid_url(tender), bid_data(staff=[(bidder.staff_ids[0], "", "1.5")])
    )
    assert response.status_code == 200
    errors = response.context["staff"].service_errors
    assert "staff 1: the role is missing" in errors
    assert any("full-time equivalent" in error for error in errors)
    assert "staff 1: the role is missing" in response.content.decode()
    assert not Bid.objects.exists()


@pytest.mark.parametrize("persona", ["official", "assessor", "auditor"])
def test_only_organizations_have_a_bid_page(request, client_for, tender, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(bid_url(tender)).status_code == 403
    assert client.post(bid_url(tender), bid_data()).status_code == 403
    assert not Bid.objects.exists()


def test_the_bid_page_needs_a_sign_in(client, tender):
    response = client.get(bid_url(tender))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_member_may_not_submit(client_for, tender, bidder):
    bid = draft(tender, bidder)
    client = english(client_for(bidder.member))
    html = client.get(bid_url(tender)).content.decode()
    assert "only your organization's administrator submits" in html
    assert reverse("tenders:bid_submit", args=[bid.pk]) not in html
    assert client.post(reverse("tenders:bid_submit", args=[bid.pk])).status_code == 403
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT


# --- Documents -----------------------------------------------------------------------------------


def test_documents_are_added_sealed_and_downloaded_as_attachments(client_for, tender, bidder):
    bid = draft(tender, bidder)
    client = client_for(bidder.member)
    response = client.post(
        reverse("tenders:bid_document_add", args=[bid.pk]),
        {
            "document-file": SimpleUploadedFile("技术方案.pdf", PDF),
            "document-kind": "technical",
        },
    )
    assert response.status_code == 302
    document = BidDocument.objects.get()
    assert "技术方案" not in document.sealed_name
    assert AuditEvent.objects.filter(action=AuditAction.BID_DOCUMENT_ADDED).count() == 1
    assert "技术方案.pdf" in client.get(bid_url(tender)).content.decode()

    response = client.get(reverse("tenders:bid_document", args=[document.pk]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%E6%8A%80%E6%9C%AF%E6%96%B9%E6%A1%88.pdf"
        in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"

    remove = reverse("tenders:bid_document_remove", args=[document.pk])
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302
    assert not BidDocument.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.BID_DOCUMENT_REMOVED).count() == 1


def test_a_program_renamed_pdf_is_refused_on_the_file(client_for, tender, bidder):
    bid = draft(tender, bidder)
    response = english(client_for(bidder.admin)).post(
        reverse("tenders:bid_document_add", args=[bid.pk]),
        {"document-file": SimpleUploadedFile("方案.pdf", EXE), "document-kind": "technical"},
    )
    assert response.status_code == 200
    assert "file" in response.context["document_form"].errors
    assert "a program (executable file)" in response.content.decode()
    assert not BidDocument.objects.exists()


# --- Submitting, the receipt, the deadline --------------------------------------------------------


def test_the_admin_submits_and_gets_a_printable_receipt(client_for, clock, tender, bidder):
    bid = draft(tender, bidder)
    services.bid_document_add(
        bid=bid, actor=bidder.member, upload=SimpleUploadedFile("方案.pdf", PDF), kind="technical"
    )
    clock.advance(microseconds=123456)
    client = english(client_for(bidder.admin))

    response = client.post(reverse("tenders:bid_submit", args=[bid.pk]))

    receipt = BidReceipt.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("tenders:receipt", args=[bid.pk, receipt.pk])
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    event = AuditEvent.objects.get(action=AuditAction.BID_SUBMITTED)
    html = client.get(response.url).content.decode()
    received = receipt.received_at
    assert received.microsecond == 123456
    assert received.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.123456") in html
    assert timezone.localtime(received).strftime("%Y-%m-%d %H:%M:%S.123456") in html
    assert receipt.sha256 in html
    assert receipt.documents[0]["sha256"] in html
    assert str(event.sequence) in html
    assert tender.reference in html
    assert bidder.organization.uscc in html
    assert client.get(reverse("tenders:receipts", args=[bid.pk])).status_code == 200


def test_a_late_submission_is_refused_with_the_server_time(client_for, clock, tender, bidder):
    bid = draft(tender, bidder)
    clock.set(tender.bid_deadline)
    response = english(client_for(bidder.admin)).post(reverse("tenders:bid_submit", args=[bid.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "after the deadline" in html
    assert timezone.localtime(clock()).strftime("%Y-%m-%d %H:%M:%S") in html
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT
    assert not BidReceipt.objects.exists()


def test_a_bid_without_a_price_is_not_submitted(client_for, tender, bidder):
    client = english(client_for(bidder.admin))
    client.post(bid_url(tender), bid_data(price=""))
    bid = Bid.objects.get()
    response = client.post(reverse("tenders:bid_submit", args=[bid.pk]))
    assert response.status_code == 200
    assert "Enter the price before submitting." in response.content.decode()
    assert not BidReceipt.objects.exists()


def test_withdraw_reopen_and_submit_again(client_for, tender, bidder):
    bid, _receipt = submit_bid(tender, bidder, "450000")
    client = client_for(bidder.admin)
    assert client.post(reverse("tenders:bid_withdraw", args=[bid.pk])).status_code == 302
    bid.refresh_from_db()
    assert bid.status == BidStatus.WITHDRAWN
    assert client.post(reverse("tenders:bid_reopen", args=[bid.pk])).status_code == 302
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT
    assert client.post(bid_url(tender), bid_data(price="430000")).status_code == 302
    assert client.post(reverse("tenders:bid_submit", args=[bid.pk])).status_code == 302
    assert BidReceipt.objects.filter(bid=bid).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.BID_WITHDRAWN).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.BID_REOPENED).count() == 1


def test_a_submitted_bid_cannot_be_changed_from_the_page(client_for, tender, bidder):
    _bid, _receipt = submit_bid(tender, bidder, "450000")
    client = english(client_for(bidder.admin))
    assert client.get(bid_url(tender)).context["form"] is None
    response = client.post(bid_url(tender), bid_data(price="1000"))
    assert response.status_code == 200
    assert "withdraw it (or reopen it) before changing it" in response.content.decode()


def test_a_bid_is_confirmed_after_an_amendment(client_for, clock, tender, bidder, official):
    bid, _receipt = submit_bid(tender, bidder, "450000")
    clock.advance(days=12)
    services.tender_amend(
        tender=tender,
        actor=official,
        summary="服务范围调整。",
        changes={"description": "调整后的服务内容。"},
        affects_preparation=True,
    )
    client = english(client_for(bidder.admin))
    assert "Confirm the bid as it is" in client.get(bid_url(tender)).content.decode()

    response = client.post(reverse("tenders:bid_confirm", args=[bid.pk]))

    assert response.status_code == 302
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert BidReceipt.objects.filter(bid=bid, kind="confirmed").count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.BID_CONFIRMED).count() == 1


@pytest.mark.parametrize(
    "name", ["bid_submit", "bid_withdraw", "bid_reopen", "bid_confirm", "bid_document_add"]
)
def test_bid_actions_refuse_get(client_for, tender, bidder, name):
    bid = draft(tender, bidder)
    assert (
        client_for(bidder.admin).get(reverse(f"tenders:{name}", args=[bid.pk])).status_code == 405
    )


# --- Strangers ----------------------------------------------------------------------------------


def test_another_organization_gets_404_everywhere_and_changes_nothing(
    client_for, tender, bidder, other_org_admin
):
    bid = draft(tender, bidder)
    document = services.bid_document_add(
        bid=bid, actor=bidder.admin, upload=SimpleUploadedFile("报价单.pdf", PDF), kind="price"
    )
    receipt = services.bid_submit(bid=bid, actor=bidder.admin)
    client = client_for(other_org_admin)
    for url in [
        reverse("tenders:receipts", args=[bid.pk]),
        reverse("tenders:receipt", args=[bid.pk, receipt.pk]),
        reverse("tenders:bid_document", args=[document.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "报价单" not in response.content.decode()
    for url in [
        reverse("tenders:bid_withdraw", args=[bid.pk]),
        reverse("tenders:bid_reopen", args=[bid.pk]),
        reverse("tenders:bid_confirm", args=[bid.pk]),
        reverse("tenders:bid_submit", args=[bid.pk]),
        reverse("tenders:bid_document_add", args=[bid.pk]),
        reverse("tenders:bid_document_remove", args=[document.pk]),
    ]:
        assert client.post(url).status_code == 404, url
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert BidDocument.objects.count() == 1
    # Its own bid page for the same tender shows its own (empty) bid, nothing of the other.
    html = client.get(bid_url(tender)).content.decode()
    assert bidder.organization.name not in html
    assert "450,000.00" not in html


def test_a_receipt_of_another_bid_is_404(client_for, make_tender, bidder):
    first, _r = submit_bid(make_tender(), bidder, "400000")
    _second, other_receipt = submit_bid(make_tender(title="另一个项目"), bidder, "410000")
    url = reverse("tenders:receipt", args=[first.pk, other_receipt.pk])
    assert client_for(bidder.admin).get(url).status_code == 404


def test_english_my_bids_contains_no_chinese_outside_data(client_for, org_admin):
    html = english(client_for(org_admin)).get(reverse("tenders:my_bids")).content.decode()
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    html = html.replace(org_admin.organization.name, "")
    assert re.findall(r"[\u3400-\u9fff]", html) == []
