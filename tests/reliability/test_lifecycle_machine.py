"""The tender and bid lifecycle as a Hypothesis state machine over the real services.

Each rule acts as the role the step belongs to (or as someone it does not belong to) and
states whether the services must accept it. An accepted step must change what the model
predicts; a refused one must be refused with the domain's error (``ValidationError`` or
``PermissionDenied``, what the pages and the API turn into a message or a 4xx), never a
crash, and must leave the tender, its bids and the audit log as they were.

After every step the invariants hold: a sealed bid is unreadable to anyone but its
organization until the opening, a tender has at most one award in force, a bid has one
receipt per accepted submission or confirmation, no receipt is at or after the deadline,
the tender's state agrees with its bids, award and contract, and the audit chain verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from evaluation.models import Panel, PanelStatus, ScoreSheet
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.audit import audit_verify
from marketplace.models import AuditEvent, User
from tenders import selectors, services
from tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidReceipt,
    BidStatus,
    Challenge,
    ChallengeRemedy,
    ChallengeStatus,
    Contract,
    Question,
    QuestionStatus,
    Tender,
    TenderCriterion,
    TenderStatus,
)
from tenders.services import contracts as contract_services
from tests.conftest import Clock
from tests.evaluation.conftest import active_members, declare_all, form_panel
from tests.reliability.machine_support import Cast, build_cast
from tests.tenders.conftest import tender_data

#: What each bidder offers: within 80 % of the others' mean, so no price needs a written
#: justification (87号令 Art. 60) and the panel can rank at once.
PRICES = ["480000", "450000", "430000", "470000"]
#: The plan score (of 50) every member gives each bidder's bid: no deviation flag.
PLAN_SCORES = [Decimal("45"), Decimal("40"), Decimal("38"), Decimal("30")]
START = datetime(2026, 8, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BIDDERS = range(len(PRICES))
#: States in which a bid's content is still sealed.
SEALED_BIDS = {
    BidStatus.DRAFT,
    BidStatus.SUBMITTED,
    BidStatus.WITHDRAWN,
    BidStatus.NEEDS_CONFIRMATION,
}
REFUSALS = (ValidationError, PermissionDenied)

bidders = st.sampled_from(list(BIDDERS))
#: Everyone who is not the street office: none may take the office's steps.
intruders = st.sampled_from(["bidder", "assessor", "auditor", "registry_admin"])


class Refused(Exception):
    """The services refused a step the model expected them to accept."""


class LifecycleMachine(RuleBasedStateMachine):
    """One tender from its draft to its contract, with its bidders, panel and challenges."""

    cast: Cast
    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        # Each run of the machine is a savepoint of the test's transaction, rolled back in
        # ``teardown``: runs start from the same cast and leave nothing behind.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.clock.set(START)
        self.tender: Tender | None = None
        self.status: str | None = None
        self.receipts: dict[int, int] = dict.fromkeys(BIDDERS, 0)
        self.openers: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- Helpers ---------------------------------------------------------------------------

    def fresh(self) -> Tender:
        assert self.tender is not None
        self.tender = Tender.objects.get(pk=self.tender.pk)
        return self.tender

    def bid(self, bidder: int) -> Bid | None:
        if self.tender is None:
            return None
        organization = self.cast.bidders[bidder].organization
        return Bid.objects.filter(tender=self.tender, organization=organization).first()

    def bid_status(self, bidder: int) -> str | None:
        bid = self.bid(bidder)
        return bid.status if bid else None

    def snapshot(self) -> tuple[Any, ...]:
        tender = self.fresh() if self.tender else None
        return (
            tender.status if tender else None,
            tender.bid_deadline if tender else None,
            sorted(Bid.objects.filter(tender=tender).values_list("pk", "status") if tender else []),
            AuditEvent.objects.count(),
        )

    def attempt(self, expected: bool | None, action: Callable[[], Any]) -> Any:
        """Run ``action``; it must succeed when ``expected``, else be refused cleanly
        (``None``: either is right, the model does not predict it).

        Any other exception is a crash and fails the run; a refusal must change nothing.
        """
        before = self.snapshot()
        try:
            with transaction.atomic():
                result = action()
        except REFUSALS as exc:
            assert self.snapshot() == before, "a refused step changed the state"
            if expected:
                raise Refused(f"the services refused a legal step: {exc!r}") from exc
            return None
        assert expected is not False, "the services accepted a step they must refuse"
        return result

    def is_published_before_deadline(self) -> bool:
        tender = self.fresh() if self.tender else None
        return bool(
            tender
            and tender.status == TenderStatus.PUBLISHED
            and self.clock() < tender.bid_deadline
        )

    def after_opening(self) -> bool:
        return self.status in (
            TenderStatus.OPENED,
            TenderStatus.EVALUATING,
            TenderStatus.AWARDED,
            TenderStatus.CONTRACTED,
            TenderStatus.FAILED,
        )

    # --- The tender: draft, approval, publication, amendment, cancellation ---------------

    @initialize()
    def create_tender(self) -> None:
        tender = services.tender_create(
            actor=self.cast.official, **tender_data(self.cast.category, self.clock())
        )
        # The objective "grade" criterion gives organizations without a grade 80 %.
        TenderCriterion.objects.filter(tender=tender, code="grade").update(
            rule={"type": "grade", "none": "0.8"}
        )
        self.tender, self.status = tender, TenderStatus.DRAFT

    @precondition(lambda self: self.tender is not None)
    @rule(as_drafter=st.booleans())
    def submit_for_approval(self, as_drafter: bool) -> None:
        actor = self.cast.official if as_drafter else self.cast.second_official
        legal = as_drafter and self.status == TenderStatus.DRAFT
        if self.attempt(legal, lambda: services.tender_publish(tender=self.fresh(), actor=actor)):
            self.status = TenderStatus.PENDING_APPROVAL

    @precondition(lambda self: self.tender is not None)
    @rule(as_approver=st.booleans())
    def approve(self, as_approver: bool) -> None:
        # The same action: the drafter's sends a draft for approval but may not publish
        # what they drafted (four eyes); an approver publishes what waits for approval.
        actor = self.cast.approver if as_approver else self.cast.official
        if as_approver:
            legal, after = self.status == TenderStatus.PENDING_APPROVAL, TenderStatus.PUBLISHED
        else:
            legal, after = self.status == TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL
        if self.attempt(legal, lambda: services.tender_publish(tender=self.fresh(), actor=actor)):
            self.status = after

    @precondition(lambda self: self.tender is not None)
    @rule(with_note=st.booleans())
    def return_tender(self, with_note: bool) -> None:
        note = "请补充服务范围。" if with_note else ""
        legal = with_note and self.status == TenderStatus.PENDING_APPROVAL
        if self.attempt(
            legal,
            lambda: services.tender_return(
                tender=self.fresh(), actor=self.cast.approver, note=note
            ),
        ):
            self.status = TenderStatus.DRAFT

    @precondition(lambda self: self.tender is not None)
    @rule(affects_preparation=st.booleans())
    def amend(self, affects_preparation: bool) -> None:
        legal = self.is_published_before_deadline()
        if self.attempt(
            legal,
            lambda: services.tender_amend(
                tender=self.fresh(),
                actor=self.cast.official,
                summary="更正服务地点。",
                changes={"eligibility_notes": f"更正 {self.clock():%H%M%S}"},
                affects_preparation=affects_preparation,
            ),
        ):
            tender = self.fresh()
            if affects_preparation:
                # 87号令 Art. 27: at least 15 days remain after such an amendment.
                assert tender.bid_deadline >= self.clock() + timedelta(days=15)
                for bidder in BIDDERS:
                    assert self.bid_status(bidder) != BidStatus.SUBMITTED

    @precondition(lambda self: self.tender is not None)
    @rule(rarely=st.integers(min_value=0, max_value=5))
    def cancel(self, rarely: int) -> None:
        # Cancelling ends the run's interesting part; most draws (and the simplest, 0)
        # leave the tender alone.
        if rarely != 5:
            return
        legal = self.status in (
            TenderStatus.DRAFT,
            TenderStatus.PENDING_APPROVAL,
            TenderStatus.PUBLISHED,
            TenderStatus.CLOSED,
            TenderStatus.OPENED,
            TenderStatus.EVALUATING,
            TenderStatus.AWARDED,
        )
        if self.attempt(
            legal,
            lambda: services.tender_cancel(
                tender=self.fresh(), actor=self.cast.official, reason="预算调整。"
            ),
        ):
            self.status = TenderStatus.CANCELLED

    @precondition(lambda self: self.tender is not None)
    @rule(who=intruders, step=st.sampled_from(["publish", "cancel", "open", "award", "contract"]))
    def intruder_takes_an_office_step(self, who: str, step: str) -> None:
        actor = self.cast.intruder(who)
        tender = self.fresh()
        actions: dict[str, Callable[[], Any]] = {
            "publish": lambda: services.tender_publish(tender=tender, actor=actor),
            "cancel": lambda: services.tender_cancel(tender=tender, actor=actor, reason="无"),
            "open": lambda: services.tender_open(tender=tender, actor=actor),
            "award": lambda: self._award(actor),
            "contract": lambda: contract_services.contract_draft(tender=tender, actor=actor),
        }
        self.attempt(False, actions[step])

    # --- Questions ---------------------------------------------------------------------------

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders)
    def ask_question(self, bidder: int) -> None:
        tender = self.fresh()
        legal = tender.status == TenderStatus.PUBLISHED and self.clock() < tender.question_deadline
        self.attempt(
            legal,
            lambda: services.question_ask(
                tender=tender, actor=self.cast.bidders[bidder].member, text="服务对象有多少人？"
            ),
        )

    @precondition(lambda self: self.tender is not None)
    @rule()
    def answer_question(self) -> None:
        question = Question.objects.filter(tender=self.tender).order_by("status", "pk").first()
        if question is None:
            return
        legal = question.status == QuestionStatus.OPEN and self.status == TenderStatus.PUBLISHED
        self.attempt(
            legal,
            lambda: services.question_answer(
                question=question, actor=self.cast.official, answer="约三百人。"
            ),
        )

    # --- Bids -----------------------------------------------------------------------------

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders, over_budget=st.booleans())
    def edit_bid(self, bidder: int, over_budget: bool) -> None:
        """Create the bid, or change its draft: price and staffing plan."""
        party = self.cast.bidders[bidder]
        price = Decimal("600000") if over_budget else Decimal(PRICES[bidder])
        legal = (
            not over_budget
            and self.is_published_before_deadline()
            and self.bid_status(bidder) in (None, BidStatus.DRAFT)
        )
        self.attempt(
            legal,
            lambda: services.bid_prepare(
                tender=self.fresh(),
                actor=party.member,
                price=price,
                staff=[{"person": p, "role": "社工", "fte": "0.5"} for p in party.staff_ids],
                proposal="每周上门两次。",
            ),
        )

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders)
    def submit_bid(self, bidder: int) -> None:
        bid = self.bid(bidder)
        if bid is None:
            return
        status = bid.status
        # A second click on a submitted bid answers with the receipt it has, even after
        # the deadline: nothing new is received.
        legal = (status == BidStatus.DRAFT and self.is_published_before_deadline()) or (
            status == BidStatus.SUBMITTED and self.fresh().status == TenderStatus.PUBLISHED
        )
        receipt = self.attempt(
            legal,
            lambda: services.bid_submit(bid=bid, actor=self.cast.bidders[bidder].admin),
        )
        if receipt is not None and status == BidStatus.DRAFT:
            self.receipts[bidder] += 1

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders, as_other=st.booleans())
    def withdraw_bid(self, bidder: int, as_other: bool) -> None:
        bid = self.bid(bidder)
        if bid is None:
            return
        # Another organization's administrator never withdraws it.
        actor = self.cast.bidders[(bidder + 1) % len(PRICES) if as_other else bidder].admin
        legal = (
            not as_other
            and self.is_published_before_deadline()
            and bid.status == BidStatus.SUBMITTED
        )
        self.attempt(legal, lambda: services.bid_withdraw(bid=bid, actor=actor))

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders)
    def reopen_bid(self, bidder: int) -> None:
        bid = self.bid(bidder)
        if bid is None:
            return
        legal = self.is_published_before_deadline() and bid.status in (
            BidStatus.WITHDRAWN,
            BidStatus.NEEDS_CONFIRMATION,
        )
        self.attempt(
            legal, lambda: services.bid_reopen(bid=bid, actor=self.cast.bidders[bidder].admin)
        )

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders)
    def confirm_bid(self, bidder: int) -> None:
        bid = self.bid(bidder)
        if bid is None:
            return
        legal = self.is_published_before_deadline() and bid.status == BidStatus.NEEDS_CONFIRMATION
        if self.attempt(
            legal, lambda: services.bid_confirm(bid=bid, actor=self.cast.bidders[bidder].admin)
        ):
            self.receipts[bidder] += 1

    # --- Time ------------------------------------------------------------------------------

    @precondition(lambda self: self.status == TenderStatus.PUBLISHED)
    @rule(days=st.integers(min_value=1, max_value=12))
    def days_pass(self, days: int) -> None:
        self.clock.advance(days=days)

    @precondition(lambda self: self.status == TenderStatus.PUBLISHED)
    @rule()
    def deadline_passes(self) -> None:
        self.clock.set(self.fresh().bid_deadline + timedelta(minutes=1))

    # --- Opening, review, panel, award -----------------------------------------------------

    @precondition(lambda self: self.tender is not None)
    @rule(second=st.booleans())
    def open_bids(self, second: bool) -> None:
        actor = self.cast.second_official if second else self.cast.official
        tender = self.fresh()
        legal = (
            tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED)
            and self.clock() >= tender.bid_deadline
            and actor.pk not in self.openers
        )
        submitted = Bid.objects.filter(tender=tender, status=BidStatus.SUBMITTED).count()
        result = self.attempt(legal, lambda: services.tender_open(tender=tender, actor=actor))
        if result is None:
            return
        self.openers.add(actor.pk)
        self.status = TenderStatus.CLOSED
        if result.opened:
            enough = submitted >= tender.minimum_bids
            self.status = TenderStatus.OPENED if enough else TenderStatus.FAILED
        assert result.opened == (len(self.openers) == 2)

    @precondition(lambda self: self.tender is not None)
    @rule(bidder=bidders, qualified=st.integers(min_value=0, max_value=4))
    def review_bid(self, bidder: int, qualified: int) -> None:
        bid = self.bid(bidder)
        if bid is None:
            return
        passes = qualified > 0  # mostly qualified, so that panels get formed
        legal = self.status == TenderStatus.OPENED and bid.status == BidStatus.OPENED
        if not self.attempt(
            legal,
            lambda: services.bid_review(
                bid=bid, actor=self.cast.official, qualified=passes, reason="资质证明缺失。"
            ),
        ):
            return
        tender = self.fresh()
        reviewed = not Bid.objects.filter(tender=tender, status=BidStatus.OPENED).exists()
        qualified_count = Bid.objects.filter(tender=tender, status=BidStatus.QUALIFIED).count()
        if reviewed and qualified_count < tender.minimum_bids:
            self.status = TenderStatus.FAILED

    @precondition(lambda self: self.tender is not None)
    @rule()
    def panel_scores(self) -> None:
        """Form the panel, every member declares and scores every bid: the ranking."""
        tender = self.fresh()
        legal = (
            tender.status == TenderStatus.OPENED
            and not Bid.objects.filter(tender=tender, status=BidStatus.OPENED).exists()
            and not Panel.objects.filter(tender=tender).exists()
        )
        if not self.attempt(legal, lambda: form_panel(tender, self.cast.official)):
            return
        panel = declare_all(Panel.objects.get(tender=tender))
        plan = {self.bid(b).pk: PLAN_SCORES[b] for b in BIDDERS if self.bid(b)}
        for member in active_members(panel):
            for sheet in ScoreSheet.objects.filter(member=member).order_by("pk"):
                scoresheet_save(
                    sheet=sheet,
                    actor=member.user,
                    scores=[{"criterion": "plan", "score": plan[sheet.bid_id], "reason": "完整"}],
                )
                scoresheet_submit(sheet=sheet, actor=member.user)
        assert Panel.objects.get(pk=panel.pk).status == PanelStatus.RANKED
        self.status = TenderStatus.EVALUATING

    def _award(self, actor: User) -> Award:
        tender = self.fresh()
        first = (
            Bid.objects.filter(tender=tender, ranking_row__position=1).first()
            if Panel.objects.filter(tender=tender, status=PanelStatus.RANKED).exists()
            else None
        )
        if first is None:
            raise ValidationError("nothing ranked", code="not_ranked")
        return services.award_confirm(tender=tender, actor=actor, bid=first)

    @precondition(lambda self: self.tender is not None)
    @rule()
    def award(self) -> None:
        pending = Challenge.objects.filter(
            tender=self.tender, status__in=[ChallengeStatus.FILED, ChallengeStatus.ANSWERED]
        ).exists()
        legal = self.status == TenderStatus.EVALUATING and not pending
        if self.attempt(legal, lambda: self._award(self.cast.approver)):
            self.status = TenderStatus.AWARDED

    # --- Challenges and the contract ---------------------------------------------------------

    @precondition(lambda self: self.status == TenderStatus.AWARDED)
    @rule(bidder=bidders)
    def challenge(self, bidder: int) -> None:
        bid = self.bid(bidder)
        award = Award.objects.filter(tender=self.tender, status=AwardStatus.ACTIVE).first()
        assert award is not None
        legal = bool(
            bid
            and bid.opened_at is not None
            and self.clock().astimezone().date() <= award.challenge_deadline
        )
        self.attempt(
            legal,
            lambda: services.challenge_file(
                tender=self.fresh(),
                actor=self.cast.bidders[bidder].admin,
                subject="评分异议",
                text="服务方案评分偏低。",
            ),
        )

    @precondition(lambda self: self.tender is not None)
    @rule(upheld=st.booleans())
    def answer_and_decide_challenge(self, upheld: bool) -> None:
        challenge = Challenge.objects.filter(
            tender=self.tender, status=ChallengeStatus.FILED
        ).first()
        if challenge is None:
            return
        answerable = self.status in (TenderStatus.AWARDED, TenderStatus.EVALUATING)
        self.attempt(
            True if answerable else None,
            lambda: services.challenge_answer(
                challenge=challenge,
                actor=self.cast.official,
                answer="已复核。",
                upheld=upheld,
                remedy=ChallengeRemedy.REOPEN_AWARD if upheld else "",
            ),
        )
        challenge.refresh_from_db()
        if challenge.status != ChallengeStatus.ANSWERED:
            return
        legal = not upheld or answerable
        if (
            self.attempt(
                legal,
                lambda: services.challenge_decide(
                    challenge=challenge, actor=self.cast.approver, note="决定。"
                ),
            )
            and upheld
        ):
            # The award is withdrawn and decided again from the same ranking.
            self.status = TenderStatus.EVALUATING

    @precondition(lambda self: self.status == TenderStatus.AWARDED)
    @rule()
    def contract(self) -> None:
        award = Award.objects.get(tender=self.tender, status=AwardStatus.ACTIVE)
        # The challenge window is over (the contract waits for it, 质疑 within 7 working days).
        self.clock.set(
            datetime.combine(award.challenge_deadline + timedelta(days=1), START.timetz())
        )
        pending = Challenge.objects.filter(
            tender=self.tender, status__in=[ChallengeStatus.FILED, ChallengeStatus.ANSWERED]
        ).exists()
        contract = self.attempt(
            not pending,
            lambda: contract_services.contract_draft(tender=self.fresh(), actor=self.cast.official),
        )
        if contract is None:
            return
        winner = self.cast.bidder_of(award.bid.organization_id)
        contract_services.contract_sign(contract=contract, actor=self.cast.official)
        contract_services.contract_sign(contract=contract, actor=winner.admin)
        self.status = TenderStatus.CONTRACTED

    # --- The next step of the usual path -----------------------------------------------------

    def next_step(self) -> None:
        """Take the lifecycle's next usual step, so that runs reach the late states between
        the other rules' detours (each rule is drawn as often as any other)."""
        tender = self.fresh()
        now = self.clock()
        if self.status == TenderStatus.DRAFT:
            self.submit_for_approval(as_drafter=True)
        elif self.status == TenderStatus.PENDING_APPROVAL:
            self.approve(as_approver=True)
        elif self.status == TenderStatus.PUBLISHED and now < tender.bid_deadline:
            self._bid_once_more()
        elif self.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED):
            self.open_bids(second=self.cast.official.pk in self.openers)
        elif self.status == TenderStatus.OPENED:
            waiting = [b for b in BIDDERS if self.bid_status(b) == BidStatus.OPENED]
            if waiting:
                self.review_bid(bidder=waiting[0], qualified=1)
            else:
                self.panel_scores()
        elif self.status == TenderStatus.EVALUATING:
            self.award()
        elif self.status == TenderStatus.AWARDED:
            self.contract()

    def _bid_once_more(self) -> None:
        """One more bidder's bid submitted (or confirmed); with three in, the deadline."""
        for bidder in BIDDERS[:3]:
            status = self.bid_status(bidder)
            if status in (None, BidStatus.DRAFT):
                self.edit_bid(bidder=bidder, over_budget=False)
                self.submit_bid(bidder=bidder)
                return
            if status == BidStatus.WITHDRAWN:
                self.reopen_bid(bidder=bidder)
                return
            if status == BidStatus.NEEDS_CONFIRMATION:
                self.confirm_bid(bidder=bidder)
                return
        self.deadline_passes()

    @rule()
    def usual_step(self) -> None:
        self.next_step()

    @rule()
    def another_usual_step(self) -> None:
        self.next_step()

    @rule()
    def a_third_usual_step(self) -> None:
        self.next_step()

    # --- Invariants ----------------------------------------------------------------------

    def check_all(self) -> None:
        """Every invariant, for runs that call the rules directly."""
        self.the_tender_is_in_the_predicted_state()
        self.sealed_bids_are_unreadable_before_the_opening()
        self.at_most_one_award_is_in_force()
        self.one_receipt_per_submission_and_none_late()
        self.the_tender_agrees_with_its_bids_and_contract()
        self.the_audit_chain_verifies()

    @invariant()
    def the_tender_is_in_the_predicted_state(self) -> None:
        if self.tender is not None:
            assert self.fresh().status == self.status

    @invariant()
    def sealed_bids_are_unreadable_before_the_opening(self) -> None:
        if self.tender is None:
            return
        tender = self.fresh()
        for bidder in BIDDERS:
            bid = self.bid(bidder)
            if bid is None or bid.opened_at is not None:
                continue
            assert bid.status in SEALED_BIDS
            assert bid.price is None, "a sealed bid's price is in a plain column"
            for reader in self.cast.readers_other_than(bidder):
                with pytest.raises(Http404):
                    selectors.bid_get_for_user(reader, bid.pk)
                try:
                    visible = set(selectors.bid_list_for_user(reader, tender))
                except PermissionDenied:
                    visible = set()
                assert bid not in visible

    @invariant()
    def at_most_one_award_is_in_force(self) -> None:
        if self.tender is None:
            return
        active = Award.objects.filter(tender=self.tender, status=AwardStatus.ACTIVE)
        won = Bid.objects.filter(tender=self.tender, status=BidStatus.WON)
        assert active.count() <= 1
        assert won.count() == active.count()
        if active.exists():
            assert active.get().bid_id == won.get().pk

    @invariant()
    def one_receipt_per_submission_and_none_late(self) -> None:
        if self.tender is None:
            return
        tender = self.fresh()
        for bidder in BIDDERS:
            bid = self.bid(bidder)
            receipts = BidReceipt.objects.filter(bid=bid) if bid else BidReceipt.objects.none()
            assert receipts.count() == self.receipts[bidder]
            for receipt in receipts:
                assert receipt.received_at < tender.bid_deadline
            if bid is not None and bid.status == BidStatus.SUBMITTED:
                assert bid.submitted_at is not None
                assert bid.submitted_at < tender.bid_deadline

    @invariant()
    def the_tender_agrees_with_its_bids_and_contract(self) -> None:
        if self.tender is None:
            return
        tender = self.fresh()
        statuses = set(Bid.objects.filter(tender=tender).values_list("status", flat=True))
        opened = Bid.objects.filter(tender=tender, opened_at__isnull=False).exists()
        contract = Contract.objects.filter(tender=tender).first()
        if tender.status in (TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL):
            assert not statuses
        if tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED):
            assert statuses <= SEALED_BIDS
            assert not opened
        if self.after_opening():
            assert BidStatus.SUBMITTED not in statuses, "a submitted bid missed the opening"
        if tender.status == TenderStatus.EVALUATING:
            assert BidStatus.OPENED not in statuses
        if tender.status in (TenderStatus.AWARDED, TenderStatus.CONTRACTED):
            assert BidStatus.WON in statuses
        elif tender.status != TenderStatus.CANCELLED:
            assert BidStatus.WON not in statuses
        if tender.status == TenderStatus.CONTRACTED:
            assert contract is not None
            assert contract.status in ("signed", "active")
        else:
            assert contract is None

    @invariant()
    def the_audit_chain_verifies(self) -> None:
        verification = audit_verify()
        assert verification.ok, verification.problem


