"""The tenders demo: every state with bids and questions, built by the services, sealed."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from evaluation.demo_integrity import integrity_titles
from marketplace.audit import audit_verify
from marketplace.demo import seed_demo
from marketplace.models import AuditAction, AuditEvent, User
from orgs_registry.models import Employment
from tenders import rules, sealing, services
from tenders.demo import TENDERS, demo_pdf, demo_tender_counts
from tenders.demo_contracts import CONTRACTS
from tenders.models import (
    Amendment,
    Bid,
    BidDocument,
    BidReceipt,
    BidStaff,
    BidStatus,
    OpeningConfirmation,
    Question,
    QuestionStatus,
    Tender,
    TenderStatus,
)
from tenders.selectors import opening_record


def snapshot() -> dict[str, object]:
    return {
        **demo_tender_counts(),
        "audit events": AuditEvent.objects.count(),
        "tender states": Counter(
            Tender.objects.exclude(title__in=integrity_titles()).values_list("status", flat=True)
        ),
        "bid states": Counter(Bid.objects.values_list("status", flat=True)),
    }


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    """The module's folder for uploaded files: the demo's documents live there."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, media_root) -> Iterator[dict[str, object]]:
    """One demo for the whole module (seeding takes seconds), rolled back at its end.

    Each test still runs in its own savepoint inside this transaction (the ``db``
    fixture), so what a test adds on top is undone before the next one.
    """
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers, MEDIA_ROOT=media_root),
        transaction.atomic(),
    ):
        seed_demo()
        yield snapshot()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db, settings, media_root) -> dict[str, object]:
    # The seeded documents live in the module's media folder, not the test's own.
    settings.MEDIA_ROOT = media_root
    return seeded


def test_seeding_again_changes_nothing(demo):
    assert snapshot() == demo
    seed_demo()
    assert snapshot() == demo
    assert audit_verify().ok


def test_verify_audit_passes_after_seeding(demo):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_every_state_of_a_tender_before_the_evaluation_is_there(demo):
    # The contracts demo (tenders.demo_contracts) adds projects of its own, carried further.
    catalogue = Tender.objects.filter(title__in=[plan.title for plan in TENDERS])
    states = Counter(catalogue.values_list("status", flat=True))
    assert states[TenderStatus.DRAFT] == 2
    assert states[TenderStatus.PENDING_APPROVAL] == 1
    assert states[TenderStatus.PUBLISHED] == 5
    assert states[TenderStatus.CLOSED] == 1
    assert states[TenderStatus.OPENED] == 3
    assert states[TenderStatus.FAILED] == 1
    assert states[TenderStatus.CANCELLED] == 1
    assert sum(states.values()) == len(TENDERS)
    returned = Tender.objects.get(status=TenderStatus.DRAFT, return_note__gt="")
    assert returned.submitted_at is not None
    assert AuditEvent.objects.filter(
        action=AuditAction.TENDER_RETURNED, object_id=str(returned.pk)
    ).exists()
    cancelled = Tender.objects.get(status=TenderStatus.CANCELLED)
    assert cancelled.cancel_reason
    assert cancelled.cancelled_at
    # The integrity demo's single-valid-bid tender (evaluation.demo_integrity) fails too.
    failed = Tender.objects.exclude(title__in=integrity_titles()).get(status=TenderStatus.FAILED)
    assert failed.failed_reason
    assert failed.opened_at
    assert failed.bids.filter(status=BidStatus.OPENED).count() < failed.minimum_bids
    assert set(Tender.objects.values_list("method", flat=True)) == {
        "public_tender",
        "competitive_consultation",
    }
    bid_states = Counter(Bid.objects.values_list("status", flat=True))
    for state in (
        BidStatus.DRAFT,
        BidStatus.SUBMITTED,
        BidStatus.WITHDRAWN,
        BidStatus.NEEDS_CONFIRMATION,
        BidStatus.OPENED,
        BidStatus.QUALIFIED,
        BidStatus.DISQUALIFIED,
    ):
        assert bid_states[state] >= 1, state


