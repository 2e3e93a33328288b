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
    Tender,
)
from tenders.services import contracts as services
from tests import contract_support
from tests.conftest import Clock, building, module_database, persona
from tests.contract_support import ACTIVE_DAY, DRAFT_DAY, supplier_admin
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
