"""Award confirmation, the public award notice and the bidders' own results (DESIGN 3, 4.3)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import chinese_calendar
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from evaluation import rules as evaluation_rules
from evaluation.models import (
    Panel,
    PanelStatus,
    RankingCorrection,
    RankingRow,
    ScoreSheet,
)
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.fsm import fire
from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry.models import Organization, ServiceCategory
from tenders import selectors, services
from tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Tender,
    TenderCriterion,
    TenderStatus,
)
from tests.conftest import building, make_user, module_database, persona
from tests.evaluation.conftest import (
    OpenedTender,
    active_members,
    declare_all,
    form_panel,
    make_assessor,
    open_tender,
)
from tests.tenders.conftest import Bidder, Clock, publish_tender

# Plan scores (out of 50) every member gives each bid, in the order of
# tests.evaluation.conftest.PRICES (480000, 450000, 430000, 470000); grade 16 of 20 for all.
PLAN_SCORES = [Decimal("45"), Decimal("40"), Decimal("38"), Decimal("30")]
GRADE = Decimal("16")
# Totals with price points 30 on the lowest price 430000 (low-price-first, 87号令 Art. 55):
# 26.88 + 45 + 16, 28.67 + 40 + 16, 30 + 38 + 16, 27.45 + 30 + 16.
TOTALS = [Decimal("87.88"), Decimal("84.67"), Decimal("84.00"), Decimal("73.45")]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@dataclass
class Ranked:
    tender: Tender
    bidders: list[Bidder]
    bids: list[Bid]
    panel: Panel

    def bid_at(self, position: int) -> Bid:
        row = RankingRow.objects.select_related("bid").get(
            ranking__tender=self.tender, position=position
        )
        return Bid.objects.get(pk=row.bid_id)

    def bidder_of(self, bid: Bid) -> Bidder:
        return next(b for b in self.bidders if b.organization.pk == bid.organization_id)

    built_until: datetime | None = None

    def refresh(self) -> None:
        self.tender = Tender.objects.get(pk=self.tender.pk)
        self.bids = [Bid.objects.get(pk=bid.pk) for bid in self.bids]
        self.panel = Panel.objects.get(pk=self.panel.pk)

    def copy(self) -> Ranked:
        """A fresh copy with its rows re-read (shared state is rolled back between tests)."""
        bidders = [
            Bidder(
                organization=Organization.objects.get(pk=bidder.organization.pk),
                admin=User.objects.get(pk=bidder.admin.pk),
                member=User.objects.get(pk=bidder.member.pk),
                staff_ids=list(bidder.staff_ids),
            )
            for bidder in self.bidders
        ]
        fresh = Ranked(
            tender=self.tender,
            bidders=bidders,
            bids=self.bids,
            panel=self.panel,
            built_until=self.built_until,
        )
        fresh.refresh()
        return fresh


def rank_with_services(opened: OpenedTender, official: User) -> Ranked:
    """Panel, sheets and the frozen ranking through the evaluation app's own services.

    Five experts drawn from a pool of the tender's category declare no conflict; every
    member gives each bid the same plan score (``PLAN_SCORES``: no deviation flag); the
    last submission locks the sheets and computes the ranking. The objective "grade"
    criterion gives organizations without a grade 80% (16 of 20) so that it counts.
    """
    tender = Tender.objects.get(pk=opened.tender.pk)
    TenderCriterion.objects.filter(tender=tender, code="grade").update(
        rule={"type": "grade", "none": "0.8"}
    )
    for i in range(7):
        make_assessor(f"pool{tender.pk}_{i}", agency=f"第{tender.pk}-{i}评估所")
    panel = declare_all(form_panel(tender, official))
    plan = dict(zip((bid.pk for bid in opened.bids), PLAN_SCORES, strict=True))
    for member in active_members(panel):
        for sheet in ScoreSheet.objects.filter(member=member).order_by("pk"):
            scoresheet_save(
                sheet=sheet,
                actor=member.user,
                scores=[{"criterion": "plan", "score": plan[sheet.bid_id], "reason": "方案完整"}],
            )
            scoresheet_submit(sheet=sheet, actor=member.user)
    panel = Panel.objects.get(pk=panel.pk)
    assert panel.status == PanelStatus.RANKED
    tender = Tender.objects.get(pk=tender.pk)
    assert tender.status == TenderStatus.EVALUATING
    bids = [Bid.objects.get(pk=bid.pk) for bid in opened.bids]
    return Ranked(tender=tender, bidders=opened.bidders, bids=bids, panel=panel)


@pytest.fixture
def second_official(db) -> User:
    return persona("second_official", Role.OFFICIAL)


@pytest.fixture
def build_ranked(make_tender, clock: Clock, official, second_official) -> Callable[..., Ranked]:
    """A ranked tender: published on 2026-08-20, opened on 2026-09-14, four qualified bids
    ranked by a five-member panel; the clock is left just after the opening."""

    def build(*, make: Callable[..., Tender] | None = None, **overrides: Any) -> Ranked:
        clock.set(local(2026, 8, 20, 9, 0))
        opened = open_tender(
            make_tender=make or make_tender,
            clock=clock,
            official=official,
            second_official=second_official,
            **overrides,
        )
        return rank_with_services(opened, official)

    return build


RANKED_AT = local(2026, 8, 20, 9, 0)
AWARD_DAY = local(2026, 9, 30, 10, 0)  # the day before National Day


def ranked_tender(clock: Clock) -> Ranked:
    """The ranked tender of ``build_ranked`` for a module's shared build (no function-scoped
    fixtures); ``built_until`` is the clock reading it was left at, just after the opening."""
    clock.set(RANKED_AT)
    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    category = ServiceCategory.objects.get(code="elderly_care")
    opened = open_tender(
        make_tender=partial(
            publish_tender, official=official, approver=approver, category=category
        ),
        clock=clock,
        official=official,
        second_official=persona("second_official", Role.OFFICIAL),
    )
    ranked = rank_with_services(opened, official)
    ranked.built_until = clock.current
    return ranked


def awarded_tender(clock: Clock) -> Ranked:
    """The ranked tender of ``ranked_tender`` awarded to position 1 on ``AWARD_DAY`` (as the
    ``awarded`` fixture does; the mails queued for after the commit are never sent)."""
    ranked = ranked_tender(clock)
    clock.set(AWARD_DAY)
    services.award_confirm(
        tender=ranked.tender, actor=persona("approver", Role.APPROVER), bid=ranked.bid_at(1)
    )
    ranked.refresh()
    ranked.built_until = clock.current
    return ranked


@pytest.fixture(scope="module")
def _ranked_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Ranked]:
    """The ranked tender of ``build_ranked``, built once for the module (tests roll back to
    it) and the clock reading it was left at."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        yield ranked_tender(clock)


