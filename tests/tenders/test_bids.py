"""Sealed bids: preparation, documents, submission, receipts, withdrawal, every refusal."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry.models import CreditList
from orgs_registry.services import credit_entry_add, staff_update
from tenders import sealing, selectors, services
from tenders.models import Bid, BidDocument, BidReceipt, BidStatus
from tests.tenders.conftest import make_bidder

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def tender(make_tender):
    return make_tender()


@pytest.fixture
def bidder(db):
    return make_bidder("阳光投标社工")


def prepare(tender, bidder, price="480000", **extra):
    return services.bid_prepare(
        tender=tender,
        actor=extra.pop("actor", bidder.admin),
        price=Decimal(price),
        staff=extra.pop(
            "staff",
            [{"person": person, "role": "项目主管", "fte": "0.6"} for person in bidder.staff_ids],
        ),
        proposal=extra.pop("proposal", "每周上门探访两次，建立健康档案。"),
    )


def test_a_bid_is_prepared_sealed_and_submitted_with_a_receipt(tender, bidder):
    bid = prepare(tender, bidder)
    assert bid.status == BidStatus.DRAFT
    assert "480000" not in bid.sealed
    assert bid.price is None  # plain only after the opening

    receipt = services.bid_submit(bid=bid, actor=bidder.admin)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert re.fullmatch(r"[0-9a-f]{64}", receipt.sha256)
    assert receipt.sha256 == bid.content_sha256
    assert receipt.received_at.microsecond is not None
    event = AuditEvent.objects.get(sequence=receipt.sequence)
    assert event.action == AuditAction.BID_SUBMITTED
    assert event.details["sha256"] == receipt.sha256
    assert "480000" not in str(event.details)


def test_the_receipt_hash_covers_price_staff_proposal_and_documents(tender, bidder):
    bid = prepare(tender, bidder)
    content = sealing.unseal_json(Bid.objects.get(pk=bid.pk).sealed)
    first, _docs = services.bid_content_hash(bid, content)
    services.bid_document_add(
        bid=bid, actor=bidder.admin, upload=SimpleUploadedFile("方案.pdf", PDF)
    )
    second, documents = services.bid_content_hash(bid, content)
    assert first != second
    assert [d["sha256"] for d in documents] == [BidDocument.objects.get().sha256]
    changed, _docs = services.bid_content_hash(bid, {**content, "price": "1.00"})
    assert changed != second


def test_submitting_twice_returns_the_same_receipt_and_one_bid(tender, bidder):
    bid = prepare(tender, bidder)
    first = services.bid_submit(bid=bid, actor=bidder.admin)
    second = services.bid_submit(bid=bid, actor=bidder.admin)
    assert first.pk == second.pk
    assert Bid.objects.count() == 1
    assert BidReceipt.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.BID_SUBMITTED).count() == 1


def test_preparing_again_changes_the_same_draft(tender, bidder):
    first = prepare(tender, bidder, price="480000")
    second = prepare(tender, bidder, price="470000")
    assert first.pk == second.pk
    content = selectors.bid_content_for_user(bidder.admin, second)
    assert content.price == Decimal("470000.00")


def test_a_price_above_the_budget_is_refused(tender, bidder):
    with pytest.raises(ValidationError) as error:
        prepare(tender, bidder, price="500000.01")
    assert "above the budget ceiling" in error.value.message_dict["price"][0]
    assert Bid.objects.count() == 0


def test_a_price_of_zero_is_refused(tender, bidder):
    with pytest.raises(ValidationError) as error:
        prepare(tender, bidder, price="0")
    assert "price" in error.value.message_dict


@pytest.mark.parametrize(
    ("staff", "problem"),
    [
        (
            [{"person": 999999, "role": "社工", "fte": "0.5"}],
            "not on the organization's current roster",
        ),
        (
            [{"person": "x", "role": "社工", "fte": "0.5"}],
            "not on the organization's current roster",
        ),
        (None, "the role is missing"),
        (None, "full-time equivalent must be more than 0 and at most 1"),
        (None, "listed twice"),
    ],
)
def test_a_bad_staffing_plan_is_refused_row_by_row(tender, bidder, staff, problem):
    person = bidder.staff_ids[0]
    if staff is None:
        staff = {
            "the role is missing": [{"person": person, "role": "", "fte": "0.5"}],
            "full-time equivalent must be more than 0 and at most 1": [
                {"person": person, "role": "社工", "fte": "1.5"}
            ],
            "listed twice": [
                {"person": person, "role": "社工", "fte": "0.5"},
                {"person": person, "role": "社工", "fte": "0.5"},
            ],
        }[problem]
    with pytest.raises(ValidationError) as error:
        prepare(tender, bidder, staff=staff)
    assert any(problem in message for message in error.value.message_dict["staff"])
    assert Bid.objects.count() == 0


def test_someone_who_left_cannot_be_on_the_plan(tender, bidder):
    employment = bidder.organization.employments.get(person_id=bidder.staff_ids[0])
    staff_update(employment=employment, actor=bidder.admin, end_date=date(2025, 1, 1))
    with pytest.raises(ValidationError) as error:
        prepare(tender, bidder)
    assert "staff 1: the person is not on" in error.value.message_dict["staff"][0]


def test_another_orgs_staff_cannot_be_on_the_plan(tender, bidder):
    other = make_bidder("别家机构")
    with pytest.raises(ValidationError):
        prepare(tender, bidder, staff=[{"person": other.staff_ids[0], "role": "社工", "fte": "1"}])


def test_an_organization_on_the_serious_list_may_not_bid(tender, bidder, registry_admin):
    credit_entry_add(
        organization=bidder.organization,
        actor=registry_admin,
        credit_list=CreditList.SERIOUS,
        reason="弄虚作假",
        source="渝中区民政局",
        listed_on=date(2026, 1, 1),
    )
    with pytest.raises(ValidationError, match="serious-dishonesty list"):
        prepare(tender, bidder)


def test_an_organization_on_the_abnormal_list_bids_with_a_warning(tender, bidder, registry_admin):
    credit_entry_add(
        organization=bidder.organization,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="未年检",
        source="渝中区民政局",
        listed_on=date(2026, 1, 1),
    )
    bid = prepare(tender, bidder)
    services.bid_submit(bid=bid, actor=bidder.admin)
    bid.refresh_from_db()
    assert [w["code"] for w in bid.warnings] == ["abnormal_activity"]


def test_a_pending_organization_may_not_bid(tender, db):
    from marketplace.models import Role
    from tests.conftest import make_organization, make_user

    pending = make_organization("待核实机构", "81999999", verified=False)
    admin = make_user("pending_admin", Role.ORG_ADMIN, pending)
    with pytest.raises(ValidationError, match="not been verified"):
        services.bid_prepare(tender=tender, actor=admin, price=Decimal("1"))


@pytest.mark.parametrize(
    "persona", ["official", "approver", "assessor", "registry_admin", "auditor"]
)
def test_only_organizations_bid(request, tender, persona):
    with pytest.raises(PermissionDenied):
        services.bid_prepare(
            tender=tender, actor=request.getfixturevalue(persona), price=Decimal("1")
        )


def test_a_member_prepares_but_the_admin_submits(tender, bidder):
    bid = prepare(tender, bidder, actor=bidder.member)
    with pytest.raises(PermissionDenied):
        services.bid_submit(bid=bid, actor=bidder.member)
    assert services.bid_submit(bid=bid, actor=bidder.admin)


def test_someone_elses_bid_cannot_be_submitted_or_read(tender, bidder):
    other = make_bidder("竞争机构")
    bid = prepare(tender, bidder)
    with pytest.raises(PermissionDenied):
        services.bid_submit(bid=bid, actor=other.admin)
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.bid_get_for_user(other.admin, bid.pk)
    with pytest.raises(Http404):
        selectors.bid_content_for_user(other.admin, bid)


def test_a_submission_after_the_deadline_is_refused_with_the_server_time(clock, tender, bidder):
    bid = prepare(tender, bidder)
    clock.set(tender.bid_deadline)
    with pytest.raises(services.LateSubmission) as error:
        services.bid_submit(bid=bid, actor=bidder.admin)
    assert error.value.received_at == tender.bid_deadline
    assert "after the deadline" in error.value.messages[0]
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT
    assert BidReceipt.objects.count() == 0


def test_preparing_after_the_deadline_is_refused(clock, tender, bidder):
    clock.set(tender.bid_deadline)
    with pytest.raises(ValidationError, match="deadline has passed"):
        prepare(tender, bidder)


def test_withdraw_change_and_resubmit_before_the_deadline(tender, bidder):
    bid = prepare(tender, bidder)
    first = services.bid_submit(bid=bid, actor=bidder.admin)
    services.bid_withdraw(bid=bid, actor=bidder.admin)
    services.bid_reopen(bid=bid, actor=bidder.admin)
    prepare(tender, bidder, price="455000")
    second = services.bid_submit(bid=bid, actor=bidder.admin)
    assert second.sha256 != first.sha256
    assert list(selectors.receipt_list_for_user(bidder.admin, bid)) == [second, first]


def test_withdrawing_after_the_deadline_is_refused(clock, tender, bidder):
    bid = prepare(tender, bidder)
    services.bid_submit(bid=bid, actor=bidder.admin)
    clock.set(tender.bid_deadline)
    with pytest.raises(ValidationError, match="deadline has passed"):
        services.bid_withdraw(bid=bid, actor=bidder.admin)


def test_a_submitted_bid_cannot_be_changed(tender, bidder):
    bid = prepare(tender, bidder)
    services.bid_submit(bid=bid, actor=bidder.admin)
    with pytest.raises(ValidationError, match="withdraw it"):
        prepare(tender, bidder, price="1")


def test_a_bid_without_a_price_is_not_submitted(tender, bidder):
    bid = services.bid_prepare(tender=tender, actor=bidder.admin, proposal="只有方案")
    with pytest.raises(ValidationError) as error:
        services.bid_submit(bid=bid, actor=bidder.admin)
    assert "price" in error.value.message_dict


# --- Documents ---------------------------------------------------------------------------------


def test_documents_are_checked_by_content_and_stored_encrypted(tender, bidder):
    bid = prepare(tender, bidder)
    document = services.bid_document_add(
        bid=bid,
        actor=bidder.admin,
        upload=SimpleUploadedFile("资质证明.pdf", PDF),
        kind="qualification",
    )
    assert document.content_type == "application/pdf"
    stored = document.file.read()
    assert PDF not in stored
    assert b"%PDF" not in stored
    assert "资质证明" not in document.sealed_name
    _doc, name, data = selectors.bid_document_for_download(bidder.admin, document.pk)
    assert (name, data) == ("资质证明.pdf", PDF)


def test_a_renamed_image_is_stored_as_what_it_is(tender, bidder):
    bid = prepare(tender, bidder)
    document = services.bid_document_add(
        bid=bid, actor=bidder.admin, upload=SimpleUploadedFile("报价.pdf", PNG)
    )
    assert document.content_type == "image/png"
    assert selectors.bid_document_for_download(bidder.admin, document.pk)[1] == "报价.png"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 600, "a program"),
        (b"just some text", "text or an unknown format"),
        (b"%PDF-1.4 /JavaScript (app.alert(1))", "scripts"),
        (b"", "empty"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_saved(tender, bidder, data, message):
    bid = prepare(tender, bidder)
    with pytest.raises(ValidationError) as error:
        services.bid_document_add(
            bid=bid, actor=bidder.admin, upload=SimpleUploadedFile("x.pdf", data)
        )
    assert message in error.value.message_dict["file"][0]
    assert BidDocument.objects.count() == 0


def test_an_oversized_document_is_refused(tender, bidder, monkeypatch):
    from tenders import services as tender_services

    monkeypatch.setattr(tender_services, "DOCUMENT_MAX_BYTES", 64)
    bid = prepare(tender, bidder)
    with pytest.raises(ValidationError) as error:
        services.bid_document_add(
            bid=bid, actor=bidder.admin, upload=SimpleUploadedFile("big.pdf", PDF + b"x" * 100)
        )
    assert "the limit is" in error.value.message_dict["file"][0]


def test_the_sealed_values_are_not_in_the_database_in_clear(tender, bidder):
    bid = prepare(tender, bidder, price="483210.55", proposal="独特方案文本ZXQ")
    services.bid_submit(bid=bid, actor=bidder.admin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tenders_bid")
        rows = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM marketplace_auditevent")
        audit = repr(cursor.fetchall())
    for secret in ("483210.55", "独特方案文本ZXQ"):
        assert secret not in rows
        assert secret not in audit


def test_an_open_bid_holds_up_deregistration(tender, bidder, registry_admin):
    from orgs_registry.services import (
        organization_deregistration_complete,
        organization_deregistration_start,
    )

    bid = prepare(tender, bidder)
    services.bid_submit(bid=bid, actor=bidder.admin)
    organization_deregistration_start(
        organization=bidder.organization, actor=bidder.admin, reason="业务终止"
    )
    with pytest.raises(ValidationError, match=tender.title):
        organization_deregistration_complete(organization=bidder.organization, actor=registry_admin)
    # Deregistering also stops new bids at once.
    with pytest.raises(ValidationError, match="leaving the register"):
        prepare(tender, bidder)


def test_the_admin_sees_full_id_numbers_on_its_bid_and_others_masked(tender, bidder, auditor):
    bid = prepare(tender, bidder)
    own = selectors.bid_content_for_user(bidder.admin, bid).staff[0]
    member = selectors.bid_content_for_user(bidder.member, bid).staff[0]
    assert own.id_number
    assert len(own.id_number) == 18
    assert member.id_number == ""
    assert "*" in member.id_number_masked