def test_published_tenders_are_past_approval_and_open_for_bids(demo):
    for tender in Tender.objects.filter(status=TenderStatus.PUBLISHED):
        assert tender.reference.startswith("JFB-")
        assert tender.approved_by.username == "approver"
        assert tender.created_by.username == "official"
        assert tender.is_accepting_bids
        assert tender.is_accepting_questions
    consultation = (
        Tender.objects.filter(
            status=TenderStatus.PUBLISHED,
            method="competitive_consultation",
            bids__status=BidStatus.SUBMITTED,
        )
        .distinct()
        .get()
    )
    assert consultation.bids.filter(status=BidStatus.SUBMITTED).count() == 2


def test_closed_tender_waits_for_a_second_official(demo):
    tender = Tender.objects.get(status=TenderStatus.CLOSED)
    assert tender.deadline_passed
    assert tender.opened_at is None
    confirmations = OpeningConfirmation.objects.filter(tender=tender)
    assert [c.official.username for c in confirmations] == ["official"]
    assert tender.bids.filter(status=BidStatus.SUBMITTED).count() == 3


def test_opened_tenders_have_an_opening_record_with_prices(demo):
    opened = Tender.objects.filter(status__in=[TenderStatus.OPENED, TenderStatus.FAILED]).exclude(
        title__in=integrity_titles()
    )
    assert opened.count() == 4
    for tender in opened:
        record = opening_record(tender)
        assert record.officials == ["陈静", "刘洋"]
        assert tender.published_at < tender.bid_deadline <= tender.opened_at, tender
        for row in record.rows:
            assert Decimal("0") < row.price < tender.budget
            assert row.received_at < tender.bid_deadline
        if tender.status == TenderStatus.OPENED:
            assert 3 <= len(record.rows) <= 5
    reviewed = Bid.objects.filter(status__in=[BidStatus.QUALIFIED, BidStatus.DISQUALIFIED])
    assert reviewed.filter(status=BidStatus.QUALIFIED).count() >= 3
    for bid in reviewed:
        assert bid.reviewed_by.username == "official"
        assert (bid.status == BidStatus.DISQUALIFIED) == bool(bid.review_reason)
    for bid in Bid.objects.filter(opened_at__isnull=False):
        assert bid.proposal
        assert bid.staff.exists()


def test_sealed_bids_stay_sealed(demo):
    sealed = Bid.objects.filter(tender__opened_at__isnull=True)
    assert sealed.count() >= 12
    assert not BidStaff.objects.filter(bid__in=sealed).exists()
    for bid in sealed:
        assert bid.price is None
        assert bid.proposal == ""
        assert bid.sealed
        assert "proposal" not in bid.sealed
        content = sealing.unseal_json(bid.sealed)
        assert Decimal("0") < Decimal(content["price"]) < bid.tender.budget
        assert "服务方案" in content["proposal"]
    bid_events = AuditEvent.objects.filter(
        object_type="tenders.bid",
        object_id__in=[str(pk) for pk in sealed.values_list("pk", flat=True)],
    )
    assert bid_events.exists()
    assert not any("price" in event.details for event in bid_events)


def test_submissions_have_receipts_and_an_amendment_asked_for_confirmation(demo):
    received = Bid.objects.exclude(status=BidStatus.DRAFT)
    assert not received.filter(receipts__isnull=True).exists()
    amendment = Amendment.objects.get()
    assert amendment.deadline_moved
    assert amendment.affects_preparation
    assert amendment.bid_deadline_after > amendment.bid_deadline_before
    tender = amendment.tender
    assert tender.bids.filter(status=BidStatus.NEEDS_CONFIRMATION).count() == 1
    confirmed = BidReceipt.objects.get(bid__tender=tender, kind="confirmed")
    assert confirmed.bid.status == BidStatus.SUBMITTED
    assert confirmed.received_at > amendment.published_at


def test_questions_answered_and_waiting(demo):
    published = Tender.objects.filter(status=TenderStatus.PUBLISHED)
    questions = Question.objects.filter(tender__in=published)
    assert questions.filter(status=QuestionStatus.ANSWERED).count() >= 3
    assert questions.filter(status=QuestionStatus.OPEN).count() >= 1
    home_care = Tender.objects.get(title="解放碑街道2027年度居家养老上门服务项目")
    assert Counter(home_care.questions.values_list("status", flat=True)) == {
        QuestionStatus.ANSWERED: 2,
        QuestionStatus.OPEN: 1,
    }
    for question in Question.objects.filter(status=QuestionStatus.ANSWERED):
        assert question.answer
        assert question.answered_by.username == "official"