@pytest.fixture
def ranked(_ranked_once, db, clock) -> Ranked:
    """The shared ranked tender, re-read for this test; the clock just after the opening."""
    clock.set(_ranked_once.built_until)
    return _ranked_once.copy()


@pytest.fixture
def awarded(ranked, approver, clock, django_capture_on_commit_callbacks) -> Ranked:
    """The ranked tender awarded to position 1 on 2026-09-30."""
    clock.set(AWARD_DAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    ranked.refresh()
    return ranked


# --- Confirming the award ---------------------------------------------------------------------


def test_the_approver_awards_the_first_ranked_bid(
    ranked, approver, clock, django_capture_on_commit_callbacks
):
    clock.set(AWARD_DAY)
    winner = ranked.bid_at(1)
    assert winner.price == Decimal("480000.00")  # the best total, not the lowest price
    with django_capture_on_commit_callbacks(execute=True):
        award = services.award_confirm(tender=ranked.tender, actor=approver, bid=winner)

    assert award.status == AwardStatus.ACTIVE
    assert award.bid_id == winner.pk
    assert award.position == 1
    assert award.reason == ""
    assert award.confirmed_by == approver
    assert award.confirmed_at == AWARD_DAY
    assert award.notice_published_at == AWARD_DAY
    ranked.refresh()
    assert ranked.tender.status == TenderStatus.AWARDED
    assert ranked.tender.awarded_at == AWARD_DAY
    statuses = {bid.pk: bid.status for bid in ranked.bids}
    assert statuses.pop(winner.pk) == BidStatus.WON
    assert set(statuses.values()) == {BidStatus.LOST}

    event = AuditEvent.objects.get(action=AuditAction.TENDER_AWARDED)
    assert event.object_id == str(ranked.tender.pk)
    assert event.actor == approver
    assert (event.state_before, event.state_after) == ("evaluating", "awarded")
    assert event.details["bid"] == str(winner.pk)
    assert event.details["winner"]["uscc"] == winner.organization.uscc
    assert event.details["position"] == 1
    assert event.details["reason"] == ""
    assert [row["total"] for row in event.details["ranking"]] == [
        str(t) for t in sorted(TOTALS, reverse=True)
    ]
    assert event.details["challenge_deadline"] == "2026-10-15"


def test_the_award_is_mailed_to_every_bidder_with_its_own_result(
    ranked, approver, clock, django_capture_on_commit_callbacks
):
    clock.set(AWARD_DAY)
    winner = ranked.bid_at(1)
    third = ranked.bid_at(3)
    # The mails are rendered in each recipient's language.
    users = [user.pk for bidder in ranked.bidders for user in (bidder.admin, bidder.member)]
    User.objects.filter(pk__in=users).update(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        services.award_confirm(tender=ranked.tender, actor=approver, bid=winner)

    # Each bidder's admin and member (the admin also follows the tender: one mail, not two).
    assert len(mail.outbox) == 8
    by_user = {message.to[0]: message for message in mail.outbox}
    winner_mail = by_user[ranked.bidder_of(winner).admin.email]
    assert "Your bid won" in winner_mail.subject
    assert "480000" in winner_mail.body
    third_mail = by_user[ranked.bidder_of(third).member.email]
    assert "84.00" in third_mail.body  # its own total
    assert "position 3 of 4" in third_mail.body
    assert "84.67" not in third_mail.body  # nobody else's score
    assert "2026-10-15" in third_mail.body  # the challenge deadline
    assert winner.organization.name in third_mail.body


def test_another_ranked_bid_needs_a_written_reason(ranked, approver, clock):
    clock.set(AWARD_DAY)
    second = ranked.bid_at(2)
    with pytest.raises(ValidationError) as refused:
        services.award_confirm(tender=ranked.tender, actor=approver, bid=second, reason="  ")
    assert "reason" in refused.value.message_dict
    assert not Award.objects.exists()
    assert Tender.objects.get(pk=ranked.tender.pk).status == TenderStatus.EVALUATING
    assert not AuditEvent.objects.filter(action=AuditAction.TENDER_AWARDED).exists()

    award = services.award_confirm(
        tender=ranked.tender,
        actor=approver,
        bid=second,
        reason="第一名的投标人在合同前放弃中标资格（书面声明附后）。",
    )
    assert award.position == 2
    assert award.reason.startswith("第一名")
    assert Bid.objects.get(pk=second.pk).status == BidStatus.WON
    assert Bid.objects.get(pk=ranked.bid_at(1).pk).status == BidStatus.LOST
    event = AuditEvent.objects.get(action=AuditAction.TENDER_AWARDED)
    assert event.details["position"] == 2
    assert event.details["reason"] == award.reason


def test_a_bid_outside_the_ranking_is_refused(ranked, approver, make_tender, official, clock):
    other = make_tender()
    from tests.tenders.conftest import make_bidder, submit_bid

    stranger, _receipt = submit_bid(other, make_bidder("别处的投标人"), "400000")
    clock.set(AWARD_DAY)
    with pytest.raises(ValidationError) as refused:
        services.award_confirm(tender=ranked.tender, actor=approver, bid=stranger)
    assert "bid" in refused.value.message_dict
    assert not Award.objects.exists()


@pytest.mark.parametrize(
    "persona", ["official", "org_admin", "assessor", "auditor", "registry_admin", "outsider"]
)
def test_only_an_approver_confirms_the_award(request, ranked, persona):
    with pytest.raises(PermissionDenied):
        services.award_confirm(
            tender=ranked.tender, actor=request.getfixturevalue(persona), bid=ranked.bid_at(1)
        )
    assert not Award.objects.exists()


def test_an_approver_who_drafted_the_tender_does_not_confirm_its_award(
    build_ranked, approver, category
):
    drafter = make_user("drafting_approver", Role.APPROVER)

    def drafted_by_approver(**overrides: Any) -> Tender:
        from tests.tenders.conftest import tender_data

        tender = services.tender_create(
            actor=drafter, **tender_data(category, timezone.now(), **overrides)
        )
        services.tender_publish(tender=tender, actor=drafter)
        services.tender_publish(tender=tender, actor=approver)
        return Tender.objects.get(pk=tender.pk)

    ranked = build_ranked(make=drafted_by_approver)
    with translation.override("en"), pytest.raises(ValidationError, match="different approver"):
        services.award_confirm(tender=ranked.tender, actor=drafter, bid=ranked.bid_at(1))
    award = services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    assert award.confirmed_by == approver


def test_no_award_before_the_ranking_is_frozen(
    make_tender, clock, official, second_official, approver
):
    clock.set(local(2026, 8, 20, 9, 0))
    opened = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    # Opened, not yet evaluating.
    with translation.override("en"), pytest.raises(ValidationError, match="under evaluation"):
        services.award_confirm(tender=opened.tender, actor=approver, bid=opened.bids[0])
    # Evaluating, the panel formed but not ranked.
    for i in range(7):
        make_assessor(f"early_{i}", agency=f"第{i}评估所")
    form_panel(opened.tender, official)
    tender = Tender.objects.get(pk=opened.tender.pk)
    assert tender.status == TenderStatus.EVALUATING
    with translation.override("en"), pytest.raises(ValidationError, match="no frozen ranking"):
        services.award_confirm(tender=tender, actor=approver, bid=opened.bids[0])
    assert not Award.objects.exists()


def test_no_award_while_a_ranking_correction_is_pending(ranked, approver, official):
    # The chair's reopening (scoresheet_reopen) also sends the panel back to scoring; a
    # correction row left pending on a ranked panel is the case this guard is for.
    RankingCorrection.objects.create(
        ranking=ranked.tender.ranking,
        reason="arithmetic_error",
        explanation="第3号评委的合计有误。",
        requested_by=official,
        requested_at=timezone.now(),
    )
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="correction of the ranking is pending"),
    ):
        services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    assert not Award.objects.exists()


