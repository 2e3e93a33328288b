"""Abnormally low prices (87号令 Art. 60; DESIGN 4.4): flagged at panel formation, justified
in writing by the bidder, accepted or rejected by the panel (through its chair).

The module builds once (each test rolls back to it) the pool and the opened tender priced
``LOW_PRICES``, no panel yet: the tests form it (which flags the low price).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import translation

from evaluation import rules
from evaluation.models import JustificationStatus, PriceJustification
from evaluation.selectors import (
    justification_document_for_download,
    justification_get_for_user,
    justification_list_for_user,
)
from evaluation.services.panels import justification_decide, justification_submit
from marketplace.models import AuditAction, AuditEvent
from tenders.models import BidStatus
from tests.conftest import building, module_database
from tests.evaluation.conftest import active_members, declare_all, form_panel
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)

LOW_PRICES = ["480000", "450000", "470000", "300000"]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool and the "low" tender, no panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        shared.opened["low"] = build_opened(clock, prices=LOW_PRICES)
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


@pytest.fixture
def low(_built, db, clock) -> Evaluated:
    """An opened tender whose fourth bid (300000) is below 80% of the others' mean."""
    clock.set(_built.built_until)
    return _built.evaluated("low")


@pytest.fixture
def flagged(low, official):
    panel = form_panel(low.tender, official)
    return panel, PriceJustification.objects.get()


@pytest.fixture
def cheap(low):
    """The bidder with the abnormally low price."""
    return low.bidders[3]


def chair_of(panel):
    return next(m.user for m in active_members(panel) if m.user_id == panel.chair_id)


def submit(justification, bidder, text="人员由志愿者补充，场地由社区免费提供。", **kw):
    return justification_submit(justification=justification, actor=bidder.admin, text=text, **kw)


# --- The flag ------------------------------------------------------------------------------------