@pytest.fixture
def cast(db, clock) -> Cast:
    return build_cast()


def _run(cast: Cast, clock: Clock, **machine_settings: Any) -> None:
    LifecycleMachine.cast = cast
    LifecycleMachine.clock = clock
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            # The failing run is reported as found: shrinking these runs takes minutes.
            phases=[Phase.generate],
            **machine_settings,
        ),
    )


def test_the_lifecycle_keeps_its_invariants_whatever_the_order_of_steps(cast, clock):
    _run(cast, clock, max_examples=8, stateful_step_count=30)


def test_a_full_lifecycle_through_the_rules_reaches_the_contract(cast, clock):
    """The rules in a legal order, so that the late states are always reached and checked."""
    LifecycleMachine.cast = cast
    LifecycleMachine.clock = clock
    machine = LifecycleMachine()
    try:
        steps: list[Callable[[], None]] = [
            machine.create_tender,
            lambda: machine.submit_for_approval(as_drafter=True),
            lambda: machine.return_tender(with_note=True),
            lambda: machine.submit_for_approval(as_drafter=True),
            lambda: machine.approve(as_approver=True),
            lambda: machine.ask_question(bidder=0),
            machine.answer_question,
            *[lambda b=b: machine.edit_bid(bidder=b, over_budget=False) for b in BIDDERS],
            *[lambda b=b: machine.submit_bid(bidder=b) for b in BIDDERS],
            lambda: machine.submit_bid(bidder=0),
            lambda: machine.amend(affects_preparation=True),
            *[lambda b=b: machine.confirm_bid(bidder=b) for b in BIDDERS],
            lambda: machine.withdraw_bid(bidder=3, as_other=False),
            lambda: machine.reopen_bid(bidder=3),
            lambda: machine.submit_bid(bidder=3),
            machine.deadline_passes,
            lambda: machine.submit_bid(bidder=2),
            lambda: machine.open_bids(second=False),
            lambda: machine.open_bids(second=False),
            lambda: machine.open_bids(second=True),
            *[lambda b=b: machine.review_bid(bidder=b, qualified=1) for b in BIDDERS],
            machine.panel_scores,
            machine.award,
            machine.award,
            lambda: machine.challenge(bidder=1),
            lambda: machine.answer_and_decide_challenge(upheld=True),
            machine.award,
            lambda: machine.challenge(bidder=2),
            lambda: machine.answer_and_decide_challenge(upheld=False),
            machine.contract,
            lambda: machine.intruder_takes_an_office_step(who="bidder", step="cancel"),
            lambda: machine.cancel(rarely=5),
        ]
        for step in steps:
            step()
            machine.check_all()
        assert machine.status == TenderStatus.CONTRACTED
    finally:
        machine.teardown()
