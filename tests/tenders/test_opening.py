"""The opening: after the deadline, two distinct officials, the opening record, 流标, review."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent, Role
from tenders import selectors, services
from tenders.models import Bid, BidStaff, BidStatus, TenderStatus
from tests.conftest import make_user
from tests.tenders.conftest import make_bidder, submit_bid


def record_text(message: str, **params: object) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(message) % params


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def second_official(db):
    return make_user("official_two", Role.OFFICIAL)


@pytest.fixture
def tender(make_tender):
    return make_tender()


def test_the_bids_do_not_open_before_the_deadline(tender, official):
    with pytest.raises(ValidationError, match="not before"):
        services.tender_open(tender=tender, actor=official)


def test_two_distinct_officials_open_the_bids(
    clock, tender, bidders, official, second_official, django_capture_on_commit_callbacks
):
    prices = ["480000", "455000.50", "499000"]
    for bidder, price in zip(bidders, prices, strict=True):
        submit_bid(tender, bidder, price)
    clock.set(tender.bid_deadline)

    first = services.tender_open(tender=tender, actor=official)
    assert not first.opened
    assert first.tender.status == TenderStatus.CLOSED
    with pytest.raises(ValidationError, match="second, different official"):
        services.tender_open(tender=tender, actor=official)
    assert Bid.objects.filter(status=BidStatus.SUBMITTED).count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        second = services.tender_open(tender=tender, actor=second_official)
    assert second.opened
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED
    assert sorted(Bid.objects.values_list("price", flat=True)) == sorted(Decimal(p) for p in prices)
    assert BidStaff.objects.count() == 6
    assert set(Bid.objects.values_list("status", flat=True)) == {BidStatus.OPENED}
    assert AuditEvent.objects.filter(action=AuditAction.BID_OPENED).count() == 3
    assert len(mail.outbox) == 3  # every bidder follows its tender

    record = selectors.opening_record(tender)
    assert [row.price for row in record.rows] == sorted(Decimal(p) for p in prices)
    assert all(len(row.sha256) == 64 for row in record.rows)
    assert record.officials == [official.get_full_name(), second_official.get_full_name()]


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "registry_admin", "auditor"])
def test_only_officials_open(clock, request, tender, persona):
    clock.set(tender.bid_deadline)
    with pytest.raises(PermissionDenied):
        services.tender_open(tender=tender, actor=request.getfixturevalue(persona))


def test_fewer_bids_than_the_minimum_fail_the_tender(
    clock, tender, bidders, official, second_official
):
    submit_bid(tender, bidders[0], "480000")
    submit_bid(tender, bidders[1], "470000")
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.FAILED
    # Stored on the public record in the language of record, whoever opened.
    assert tender.failed_reason == record_text(
        "%(count)s valid bid(s) were received; this procurement method needs at least %(minimum)s.",
        count=2,
        minimum=3,
    )
    assert len(selectors.opening_record(tender).rows) == 2


def test_a_consultation_goes_on_with_two_bids(
    clock, make_tender, bidders, official, second_official
):
    tender = make_tender(
        method="competitive_consultation",
        criteria=[
            {"code": "price", "name": "价格", "kind": "price", "points": "20"},
            {"code": "plan", "name": "方案", "kind": "subjective", "points": "80"},
        ],
    )
    submit_bid(tender, bidders[0], "480000")
    submit_bid(tender, bidders[1], "470000")
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED


def test_drafts_and_withdrawn_bids_are_not_opened(
    clock, tender, bidders, official, second_official
):
    submit_bid(tender, bidders[0], "480000")
    submit_bid(tender, bidders[1], "470000")
    bid, _receipt = submit_bid(tender, bidders[2], "460000")
    services.bid_withdraw(bid=bid, actor=bidders[2].admin)
    draft_bidder = make_bidder("草稿机构")
    services.bid_prepare(tender=tender, actor=draft_bidder.admin, price=Decimal("1000"))
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    opened = Bid.objects.filter(opened_at__isnull=False)
    assert opened.count() == 2
    bid.refresh_from_db()
    assert bid.status == BidStatus.WITHDRAWN
    assert bid.price is None


def test_qualification_review_and_failure_when_too_few_pass(
    clock, tender, bidders, official, second_official
):
    bids = [
        submit_bid(tender, b, p)[0]
        for b, p in zip(bidders, ["480000", "470000", "460000"], strict=True)
    ]
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)

    with pytest.raises(ValidationError):
        services.bid_review(bid=bids[0], actor=official, qualified=False, reason="")
    services.bid_review(bid=bids[0], actor=official, qualified=True)
    services.bid_review(bid=bids[1], actor=official, qualified=False, reason="未提供财务审计报告")
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED  # one bid still to review
    services.bid_review(bid=bids[2], actor=official, qualified=True)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.FAILED
    assert tender.failed_reason == record_text(
        "%(count)s bid(s) passed the qualification review; this procurement method needs at "
        "least %(minimum)s.",
        count=2,
        minimum=3,
    )
    bids[1].refresh_from_db()
    assert (bids[1].status, bids[1].review_reason) == (BidStatus.DISQUALIFIED, "未提供财务审计报告")


def test_reviewing_twice_is_refused(clock, tender, bidders, official, second_official):
    bids = [submit_bid(tender, b, p)[0] for b, p in zip(bidders, ["1", "2", "3"], strict=True)]
    bid = bids[0]
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    services.bid_review(bid=bid, actor=official, qualified=True)
    with pytest.raises(ValidationError, match="not possible while the status"):
        services.bid_review(bid=bid, actor=official, qualified=False, reason="x")


def test_no_opening_record_before_the_opening(clock, tender, bidders, official):
    submit_bid(tender, bidders[0], "480000")
    with pytest.raises(Http404):
        selectors.opening_record(tender)


def test_a_cancelled_tenders_bids_stay_sealed(clock, tender, bidders, official):
    bid, _receipt = submit_bid(tender, bidders[0], "480000")
    services.tender_cancel(tender=tender, actor=official, reason="项目取消")
    clock.set(tender.bid_deadline)
    with pytest.raises(PermissionDenied):
        services.tender_open(tender=tender, actor=official)
    bid.refresh_from_db()
    assert bid.price is None
    with pytest.raises(Http404):
        selectors.bid_get_for_user(official, bid.pk)