def test_the_org_admin_account_has_a_bid_in_every_state_it_shows(demo):
    org_admin = User.objects.get(username="org_admin")
    bids = Bid.objects.filter(
        organization=org_admin.organization, tender__title__in=[plan.title for plan in TENDERS]
    ).select_related("tender")
    by_state = {bid.status: bid for bid in bids}
    assert set(by_state) == {BidStatus.SUBMITTED, BidStatus.DRAFT, BidStatus.OPENED}
    assert by_state[BidStatus.SUBMITTED].tender.is_accepting_bids
    assert by_state[BidStatus.SUBMITTED].price is None
    assert by_state[BidStatus.DRAFT].tender.is_accepting_bids
    assert by_state[BidStatus.DRAFT].tender != by_state[BidStatus.SUBMITTED].tender
    assert by_state[BidStatus.OPENED].tender.status == TenderStatus.OPENED
    assert by_state[BidStatus.OPENED].price is not None
    assert all(bid.created_by == org_admin for bid in bids)


def test_tenders_follow_the_procurement_rules(demo):
    for tender in Tender.objects.all():
        criteria = [services._criterion_input(c) for c in tender.criteria.all()]
        assert rules.criteria_problems(tender.method, criteria) == [], tender
        assert {c.kind for c in criteria} == {"price", "objective", "subjective"}
        assert Decimal("100000") <= tender.budget <= Decimal("2000000")
        assert (tender.service_end - tender.service_start).days in (364, 365)
        assert tender.question_deadline <= tender.bid_deadline
        assert tender.documents.exists()
    assert Tender.objects.filter(communities__isnull=False).distinct().count() >= 3
    assert len(set(Tender.objects.values_list("category", flat=True))) >= 9


def test_staffing_plans_come_from_current_rosters(demo):
    today = timezone.localdate()
    for bid in Bid.objects.select_related("organization"):
        staff = (
            [{"person": s.person_id, "fte": s.fte} for s in bid.staff.all()]
            if bid.is_open
            else sealing.unseal_json(bid.sealed)["staff"]
        )
        assert 2 <= len(staff) <= 5, bid
        for row in staff:
            employment = Employment.objects.get(
                organization=bid.organization, person_id=row["person"], end_date__isnull=True
            )
            assert employment.start_date <= today
            assert Decimal(str(row["fte"])) * 40 <= employment.weekly_hours


def test_documents_are_small_valid_pdfs_and_one_is_planted_twice(demo):
    data = demo_pdf("JFB demo", "line (2)")
    assert data.startswith(b"%PDF-1.4\n")
    assert data.endswith(b"%%EOF\n")
    start = int(re.search(rb"startxref\n(\d+)", data).group(1))
    assert data[start:].startswith(b"xref\n")
    offsets = [int(n) for n in re.findall(rb"(\d{10}) 00000 n ", data)]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)
    documents = BidDocument.objects.all()
    assert documents.count() >= 5
    assert set(documents.values_list("content_type", flat=True)) == {"application/pdf"}
    with documents.first().file.open("rb") as handle:
        assert b"%PDF" not in handle.read()  # encrypted at rest
    shared = Counter(documents.values_list("sha256", flat=True)).most_common(1)[0]
    assert shared[1] == 2
    same = documents.filter(sha256=shared[0])
    assert same.values("bid__tender").distinct().count() == 1


def test_scale_multiplies_the_tenders(demo):
    seed_demo(scale=2)
    # The integrity demo's tenders (evaluation.demo_integrity) are not copied per scale.
    assert Tender.objects.count() == 2 * (len(TENDERS) + len(CONTRACTS)) + len(integrity_titles())
    copies = Tender.objects.filter(title__endswith="（第2批）")
    assert copies.count() == len(TENDERS) + len(CONTRACTS)
    assert Counter(copies.values_list("status", flat=True)) == demo["tender states"]
    # A copy's bids come from the registry's copies of the organizations.
    assert not copies.filter(bids__organization__name="渝中区解放碑阳光社会工作服务中心").exists()
