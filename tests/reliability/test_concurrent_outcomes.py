"""Outcomes decided once under concurrency, on PostgreSQL: each state change of a tender's
life raced by many callers at once (threads started on a barrier, each on its own
database connection), through the services the pages and the API call.

Every race must end with exactly one change, one audit event for it, and clean refusals
(``ValidationError`` or ``PermissionDenied``, which the pages and the API turn into their
messages and 4xx answers) for everyone else: never a second opening, award, answer or
decision, never a database error escaping.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

from marketplace.models import AuditAction, AuditEvent, Role
from tenders import services
from tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidReceipt,
    BidStaff,
    BidStatus,
    Challenge,
    ChallengeRemedy,
    ChallengeStatus,
    OpeningConfirmation,
    Question,
    Tender,
    TenderCriterion,
    TenderStatus,
)
from tests.conftest import make_user, persona
from tests.evaluation.conftest import GRADE_RULE, PRICES, OpenedTender
from tests.reliability.support import MAX_WORKERS, bulk_bidders, bulk_drafts, together
from tests.tenders.conftest import make_bidder, submit_bid
from tests.tenders.test_award import AWARD_DAY, RANKED_AT, rank_with_services

pytestmark = pytest.mark.postgresql

# Callers in each race, one thread (and database connection) each.
N = MAX_WORKERS
CLEAN = (ValidationError, PermissionDenied)


@pytest.fixture(autouse=True)
def _tasks_queued(settings) -> None:
    """Background tasks are queued in the database, as in production, instead of running in
    the thread that commits: the integrity screens the opening and the ranking trigger take
    half a minute on a busy machine and race nothing here (they only read)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def events(action: AuditAction, obj: Model) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("sequence")
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_change_of_a_tender_happens_once_when_raced(make_tender, clock, official, approver):
    second_official = persona("second_official", Role.OFFICIAL)
    second_approver = make_user("second_approver", Role.APPROVER)
    clock.set(RANKED_AT)
    tender = make_tender()
    TenderCriterion.objects.filter(tender=tender, kind="objective").update(rule=GRADE_RULE)
    bidders = [make_bidder(f"并发机构{i}号") for i in range(len(PRICES))]
    bids = [
        submit_bid(tender, bidder, price)[0] for bidder, price in zip(bidders, PRICES, strict=True)
    ]

    # A question answered by many officials at once: one answer.
    question = services.question_ask(
        tender=tender, actor=bidders[0].member, text="可以联合投标吗？"
    )
    race = together(
        [
            lambda i=i: services.question_answer(
                question=question,
                actor=(official, second_official)[i % 2],
                answer=f"答复{i}：不接受联合体投标。",
            )
            for i in range(N)
        ]
    )
    assert race.errors(*CLEAN) == []
    (answered,) = race.values
    stored = Question.objects.get(pk=question.pk)
    assert (stored.answer, stored.answered_by_id) == (answered.answer, answered.answered_by_id)
    assert len(events(AuditAction.QUESTION_ANSWERED, question)) == 1

    # Withdrawals against submissions, on another tender before its deadline.
    _race_withdraw_against_submit(make_tender(title="撤回与提交并发项目"))

    # The opening confirmed by two officials, each many times at once: one opening.
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    race = together(
        [
            lambda i=i: services.tender_open(
                tender=tender, actor=(official, second_official)[i % 2]
            )
            for i in range(N)
        ]
    )
    assert race.errors(*CLEAN) == []
    assert sorted(result.opened for result in race.values) == [False, True]
    assert OpeningConfirmation.objects.filter(tender=tender).count() == 2
    assert len(events(AuditAction.TENDER_CLOSED, tender)) == 1
    assert len(events(AuditAction.TENDER_OPENING_CONFIRMED, tender)) == 2
    assert len(events(AuditAction.TENDER_OPENED, tender)) == 1
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.OPENED
    for bid, bidder in zip(bids, bidders, strict=True):
        assert len(events(AuditAction.BID_OPENED, bid)) == 1
        assert BidStaff.objects.filter(bid=bid).count() == len(bidder.staff_ids)

    for bid in bids:
        services.bid_review(bid=Bid.objects.get(pk=bid.pk), actor=official, qualified=True)
    ranked = rank_with_services(OpenedTender(tender=tender, bidders=bidders, bids=bids), official)

    # The award confirmed by two approvers, many times at once: one award.
    clock.set(AWARD_DAY)
    winner = ranked.bid_at(1)
    race = together(
        [
            lambda i=i: services.award_confirm(
                tender=ranked.tender, actor=(approver, second_approver)[i % 2], bid=winner
            )
            for i in range(N)
        ]
    )
    assert race.errors(*CLEAN) == []
    (award,) = race.values
    assert list(Award.objects.filter(tender=tender).values_list("pk", flat=True)) == [award.pk]
    assert len(events(AuditAction.TENDER_AWARDED, tender)) == 1
    assert Counter(Bid.objects.filter(tender=tender).values_list("status", flat=True)) == {
        BidStatus.WON: 1,
        BidStatus.LOST: len(bids) - 1,
    }

    # A challenge answered by two officials, then decided by two approvers, many times at
    # once: one answer, one decision, the award withdrawn once.
    loser = ranked.bidder_of(ranked.bid_at(2))
    challenge = services.challenge_file(
        tender=Tender.objects.get(pk=tender.pk),
        actor=loser.member,
        subject="价格分计算有误",
        text="请重新计算价格分。",
    )
    race = together(
        [
            lambda i=i: services.challenge_answer(
                challenge=challenge,
                actor=(official, second_official)[i % 2],
                answer=f"答复{i}：质疑事项属实。",
                upheld=True,
                remedy=ChallengeRemedy.REOPEN_AWARD,
            )
            for i in range(N)
        ]
    )
    assert race.errors(*CLEAN) == []
    assert len(race.values) == 1
    assert len(events(AuditAction.CHALLENGE_ANSWERED, challenge)) == 1
    race = together(
        [
            lambda i=i: services.challenge_decide(
                challenge=challenge, actor=(approver, second_approver)[i % 2], note=f"决定{i}"
            )
            for i in range(N)
        ]
    )
    assert race.errors(*CLEAN) == []
    assert len(race.values) == 1
    assert Challenge.objects.get(pk=challenge.pk).status == ChallengeStatus.ACCEPTED
    assert len(events(AuditAction.CHALLENGE_UPHELD, challenge)) == 1
    assert len(events(AuditAction.TENDER_AWARD_WITHDRAWN, tender)) == 1
    assert Award.objects.get(pk=award.pk).status == AwardStatus.WITHDRAWN
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.EVALUATING