def test_a_price_below_eighty_percent_of_the_others_mean_is_flagged_at_formation(
    low, official, cheap, clock, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        form_panel(low.tender, official)

    justification = PriceJustification.objects.get()
    assert justification.bid == low.bids[3]
    assert justification.price == Decimal("300000.00")
    # The mean of 480000, 450000 and 470000.
    assert justification.others_mean == Decimal("466666.6667")
    assert justification.ratio == rules.LOW_PRICE_RATIO
    assert justification.status == JustificationStatus.REQUESTED
    assert justification.due_at == justification.requested_at + timedelta(
        days=rules.JUSTIFICATION_DAYS
    )
    (event,) = events(AuditAction.LOW_PRICE_FLAGGED)
    assert event.details["bid"] == str(low.bids[3].pk)
    assert event.details["price"] == "300000.00"
    assert event.details["ratio"] == "0.80"
    to_bidder = [m for m in mailoutbox if m.to == [cheap.admin.email]]
    assert len(to_bidder) == 1
    assert "300000" in to_bidder[0].body
    assert "80%" in to_bidder[0].body


def test_prices_within_the_ratio_are_not_flagged(opened, official, pool):
    form_panel(opened.tender, official)
    assert not PriceJustification.objects.exists()
    assert not events(AuditAction.LOW_PRICE_FLAGGED)


def test_the_flagged_bid_is_still_scored_until_the_panel_decides(flagged, low):
    _panel, justification = flagged
    assert justification.bid.status == BidStatus.QUALIFIED
    assert low.bids[3].sheets.count() == 5


# --- Submitting the justification --------------------------------------------------------------


def test_the_bidders_admin_submits_a_written_justification(flagged, cheap):
    _panel, justification = flagged

    result = submit(justification, cheap)

    assert result.status == JustificationStatus.SUBMITTED
    assert result.text == "人员由志愿者补充，场地由社区免费提供。"
    assert result.submitted_by == cheap.admin
    assert result.submitted_at is not None
    assert not result.document
    (event,) = events(AuditAction.LOW_PRICE_JUSTIFIED)
    assert event.actor == cheap.admin
    assert event.state_after == JustificationStatus.SUBMITTED


def test_the_chair_is_emailed_when_a_justification_arrives(
    flagged, cheap, mailoutbox, django_capture_on_commit_callbacks
):
    panel, justification = flagged
    with django_capture_on_commit_callbacks(execute=True):
        submit(justification, cheap)
    assert [m.to for m in mailoutbox] == [[panel.chair.email]]
    assert panel.tender.reference in mailoutbox[0].subject


def test_a_document_is_checked_hashed_and_stored(flagged, cheap):
    _panel, justification = flagged
    upload = SimpleUploadedFile("../../成本测算.exe", PDF, content_type="application/x-msdos")

    result = submit(justification, cheap, upload=upload)

    assert result.document_name == "成本测算.pdf"
    import hashlib

    digest = hashlib.sha256(PDF).hexdigest()
    assert result.document_sha256 == digest
    with result.document.open("rb") as handle:
        assert handle.read() == PDF
    (event,) = events(AuditAction.LOW_PRICE_JUSTIFIED)
    assert event.details["sha256"] == digest
    _found, data = justification_document_for_download(cheap.admin, result.pk)
    assert data == PDF


def test_a_file_that_is_not_a_document_is_refused_and_nothing_is_saved(flagged, cheap):
    _panel, justification = flagged
    upload = SimpleUploadedFile("说明.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 600)
    with pytest.raises(ValidationError) as caught:
        submit(justification, cheap, upload=upload)
    assert caught.value.error_dict["file"][0].code == "wrong_type"
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED
    assert not justification.document
    assert not events(AuditAction.LOW_PRICE_JUSTIFIED)


def test_the_text_is_required(flagged, cheap):
    _panel, justification = flagged
    with pytest.raises(ValidationError) as caught:
        submit(justification, cheap, text="   ")
    assert caught.value.message_dict["text"]


def test_a_justification_after_its_due_time_is_refused(flagged, cheap, clock):
    _panel, justification = flagged
    clock.set(justification.due_at + timedelta(seconds=1))
    with pytest.raises(ValidationError, match="was due"):
        submit(justification, cheap)
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


def test_only_the_bidders_admin_submits_and_only_once(flagged, cheap, low, official, pool):
    _panel, justification = flagged
    for actor in (cheap.member, low.bidders[0].admin, official, pool[0]):
        with pytest.raises(PermissionDenied):
            justification_submit(justification=justification, actor=actor, text="理由")
    submit(justification, cheap)
    with pytest.raises(PermissionDenied):
        submit(justification, cheap, text="再次提交")


# --- The panel's decision ---------------------------------------------------------------------


def test_the_chair_accepts_a_justification_and_the_bid_stays_valid(
    flagged, cheap, mailoutbox, django_capture_on_commit_callbacks
):
    panel, justification = flagged
    submit(justification, cheap)
    declare_all(panel)
    chair = chair_of(panel)

    with django_capture_on_commit_callbacks(execute=True):
        result = justification_decide(
            justification=justification, actor=chair, accept=True, note="成本测算合理，可信。"
        )

    assert result.status == JustificationStatus.ACCEPTED
    assert result.decided_by == chair
    assert result.decision_note == "成本测算合理，可信。"
    result.bid.refresh_from_db()
    assert result.bid.status == BidStatus.QUALIFIED
    (event,) = events(AuditAction.LOW_PRICE_DECIDED)
    assert event.details["accepted"] is True
    assert event.state_after == JustificationStatus.ACCEPTED
    assert not events(AuditAction.BID_INVALIDATED)
    assert [m.to for m in mailoutbox] == [[cheap.admin.email]]
    assert "accepted" in mailoutbox[0].subject or "接受" in mailoutbox[0].subject


def test_a_rejected_justification_invalidates_the_bid(flagged, cheap):
    panel, justification = flagged
    submit(justification, cheap)
    declare_all(panel)

    result = justification_decide(
        justification=justification,
        actor=chair_of(panel),
        accept=False,
        note="未说明人员成本来源，无法保证服务质量。",
    )

    assert result.status == JustificationStatus.REJECTED
    bid = result.bid
    bid.refresh_from_db()
    assert bid.status == BidStatus.DISQUALIFIED
    assert "未说明人员成本来源" in bid.review_reason
    (decided,) = events(AuditAction.LOW_PRICE_DECIDED)
    assert decided.details["accepted"] is False
    (invalidated,) = events(AuditAction.BID_INVALIDATED)
    assert invalidated.state_before == BidStatus.QUALIFIED
    assert invalidated.state_after == BidStatus.DISQUALIFIED
    assert invalidated.details["reason"] == bid.review_reason


def test_a_justification_never_submitted_may_be_rejected_after_its_due_time(flagged, clock):
    panel, justification = flagged
    declare_all(panel)
    chair = chair_of(panel)
    with pytest.raises(ValidationError, match="has until"):
        justification_decide(justification=justification, actor=chair, accept=False, note="未提交")
    with pytest.raises(ValidationError, match="Nothing was submitted"):
        justification_decide(justification=justification, actor=chair, accept=True, note="接受")

    clock.set(justification.due_at + timedelta(minutes=1))
    result = justification_decide(
        justification=justification, actor=chair, accept=False, note="逾期未提交书面说明。"
    )
    assert result.status == JustificationStatus.REJECTED
    result.bid.refresh_from_db()
    assert result.bid.status == BidStatus.DISQUALIFIED
    assert events(AuditAction.LOW_PRICE_DECIDED)[0].details["submitted"] is False


def test_the_decision_needs_the_panels_reasons(flagged, cheap):
    panel, justification = flagged
    submit(justification, cheap)
    declare_all(panel)
    with pytest.raises(ValidationError) as caught:
        justification_decide(
            justification=justification, actor=chair_of(panel), accept=True, note=" "
        )
    assert caught.value.message_dict["note"]


def test_only_the_chair_decides_while_the_panel_scores(flagged, cheap, official, auditor):
    panel, justification = flagged
    submit(justification, cheap)
    chair = chair_of(panel)
    # Still declaring: not even the chair.
    with pytest.raises(PermissionDenied):
        justification_decide(justification=justification, actor=chair, accept=True, note="理由")
    declare_all(panel)
    others = [m.user for m in active_members(panel) if m.user != chair]
    for actor in (*others, official, auditor, cheap.admin):
        with pytest.raises(PermissionDenied):
            justification_decide(justification=justification, actor=actor, accept=True, note="理由")
    justification_decide(justification=justification, actor=chair, accept=True, note="理由")
    with pytest.raises(PermissionDenied):
        justification_decide(justification=justification, actor=chair, accept=False, note="改判")


# --- Who reads a justification --------------------------------------------------------------


def test_a_justification_is_read_by_its_bidder_the_office_and_declared_members(
    flagged, cheap, low, official, auditor, outsider
):
    panel, justification = flagged
    member = active_members(panel)[0]
    for reader in (cheap.admin, cheap.member, official, auditor):
        assert justification_get_for_user(reader, justification.pk) == justification
    for stranger in (low.bidders[0].admin, outsider, member.user):
        with pytest.raises(Http404):
            justification_get_for_user(stranger, justification.pk)
    declare_all(panel)
    assert justification_get_for_user(member.user, justification.pk) == justification


def test_bidders_list_only_their_own_justification(flagged, cheap, low, official):
    _panel, justification = flagged
    assert list(justification_list_for_user(cheap.admin, low.tender)) == [justification]
    assert list(justification_list_for_user(low.bidders[0].admin, low.tender)) == []
    assert list(justification_list_for_user(official, low.tender)) == [justification]
