"""Contracts: drawing up from the award, the term rules, the milestone split, signing,
starting, settling milestones, recording payments and termination (DESIGN 3, 4.3, 4.5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketplace.models import AuditAction, AuditEvent, Role
from tenders import contracting
from tenders.models import (
    Contract,
    ContractStatus,
    ContractTeamMember,
    Milestone,
    MilestoneStatus,
    Tender,
    TenderStatus,
)
from tenders.services import contracts as services
from tests import contract_support
from tests.conftest import Clock, building, module_database, persona
from tests.contract_support import ACTIVE_DAY, DRAFT_DAY, supplier_admin, supplier_member
from tests.tenders.test_award import AWARD_DAY, local


@pytest.fixture(scope="module")
def _ready_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:
    """An awarded tender past its challenge window, built once for the module."""
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        yield contract_support.awarded_ready_tender(clock).pk


@pytest.fixture
def tender(_ready_once, db, clock: Clock) -> Tender:
    clock.set(DRAFT_DAY)
    return Tender.objects.get(pk=_ready_once)


def draft(tender: Tender, **overrides) -> Contract:
    return services.contract_draft(tender=tender, actor=contract_support.official(), **overrides)


def sign_both(contract: Contract) -> Contract:
    services.contract_sign(contract=contract, actor=contract_support.official())
    services.contract_sign(contract=contract, actor=supplier_admin(contract))
    return Contract.objects.get(pk=contract.pk)


def active(tender: Tender, clock: Clock) -> Contract:
    contract = sign_both(draft(tender))
    clock.set(ACTIVE_DAY)
    assert services.contracts_start_due() == 1
    return Contract.objects.get(pk=contract.pk)


# --- Drawing up -----------------------------------------------------------------------------


def test_the_draft_takes_parties_price_team_and_milestones_from_the_award(tender):
    contract = draft(tender)

    award = tender.awards.get()
    assert contract.status == ContractStatus.DRAFT
    assert contract.reference == f"{tender.reference}-HT"
    assert contract.organization_id == award.bid.organization_id
    assert contract.price == Decimal("480000.00")
    assert (contract.service_start, contract.service_end) == (date(2027, 1, 1), date(2027, 12, 31))
    assert contract.deliverables == tender.description
    assert contract.pass_grade == "fair"
    assert contract.sign_due == date(2026, 10, 30)  # 30 days after the award notice
    team = list(ContractTeamMember.objects.filter(contract=contract))
    assert len(team) == 2
    assert all(m.from_bid and m.joined_on == date(2027, 1, 1) for m in team)
    milestones = list(contract.milestones.order_by("sequence"))
    assert [m.amount for m in milestones] == [
        Decimal("144000.00"),
        Decimal("192000.00"),
        Decimal("144000.00"),
    ]
    assert [m.kind for m in milestones] == ["report", "evaluation", "evaluation"]
    assert [m.evaluation_kind for m in milestones] == ["", "mid_term", "final"]
    assert [m.due_date for m in milestones] == [
        date(2027, 1, 31),
        date(2027, 7, 2),
        date(2027, 12, 31),
    ]
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_DRAFTED)
    assert event.object_id == str(contract.pk)
    assert event.details["price"] == "480000.00"
    assert len(event.details["milestones"]) == 3


def test_one_contract_per_tender(tender):
    draft(tender)
    with pytest.raises(ValidationError) as refused:
        draft(tender)
    assert refused.value.code == "contract_exists"


def test_no_contract_during_the_challenge_window(tender, clock):
    clock.set(local(2026, 10, 15, 16, 0))  # the last day of the window
    with pytest.raises(ValidationError) as refused:
        draft(tender)
    assert refused.value.code == "not_ready"
    assert not Contract.objects.exists()


@pytest.mark.parametrize("role", [Role.ORG_ADMIN, Role.ASSESSOR, Role.AUDITOR, Role.REGISTRY_ADMIN])
def test_only_an_official_draws_up_the_contract(tender, role, organization):
    user = persona(f"x_{role}", role, organization if role == Role.ORG_ADMIN else None)
    with pytest.raises(PermissionDenied):
        services.contract_draft(tender=tender, actor=user)
    assert not Contract.objects.exists()


def test_a_term_over_one_year_needs_the_reason(tender):
    with pytest.raises(ValidationError) as refused:
        draft(tender, service_start=date(2027, 1, 1), service_end=date(2028, 6, 30))
    assert "long_term_reason" in refused.value.message_dict
    contract = draft(
        tender,
        service_start=date(2027, 1, 1),
        service_end=date(2028, 6, 30),
        long_term_reason="居家养老服务长期稳定、常态化开展。",
    )
    assert contract.term_days == 547


def test_a_term_of_three_years_or_more_is_refused_even_with_a_reason(tender):
    with pytest.raises(ValidationError) as refused:
        draft(
            tender,
            service_start=date(2027, 1, 1),
            service_end=date(2030, 1, 1),
            long_term_reason="长期服务",
        )
    assert "service_end" in refused.value.message_dict
    assert not Contract.objects.exists()


def test_exactly_one_year_needs_no_reason(tender):
    contract = draft(tender, service_start=date(2027, 3, 1), service_end=date(2028, 2, 29))
    assert contract.long_term_reason == ""


def test_an_end_before_the_start_is_refused_on_the_end_field(tender):
    with pytest.raises(ValidationError) as refused:
        draft(tender, service_start=date(2027, 3, 1), service_end=date(2027, 2, 1))
    assert "service_end" in refused.value.message_dict


@pytest.mark.parametrize("price", ["100000.01", "480000.00", "0.05", "333333.33", "999999999.99"])
def test_the_default_split_adds_up_to_the_price_exactly(price):
    price = Decimal(price)
    planned = contracting.plan_milestones(
        price=price,
        start=date(2027, 1, 1),
        end=date(2027, 12, 31),
        plan=contracting.DEFAULT_PAYMENT_PLAN,
    )
    assert sum(m.amount for m in planned) == price
    assert all(m.amount == m.amount.quantize(Decimal("0.01")) for m in planned)
    assert contracting.amounts_problem(price, [m.amount for m in planned]) is None


# --- Editing the draft -----------------------------------------------------------------------


def test_the_official_edits_the_milestone_amounts_of_the_draft(tender):
    contract = draft(tender)
    services.contract_update(
        contract=contract,
        actor=contract_support.official(),
        deliverables="每月上门服务不少于800人次。",
        milestones=[
            {"sequence": 1, "amount": "100000.00", "due_date": "2027-02-15"},
            {"sequence": 2, "amount": "236000.00"},
        ],
    )
    rows = list(Milestone.objects.filter(contract=contract).order_by("sequence"))
    assert [m.amount for m in rows] == [
        Decimal("100000.00"),
        Decimal("236000.00"),
        Decimal("144000.00"),
    ]
    assert rows[0].due_date == date(2027, 2, 15)
    assert Contract.objects.get(pk=contract.pk).deliverables.startswith("每月")
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_UPDATED)
    assert [m["sequence"] for m in event.details["changed"]["milestones"]] == [1, 2]


def test_amounts_that_miss_the_price_are_refused_naming_the_milestones(tender):
    contract = draft(tender)
    with pytest.raises(ValidationError) as refused:
        services.contract_update(
            contract=contract,
            actor=contract_support.official(),
            milestones=[{"sequence": 1, "amount": "100000.00"}],
        )
    assert "milestones" in refused.value.message_dict
    assert "436000.00" in refused.value.message_dict["milestones"][0]
    with pytest.raises(ValidationError) as refused:
        services.contract_update(
            contract=contract,
            actor=contract_support.official(),
            milestones=[{"sequence": 2, "amount": "-1"}, {"sequence": 3, "due_date": "2029-01-01"}],
        )
    messages = refused.value.message_dict["milestones"]
    assert any("Milestone 2" in m or "2" in m for m in messages)
    assert len(messages) == 2
    assert [m.amount for m in Milestone.objects.filter(contract=contract).order_by("sequence")] == [
        Decimal("144000.00"),
        Decimal("192000.00"),
        Decimal("144000.00"),
    ]
    assert not AuditEvent.objects.filter(action=AuditAction.CONTRACT_UPDATED).exists()


def test_the_draft_is_fixed_once_one_side_signed(tender):
    contract = draft(tender)
    services.contract_sign(contract=contract, actor=contract_support.official())
    with pytest.raises(PermissionDenied):
        services.contract_update(
            contract=contract, actor=contract_support.official(), deliverables="改"
        )


# --- Signing and starting ----------------------------------------------------------------------


def test_both_sides_sign_then_the_contract_is_published(tender):
    contract = draft(tender)
    official = contract_support.official()
    contract = services.contract_sign(contract=contract, actor=official)
    assert contract.status == ContractStatus.DRAFT
    assert contract.purchaser_signed_by == official
    assert contract.published_at is None
    first = AuditEvent.objects.get(action=AuditAction.CONTRACT_SIGNATURE)
    assert first.details["side"] == "purchaser"
    assert first.details["late"] is False

    admin = supplier_admin(contract)
    contract = services.contract_sign(contract=contract, actor=admin)
    assert contract.status == ContractStatus.SIGNED
    assert contract.supplier_signed_by == admin
    assert contract.published_at == DRAFT_DAY
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.CONTRACTED
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_SIGNED)
    assert (event.state_before, event.state_after) == ("draft", "signed")
    assert not AuditEvent.objects.filter(action=AuditAction.CONTRACT_STARTED).exists()


def test_each_side_signs_once(tender):
    contract = draft(tender)
    services.contract_sign(contract=contract, actor=contract_support.official())
    with pytest.raises(ValidationError) as refused:
        services.contract_sign(contract=contract, actor=persona("approver", Role.APPROVER))
    assert refused.value.code == "signed_already"


def test_a_member_or_another_organization_cannot_sign_for_the_supplier(tender, other_org_admin):
    contract = draft(tender)
    for user in (supplier_member(contract), other_org_admin):
        with pytest.raises(PermissionDenied):
            services.contract_sign(contract=contract, actor=user)
    assert Contract.objects.get(pk=contract.pk).supplier_signed_at is None


def test_a_late_signature_is_accepted_and_recorded_as_late(tender, clock):
    contract = draft(tender)
    clock.set(local(2026, 11, 2, 9, 0))  # after the due day 2026-10-30
    services.contract_sign(contract=contract, actor=supplier_admin(contract))
    services.contract_sign(contract=contract, actor=contract_support.official())
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_SIGNED)
    assert event.details["late"] is True
    assert event.details["side"] == "purchaser"


def test_a_contract_signed_after_its_start_day_starts_at_once(tender, clock):
    contract = draft(tender, service_start=date(2026, 10, 20), service_end=date(2027, 10, 19))
    clock.set(local(2026, 10, 21, 9, 0))
    contract = sign_both(contract)
    assert contract.status == ContractStatus.ACTIVE
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.IN_DELIVERY
    assert AuditEvent.objects.filter(action=AuditAction.CONTRACT_STARTED).count() == 1


def test_the_scheduler_starts_signed_contracts_on_their_first_day(tender, clock):
    contract = sign_both(draft(tender))
    clock.set(local(2026, 12, 31, 23, 0))
    assert services.contracts_start_due() == 0
    clock.set(local(2027, 1, 1, 0, 30))
    assert services.contracts_start_due() == 1
    assert services.contracts_start_due() == 0
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert contract.started_at == local(2027, 1, 1, 0, 30)
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.IN_DELIVERY
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_STARTED)
    assert event.actor is None


# --- Milestones: reported, settled, paid ---------------------------------------------------------


def milestone(contract: Contract, sequence: int) -> Milestone:
    return Milestone.objects.get(contract=contract, sequence=sequence)


def test_a_report_moves_the_milestone_to_reported_and_back(tender, clock):
    contract = active(tender, clock)
    first = milestone(contract, 1)
    first = services.milestone_mark_reported(milestone=first, actor=supplier_member(contract))
    assert first.status == MilestoneStatus.REPORTED
    first = services.milestone_return_report(milestone=first, actor=contract_support.official())
    assert first.status == MilestoneStatus.PLANNED
    # The callers' events record these changes.
    assert not AuditEvent.objects.filter(object_type="tenders.milestone").exists()


def test_milestones_of_a_contract_not_in_delivery_cannot_be_reported(tender):
    contract = sign_both(draft(tender))
    with pytest.raises(ValidationError):
        services.milestone_mark_reported(
            milestone=milestone(contract, 1), actor=supplier_member(contract)
        )


def test_another_organization_cannot_report_a_milestone(tender, clock, other_org_admin):
    contract = active(tender, clock)
    with pytest.raises(PermissionDenied):
        services.milestone_mark_reported(milestone=milestone(contract, 1), actor=other_org_admin)


def test_a_released_milestone_records_the_released_amount(
    tender, clock, django_capture_on_commit_callbacks, mailoutbox
):
    contract = active(tender, clock)
    first = services.milestone_mark_reported(
        milestone=milestone(contract, 1), actor=supplier_member(contract)
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = services.milestone_settle(
            milestone=first, release=True, reason="", actor=contract_support.official()
        )
    assert first.status == MilestoneStatus.PAID
    assert (first.released_amount, first.withheld_amount) == (Decimal("144000.00"), Decimal(0))
    assert first.settled_at == ACTIVE_DAY
    assert first.checked_at == ACTIVE_DAY
    event = AuditEvent.objects.get(action=AuditAction.MILESTONE_RELEASED)
    assert (event.state_before, event.state_after) == ("reported", "paid")
    assert event.details["released"] == "144000.00"
    assert [m.to for m in mailoutbox] == [[supplier_admin(contract).email]]
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.ACTIVE


def test_withholding_needs_the_reason_and_records_the_withheld_amount(tender, clock):
    contract = active(tender, clock)
    second = milestone(contract, 2)
    with pytest.raises(ValidationError) as refused:
        services.milestone_settle(
            milestone=second, release=False, reason=" ", actor=contract_support.official()
        )
    assert "reason" in refused.value.message_dict
    second = services.milestone_settle(
        milestone=second,
        release=False,
        reason="中期评价等级为差，低于合同约定的中。",
        actor=persona("assessor", Role.ASSESSOR),
    )
    assert second.status == MilestoneStatus.WITHHELD
    assert (second.released_amount, second.withheld_amount) == (Decimal(0), Decimal("192000.00"))
    assert second.decision_reason.startswith("中期")
    event = AuditEvent.objects.get(action=AuditAction.MILESTONE_WITHHELD)
    assert (event.state_before, event.state_after) == ("planned", "withheld")
    assert event.details["withheld"] == "192000.00"


def test_a_milestone_is_settled_once(tender, clock):
    contract = active(tender, clock)
    services.milestone_settle(
        milestone=milestone(contract, 2),
        release=True,
        reason="良",
        actor=contract_support.official(),
    )
    with pytest.raises(ValidationError):
        services.milestone_settle(
            milestone=milestone(contract, 2),
            release=False,
            reason="再来",
            actor=contract_support.official(),
        )


def test_an_organization_user_cannot_settle_a_milestone(tender, clock):
    contract = active(tender, clock)
    with pytest.raises(PermissionDenied):
        services.milestone_settle(
            milestone=milestone(contract, 1),
            release=True,
            reason="",
            actor=supplier_admin(contract),
        )


def test_the_last_settled_milestone_completes_the_contract_and_the_tender(tender, clock):
    contract = active(tender, clock)
    official = contract_support.official()
    services.milestone_settle(
        milestone=milestone(contract, 1), release=True, reason="", actor=official
    )
    services.milestone_settle(
        milestone=milestone(contract, 2), release=False, reason="差", actor=official
    )
    clock.set(local(2028, 1, 10, 9, 0))
    services.milestone_settle(
        milestone=milestone(contract, 3), release=True, reason="良", actor=official
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.COMPLETED
    assert contract.completed_at == local(2028, 1, 10, 9, 0)
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.COMPLETED
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_COMPLETED)
    assert event.details["released"] == "288000.00"
    assert event.details["withheld"] == "192000.00"


def test_a_released_payment_is_recorded_once(tender, clock):
    contract = active(tender, clock)
    official = contract_support.official()
    first = services.milestone_settle(
        milestone=milestone(contract, 1), release=True, reason="", actor=official
    )
    with pytest.raises(ValidationError) as refused:
        services.milestone_payment_record(
            milestone=first, actor=official, paid_on=date(2027, 1, 3), reference=""
        )
    assert set(refused.value.message_dict) == {"paid_on", "reference"}
    clock.set(local(2027, 1, 8, 9, 0))
    first = services.milestone_payment_record(
        milestone=first, actor=official, paid_on=date(2027, 1, 7), reference="GK2027-0107-001"
    )
    assert first.paid_on == date(2027, 1, 7)
    assert first.payment_reference == "GK2027-0107-001"
    event = AuditEvent.objects.get(action=AuditAction.MILESTONE_PAYMENT_RECORDED)
    assert event.details["amount"] == "144000.00"
    with pytest.raises(ValidationError):
        services.milestone_payment_record(
            milestone=first, actor=official, paid_on=date(2027, 1, 7), reference="again"
        )


def test_a_withheld_milestone_has_no_payment_to_record(tender, clock):
    contract = active(tender, clock)
    official = contract_support.official()
    second = services.milestone_settle(
        milestone=milestone(contract, 2), release=False, reason="差", actor=official
    )
    with pytest.raises(ValidationError):
        services.milestone_payment_record(
            milestone=second, actor=official, paid_on=date(2027, 1, 4), reference="X"
        )


def test_only_an_official_records_a_payment(tender, clock):
    contract = active(tender, clock)
    first = services.milestone_settle(
        milestone=milestone(contract, 1), release=True, reason="", actor=contract_support.official()
    )
    with pytest.raises(PermissionDenied):
        services.milestone_payment_record(
            milestone=first, actor=supplier_admin(contract), paid_on=date(2027, 1, 4), reference="X"
        )


# --- Termination ---------------------------------------------------------------------------------


def test_termination_withholds_the_open_milestones_and_completes_the_tender(tender, clock):
    contract = active(tender, clock)
    official = contract_support.official()
    services.milestone_settle(
        milestone=milestone(contract, 1), release=True, reason="", actor=official
    )
    with pytest.raises(ValidationError) as refused:
        services.contract_terminate(contract=contract, actor=official, reason="")
    assert "reason" in refused.value.message_dict

    contract = services.contract_terminate(
        contract=contract, actor=official, reason="承接机构连续两个月未按计划提供服务。"
    )
    assert contract.status == ContractStatus.TERMINATED
    assert contract.terminated_by == official
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.COMPLETED
    rows = list(Milestone.objects.filter(contract=contract).order_by("sequence"))
    assert [m.status for m in rows] == ["paid", "withheld", "withheld"]
    assert rows[1].withheld_amount == Decimal("192000.00")
    assert "承接机构" in rows[2].decision_reason
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_TERMINATED)
    assert event.details["withheld_milestones"] == [2, 3]
    assert AuditEvent.objects.filter(action=AuditAction.MILESTONE_WITHHELD).count() == 2


def test_terminating_a_draft_cancels_the_tender(tender):
    contract = draft(tender)
    services.contract_terminate(
        contract=contract, actor=contract_support.official(), reason="中标机构放弃签约。"
    )
    updated = Tender.objects.get(pk=tender.pk)
    assert updated.status == TenderStatus.CANCELLED
    assert updated.cancel_reason == "中标机构放弃签约。"


def test_the_supplier_cannot_terminate(tender, clock):
    contract = active(tender, clock)
    with pytest.raises(PermissionDenied):
        services.contract_terminate(
            contract=contract, actor=supplier_admin(contract), reason="不做了"
        )
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.ACTIVE


def test_a_term_just_under_three_years_is_allowed_with_the_reason(tender):
    contract = draft(
        tender,
        service_start=date(2027, 1, 1),
        service_end=date(2029, 12, 31),
        long_term_reason="社区居家养老服务为长期稳定的常态化服务。",
    )
    assert contract.term_days == 1096  # 2028 is a leap year
    assert contract.milestones.get(sequence=3).due_date == date(2029, 12, 31)
    assert sum(m.amount for m in contract.milestones.all()) == contract.price


def test_terminating_a_signed_contract_before_its_start_completes_the_tender(tender):
    contract = sign_both(draft(tender))
    services.contract_terminate(
        contract=contract, actor=contract_support.official(), reason="服务场地被征收。"
    )
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.COMPLETED
    assert set(contract.milestones.values_list("status", flat=True)) == {"withheld"}
    with pytest.raises(PermissionDenied):
        services.contract_terminate(
            contract=contract, actor=contract_support.official(), reason="再次"
        )


# --- Signature reminders -------------------------------------------------------------------------


def test_the_sides_that_have_not_signed_are_reminded_once(
    tender, clock, django_capture_on_commit_callbacks, mailoutbox
):
    contract = draft(tender)
    services.contract_sign(contract=contract, actor=contract_support.official())
    mailoutbox.clear()
    clock.set(local(2026, 10, 22, 9, 0))  # 8 days before the signing day
    assert services.contracts_remind_signatures() == 0
    clock.set(local(2026, 10, 23, 9, 0))  # 7 days before
    with django_capture_on_commit_callbacks(execute=True):
        assert services.contracts_remind_signatures() == 1
        assert services.contracts_remind_signatures() == 0  # once a day and kind
    assert [m.to for m in mailoutbox] == [[supplier_admin(contract).email]]
    event = AuditEvent.objects.get(action=AuditAction.CONTRACT_SIGNATURE_REMINDED)
    assert event.details == {"days_before": 7, "sign_due": "2026-10-30", "sides": ["supplier"]}
    clock.set(local(2026, 10, 31, 9, 0))  # the day after
    assert services.contracts_remind_signatures() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CONTRACT_SIGNATURE_REMINDED).count() == 2


def test_signed_contracts_are_not_reminded(tender, clock):
    sign_both(draft(tender))
    clock.set(local(2026, 10, 29, 9, 0))
    assert services.contracts_remind_signatures() == 0


def test_the_command_starts_due_contracts_and_is_scheduled(tender, clock, settings):
    from io import StringIO

    from django.core.management import call_command

    sign_both(draft(tender))
    clock.set(ACTIVE_DAY)
    out = StringIO()
    call_command("start_contracts", stdout=out)
    assert "1 contract(s) started" in out.getvalue()
    assert ("tenders.tasks.start_contracts", 60 * 60) in settings.PERIODIC_TASKS