def _race_withdraw_against_submit(tender: Tender) -> None:
    """Submits and withdrawals of each of 8 drafts at once: each is submitted exactly once,
    and withdrawn at most once and only after that submission."""
    admins = bulk_bidders(8, body_prefix="64")
    drafts = bulk_drafts(tender, admins, first_price=400000)
    calls = []
    for bid, admin in zip(drafts, admins, strict=True):
        calls += [lambda bid=bid, admin=admin: services.bid_submit(bid=bid, actor=admin)] * 3
        calls += [lambda bid=bid, admin=admin: services.bid_withdraw(bid=bid, actor=admin)] * 3

    race = together(calls)

    assert race.errors(*CLEAN) == []
    withdrawn_calls = Counter(v.pk for v in race.values if isinstance(v, Bid))
    for bid in drafts:
        submitted = events(AuditAction.BID_SUBMITTED, bid)
        withdrawn = events(AuditAction.BID_WITHDRAWN, bid)
        assert len(submitted) == 1
        assert BidReceipt.objects.filter(bid=bid).count() == 1
        assert len(withdrawn) == withdrawn_calls[bid.pk] <= 1
        status = Bid.objects.get(pk=bid.pk).status
        if withdrawn:
            assert status == BidStatus.WITHDRAWN
            assert withdrawn[0].sequence > submitted[0].sequence
        else:
            assert status == BidStatus.SUBMITTED