def test_the_integrity_hook_blocks_the_award(ranked, approver, monkeypatch):
    assert services._award_blockers(ranked.tender) == []
    monkeypatch.setattr(
        services, "_award_blockers", lambda tender: ["A confirmed double-funding flag is open."]
    )
    with pytest.raises(ValidationError, match="double-funding"):
        services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    assert not Award.objects.exists()


def test_an_awarded_tender_is_not_awarded_twice(awarded, approver):
    with translation.override("en"), pytest.raises(ValidationError, match="under evaluation"):
        services.award_confirm(tender=awarded.tender, actor=approver, bid=awarded.bid_at(2))
    assert Award.objects.count() == 1


# --- Working-day windows ------------------------------------------------------------------------


def _working_days_after(day: date, count: int) -> date:
    """The expectation computed independently with the calendar package itself."""
    while count:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            count -= 1
    return day


def test_the_award_windows_count_working_days_across_national_day(awarded):
    award = Award.objects.get(tender=awarded.tender)
    # By hand from the State Council's 2026 notice: 10-01..10-07 off, Saturday 10-10 worked.
    # Notice: 1 working day after Wednesday 09-30 is Thursday 10-08.
    assert award.notice_until == date(2026, 10, 8)
    # Challenges: 10-08, 10-09, 10-10 (Sat), 10-12, 10-13, 10-14, 10-15.
    assert award.challenge_deadline == date(2026, 10, 15)
    assert award.notice_until == _working_days_after(
        date(2026, 9, 30), evaluation_rules.AWARD_NOTICE_WORKING_DAYS
    )
    assert award.challenge_deadline == _working_days_after(
        date(2026, 9, 30), evaluation_rules.CHALLENGE_WORKING_DAYS
    )


