"""Questions answered in public without the asker; amendments that move the deadline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent
from tenders import permissions, rules, selectors, services
from tenders.models import BidReceipt, BidStatus, QuestionStatus
from tests.tenders.conftest import submit_bid


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def tender(make_tender):
    return make_tender()


def test_questions_are_answered_for_everyone_without_the_asker(
    tender, bidders, official, outsider, django_capture_on_commit_callbacks
):
    asker, other = bidders[0], bidders[1]
    services.tender_follow(tender=tender, user=other.admin)
    question = services.question_ask(tender=tender, actor=asker.member, text="服务对象人数是多少？")
    assert question.status == QuestionStatus.OPEN
    # Unanswered: only the asker's organization and the street office see it.
    assert list(selectors.question_list_for_user(asker.admin, tender)) == [question]
    assert list(selectors.question_list_for_user(other.admin, tender)) == []
    assert list(selectors.question_list_for_user(official, tender)) == [question]

    with django_capture_on_commit_callbacks(execute=True):
        services.question_answer(question=question, actor=official, answer="约200名高龄老人。")
    assert list(selectors.question_list_for_user(other.admin, tender)) == [question]
    assert list(selectors.question_list_for_user(outsider, tender)) == [question]
    assert not permissions.can_see_asker(other.admin)
    assert permissions.can_see_asker(official)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([asker.member.email, other.admin.email])
    assert "约200名高龄老人" in mail.outbox[0].body
    assert asker.organization.name not in mail.outbox[0].body


def test_questions_close_at_the_question_deadline(clock, tender, bidders):
    clock.set(tender.question_deadline)
    with pytest.raises(ValidationError, match="Questions closed"):
        services.question_ask(tender=tender, actor=bidders[0].admin, text="还能提问吗？")


def test_only_organizations_ask_and_only_officials_answer(tender, bidders, official, assessor):
    with pytest.raises(PermissionDenied):
        services.question_ask(tender=tender, actor=official, text="x")
    question = services.question_ask(tender=tender, actor=bidders[0].admin, text="x")
    for actor in (bidders[1].admin, assessor):
        with pytest.raises(PermissionDenied):
            services.question_answer(question=question, actor=actor, answer="y")


def test_an_empty_question_or_answer_is_refused(tender, bidders, official):
    with pytest.raises(ValidationError) as error:
        services.question_ask(tender=tender, actor=bidders[0].admin, text="  ")
    assert "text" in error.value.message_dict
    question = services.question_ask(tender=tender, actor=bidders[0].admin, text="x")
    with pytest.raises(ValidationError):
        services.question_answer(question=question, actor=official, answer="")


def test_an_amendment_affecting_preparation_moves_the_deadline_and_recalls_bids(
    clock, tender, bidders, official, django_capture_on_commit_callbacks
):
    bid, first = submit_bid(tender, bidders[0], "480000")
    clock.set(tender.bid_deadline - timedelta(days=5))
    with django_capture_on_commit_callbacks(execute=True):
        amendment = services.tender_amend(
            tender=tender,
            actor=official,
            summary="服务对象增加至300人，请据此调整方案。",
            changes={"description": tender.description + "服务对象约300人。"},
            affects_preparation=True,
        )
    tender.refresh_from_db()
    assert amendment.number == 1
    assert amendment.deadline_moved
    assert tender.bid_deadline == timezone.now() + timedelta(days=rules.CLARIFICATION_MIN_DAYS)
    bid.refresh_from_db()
    assert bid.status == BidStatus.NEEDS_CONFIRMATION
    assert [m.to[0] for m in mail.outbox] == [bidders[0].admin.email]
    assert "300" in mail.outbox[0].body

    second = services.bid_confirm(bid=bid, actor=bidders[0].admin)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert second.kind == "confirmed"
    assert BidReceipt.objects.filter(bid=bid).count() == 2
    assert second.pk != first.pk


def test_an_amendment_with_enough_time_left_keeps_the_deadline(tender, bidders, official):
    bid, _receipt = submit_bid(tender, bidders[0], "480000")
    deadline = tender.bid_deadline
    amendment = services.tender_amend(
        tender=tender,
        actor=official,
        summary="补充附件：服务对象名册样表。",
        changes={"eligibility_notes": "须具备养老服务经验。"},
        affects_preparation=True,
    )
    tender.refresh_from_db()
    assert tender.bid_deadline == deadline
    assert not amendment.deadline_moved
    bid.refresh_from_db()
    assert bid.status == BidStatus.NEEDS_CONFIRMATION  # it still affects preparation


def test_a_minor_amendment_leaves_bids_alone(clock, tender, bidders, official):
    bid, _receipt = submit_bid(tender, bidders[0], "480000")
    clock.set(tender.bid_deadline - timedelta(days=3))
    services.tender_amend(
        tender=tender,
        actor=official,
        summary="更正联系电话。",
        changes={"eligibility_notes": "联系电话更正为023-63891234。"},
    )
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED


def test_a_budget_change_always_affects_preparation(clock, tender, bidders, official):
    submit_bid(tender, bidders[0], "480000")
    clock.set(tender.bid_deadline - timedelta(days=2))
    amendment = services.tender_amend(
        tender=tender, actor=official, summary="预算调整", changes={"budget": Decimal("450000")}
    )
    assert amendment.affects_preparation
    assert amendment.deadline_moved


def test_a_bid_not_confirmed_is_not_opened(clock, tender, bidders, official):
    from marketplace.models import Role
    from tests.conftest import make_user

    second = make_user("official_two", Role.OFFICIAL)
    kept = [submit_bid(tender, b, p)[0] for b, p in zip(bidders, ["1", "2", "3"], strict=True)]
    services.tender_amend(
        tender=tender, actor=official, summary="调整", changes={"budget": Decimal("490000")}
    )
    for bid in kept[:2]:
        services.bid_confirm(bid=bid, actor=bid.created_by)
    tender.refresh_from_db()
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second)
    tender.refresh_from_db()
    record = selectors.opening_record(tender)
    assert len(record.rows) == 2
    assert record.not_confirmed == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"title": "新标题"}, "title"), ({"method": "competitive_consultation"}, "method")],
)
def test_an_amendment_cannot_change_everything(tender, official, changes, field):
    with pytest.raises(ValidationError) as error:
        services.tender_amend(tender=tender, actor=official, summary="x", changes=changes)
    assert field in error.value.message_dict


def test_an_amendment_needs_a_summary_and_a_change(tender, official):
    with pytest.raises(ValidationError):
        services.tender_amend(tender=tender, actor=official, summary="", changes={"budget": 1})
    with pytest.raises(ValidationError, match="changes nothing"):
        services.tender_amend(tender=tender, actor=official, summary="x")


def test_no_amendment_after_the_deadline(clock, tender, official):
    clock.set(tender.bid_deadline)
    with pytest.raises(PermissionDenied):
        services.tender_amend(
            tender=tender, actor=official, summary="x", changes={"eligibility_notes": "y"}
        )


def test_amendments_are_numbered_and_audited(tender, official):
    for text in ("第一次更正", "第二次更正"):
        services.tender_amend(
            tender=tender, actor=official, summary=text, changes={"eligibility_notes": text}
        )
    assert [a.number for a in selectors.amendment_list(tender)] == [1, 2]
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_AMENDED).count() == 2
