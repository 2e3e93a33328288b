"""Tenders from draft to publication: schemes, the negative list, deadlines, four eyes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent
from tenders import rules, services
from tenders.models import Tender, TenderStatus
from tests.tenders.conftest import CRITERIA, tender_data


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def create(official, category, **overrides):
    return services.tender_create(
        actor=official, **tender_data(category, timezone.now(), **overrides)
    )


def test_an_official_drafts_a_tender_with_its_scheme(official, category):
    tender = create(official, category)
    assert tender.status == TenderStatus.DRAFT
    assert [c.code for c in tender.criteria.all()] == ["price", "plan", "grade"]
    assert sum(c.points for c in tender.criteria.all()) == 100
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_CREATED).count() == 1


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "registry_admin", "auditor"])
def test_only_officials_draft_tenders(request, persona, category):
    with pytest.raises(PermissionDenied):
        create(request.getfixturevalue(persona), category)
    assert Tender.objects.count() == 0


@pytest.mark.parametrize(
    ("nature", "article"),
    [
        ("outside_government_duties", "Art. 10(1)"),
        ("direct_government_duties", "Art. 10(2)"),
        ("goods_or_works", "Art. 10(3)"),
        ("financing", "Art. 10(4)"),
        ("staff_hiring", "Art. 10(5)"),
        ("labour_dispatch", "Art. 10(5)"),
        ("public_welfare_posts", "Art. 10(5)"),
    ],
)
def test_the_negative_list_is_refused_with_its_reason(official, category, nature, article):
    with pytest.raises(ValidationError) as error:
        create(official, category, purchase_nature=nature)
    message = error.value.message_dict["purchase_nature"][0]
    assert f"Order No. 102, {article}" in message
    assert Tender.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "criteria", "expected"),
    [
        (
            "public_tender",
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "30"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "60"},
            ],
            "add up to 90",
        ),
        (
            "public_tender",
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "5"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "95"},
            ],
            "Price points are 5; this procurement method needs at least 10",
        ),
        (
            "competitive_consultation",
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "40"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "60"},
            ],
            "needs between 10 and 30",
        ),
        (
            "public_tender",
            [{"code": "plan", "name": "方案", "kind": "subjective", "points": "100"}],
            "exactly one price criterion, not 0",
        ),
        (
            "public_tender",
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "30"},
                {"code": "price", "name": "方案", "kind": "subjective", "points": "70"},
            ],
            "the code is used twice",
        ),
        (
            "public_tender",
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "thirty"},
            ],
            "points must be a number",
        ),
    ],
)
def test_a_bad_scheme_is_refused_with_every_problem(official, category, method, criteria, expected):
    with pytest.raises(ValidationError) as error:
        create(official, category, method=method, criteria=criteria)
    assert any(expected in message for message in error.value.message_dict["criteria"])


def test_the_consultation_price_bounds_accept_30(official, category):
    tender = create(
        official,
        category,
        method="competitive_consultation",
        criteria=[
            {"code": "price", "name": "价格", "kind": "price", "points": "30"},
            {"code": "plan", "name": "方案", "kind": "subjective", "points": "70"},
        ],
    )
    assert tender.minimum_bids == 2


def test_questions_close_before_the_bids(official, category):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        create(
            official,
            category,
            question_deadline=now + timedelta(days=30),
            bid_deadline=now + timedelta(days=25),
        )
    assert "question_deadline" in error.value.message_dict


def test_a_service_longer_than_three_years_is_refused(official, category):
    with pytest.raises(ValidationError) as error:
        create(official, category, service_start=date(2027, 1, 1), service_end=date(2031, 1, 1))
    assert "three years" in error.value.message_dict["service_end"][0]


def test_a_budget_must_be_positive(official, category):
    with pytest.raises(ValidationError) as error:
        create(official, category, budget=Decimal("0"))
    assert "budget" in error.value.message_dict


# --- Approval and publication ------------------------------------------------------------------


def test_four_eyes_publication(official, approver, category):
    tender = create(official, category)
    tender = services.tender_publish(tender=tender, actor=official)
    assert tender.status == TenderStatus.PENDING_APPROVAL

    with pytest.raises(ValidationError, match="different person"):
        services.tender_publish(tender=tender, actor=official)

    tender = services.tender_publish(tender=tender, actor=approver)
    assert tender.status == TenderStatus.PUBLISHED
    assert tender.approved_by == approver
    assert tender.reference.startswith(f"JFB-{timezone.localdate().year}-")
    assert tender.documents_until is not None
    assert tender.documents_until <= timezone.localdate(tender.bid_deadline)


def test_an_approver_never_approves_their_own_draft(approver, category):
    tender = create(approver, category)
    services.tender_publish(tender=tender, actor=approver)
    with pytest.raises(ValidationError, match="different person"):
        services.tender_publish(tender=tender, actor=approver)


def test_a_plain_official_cannot_approve(official, category):
    from marketplace.models import Role
    from tests.conftest import make_user

    other = make_user("official2", Role.OFFICIAL)
    tender = create(official, category)
    services.tender_publish(tender=tender, actor=official)
    with pytest.raises(PermissionDenied):
        services.tender_publish(tender=tender, actor=other)


@pytest.mark.parametrize(
    ("method", "days", "ok"),
    [
        ("public_tender", 19, False),
        ("public_tender", 21, True),
        ("competitive_consultation", 9, False),
        ("competitive_consultation", 11, True),
    ],
)
def test_a_deadline_shorter_than_the_method_allows_is_refused(official, category, method, days, ok):
    now = timezone.now()
    criteria = (
        CRITERIA
        if method == "public_tender"
        else [
            {"code": "price", "name": "价格", "kind": "price", "points": "20"},
            {"code": "plan", "name": "方案", "kind": "subjective", "points": "80"},
        ]
    )
    tender = create(
        official,
        category,
        method=method,
        criteria=criteria,
        bid_deadline=now + timedelta(days=days),
        question_deadline=now + timedelta(days=5),
    )
    if ok:
        assert services.tender_publish(tender=tender, actor=official).status == "pending_approval"
    else:
        with pytest.raises(ValidationError) as error:
            services.tender_publish(tender=tender, actor=official)
        message = error.value.message_dict["bid_deadline"][0]
        assert f"at least {rules.MIN_BID_PERIOD_DAYS[method]} days" in message


def test_the_period_is_counted_from_publication_not_drafting(clock, official, approver, category):
    tender = create(official, category)  # deadline in 25 days
    services.tender_publish(tender=tender, actor=official)
    clock.advance(days=6)  # the approver takes six days: 19 days remain
    with pytest.raises(ValidationError) as error:
        services.tender_publish(tender=tender, actor=approver)
    assert "bid_deadline" in error.value.message_dict


def test_the_approver_returns_a_tender_with_a_note(official, approver, category):
    tender = create(official, category)
    services.tender_publish(tender=tender, actor=official)
    with pytest.raises(ValidationError):
        services.tender_return(tender=tender, actor=approver, note="")
    tender = services.tender_return(tender=tender, actor=approver, note="预算依据不足")
    assert (tender.status, tender.return_note) == (TenderStatus.DRAFT, "预算依据不足")
    services.tender_update(tender=tender, actor=official, budget=Decimal("450000"))
    tender.refresh_from_db()
    assert tender.budget == Decimal("450000.00")


def test_only_the_drafter_edits_a_draft(official, approver, category):
    tender = create(official, category)
    with pytest.raises(PermissionDenied):
        services.tender_update(tender=tender, actor=approver, title="改标题")
    services.tender_publish(tender=tender, actor=official)
    with pytest.raises(PermissionDenied):
        services.tender_update(tender=tender, actor=official, title="改标题")


def test_cancellation_needs_a_public_reason(make_tender, official):
    tender = make_tender()
    with pytest.raises(ValidationError):
        services.tender_cancel(tender=tender, actor=official, reason="")
    tender = services.tender_cancel(tender=tender, actor=official, reason="需求变更，重新立项")
    assert tender.status == TenderStatus.CANCELLED
    assert tender.cancel_reason == "需求变更，重新立项"


def test_a_closing_job_closes_tenders_past_their_deadline(clock, make_tender):
    tender = make_tender()
    assert services.tenders_close_due() == 0
    clock.set(tender.bid_deadline)
    assert tender.display_status == "Closed, waiting for the opening"
    assert services.tenders_close_due() == 1
    tender.refresh_from_db()
    assert tender.status == TenderStatus.CLOSED