def test_an_award_on_a_friday_counts_from_the_next_working_day(ranked, approver, clock):
    clock.set(local(2026, 10, 16, 17, 0))  # a Friday
    award = services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    assert award.notice_until == date(2026, 10, 19)
    assert award.challenge_deadline == date(2026, 10, 27)
    assert award.challenge_deadline == _working_days_after(date(2026, 10, 16), 7)


def test_the_tender_is_ready_for_contract_only_after_the_challenge_window(awarded, clock):
    assert not services.tender_ready_for_contract(awarded.tender)
    clock.set(local(2026, 10, 15, 23, 59))
    assert not services.tender_ready_for_contract(awarded.tender)
    clock.set(local(2026, 10, 16, 0, 1))
    assert services.tender_ready_for_contract(awarded.tender)


# --- The public award notice and the bidders' results ---------------------------------------------


def test_the_award_notice_is_public_with_the_ranking_summary(ranked, approver, clock):
    assert selectors.award_notice(ranked.tender) is None
    clock.set(AWARD_DAY)
    winner = ranked.bid_at(1)
    services.award_confirm(tender=ranked.tender, actor=approver, bid=winner)
    tender = Tender.objects.get(pk=ranked.tender.pk)

    notice = selectors.award_notice(tender)
    assert notice is not None
    assert notice.winner_name == winner.organization.name
    assert notice.winner_uscc == winner.organization.uscc
    assert notice.price == Decimal("480000.00")
    assert notice.position == 1
    assert notice.published_at == AWARD_DAY
    assert notice.notice_until == date(2026, 10, 8)
    assert notice.challenge_deadline == date(2026, 10, 15)
    assert [row.position for row in notice.rows] == [1, 2, 3, 4]
    assert [row.total for row in notice.rows] == sorted(TOTALS, reverse=True)
    assert [row.price for row in notice.rows] == [
        Decimal("480000.00"),
        Decimal("450000.00"),
        Decimal("430000.00"),
        Decimal("470000.00"),
    ]
    assert [row.won for row in notice.rows] == [True, False, False, False]
    assert all(row.rank == row.position and not row.tied for row in notice.rows)
    # The summary says nothing about individual criteria or members.
    assert not hasattr(notice.rows[0], "criterion_scores")


def test_a_failed_or_cancelled_tender_has_no_award_notice(awarded, official):
    services.tender_cancel(tender=awarded.tender, actor=official, reason="预算被撤销。")
    assert selectors.award_notice(Tender.objects.get(pk=awarded.tender.pk)) is None


def test_a_bidder_sees_its_own_scores_and_rank_after_the_award(ranked, approver, clock):
    third = ranked.bid_at(3)
    bidder = ranked.bidder_of(third)
    assert selectors.bid_result_for_user(bidder.admin, ranked.tender) is None  # not yet
    clock.set(AWARD_DAY)
    services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))

    for user in (bidder.admin, bidder.member):
        result = selectors.bid_result_for_user(user, ranked.tender)
        assert result is not None
        assert result.bid.pk == third.pk
        assert not result.won
        assert (result.position, result.rank, result.ranked) == (3, 3, 4)
        assert result.total == Decimal("84.00")
        assert result.price_score == Decimal("30.00")
        assert {c.code: c.score for c in result.criteria} == {
            "price": Decimal("30.00"),
            "plan": Decimal("38"),
            "grade": Decimal("16"),
        }
    winner = selectors.bid_result_for_user(ranked.bidder_of(ranked.bid_at(1)).admin, ranked.tender)
    assert winner is not None
    assert winner.won
    assert winner.position == 1


@pytest.mark.parametrize(
    "persona", ["official", "approver", "auditor", "assessor", "outsider", "org_admin"]
)
def test_nobody_else_gets_a_bidders_result(request, awarded, persona):
    assert selectors.bid_result_for_user(request.getfixturevalue(persona), awarded.tender) is None


def test_a_bid_found_invalid_after_the_ranking_neither_wins_nor_loses(ranked, approver):
    invalid = ranked.bid_at(2)
    fire(invalid, "invalidate")  # as an upheld low-price rejection would
    invalid.save()
    with pytest.raises(ValidationError) as refused:
        services.award_confirm(
            tender=ranked.tender, actor=approver, bid=invalid, reason="第二名更合适。"
        )
    assert "bid" in refused.value.message_dict
    services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    assert Bid.objects.get(pk=invalid.pk).status == BidStatus.DISQUALIFIED
    event = AuditEvent.objects.get(action=AuditAction.TENDER_AWARDED)
    assert str(invalid.pk) not in [row["bid"] for row in event.details["bids"]]
