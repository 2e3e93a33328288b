"""The contract's service team: changes asked by the supplier, decided by an official."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketplace.models import AuditAction, AuditEvent
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import Person
from orgs_registry.services import StaffInput, staff_add
from tenders.models import Contract, ContractTeamMember, TeamChange, TeamChangeStatus
from tenders.services import contracts as services
from tests import contract_support
from tests.conftest import Clock, building, module_database
from tests.contract_support import ACTIVE_DAY, supplier_admin, supplier_member
from tests.tenders.test_award import AWARD_DAY, local


@pytest.fixture(scope="module")
def _active_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple[int, int]]:
    """An active contract and a new employee of its supplier, not on the team."""
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        contract = contract_support.make_active_contract(clock)
        employment = staff_add(
            organization=contract.organization,
            actor=supplier_admin(contract),
            data=StaffInput(
                name="新来的社工",
                id_number=make_id_number(
                    region="500103", born=date(1990, 5, 6), sequence=77, male=False
                ),
                role="社工",
                start_date=date(2026, 12, 1),
            ),
        )
        yield contract.pk, employment.person_id


@pytest.fixture
def contract(_active_once, db, clock: Clock) -> Contract:
    clock.set(ACTIVE_DAY)
    return Contract.objects.get(pk=_active_once[0])


@pytest.fixture
def newcomer(_active_once, db) -> Person:
    return Person.objects.get(pk=_active_once[1])


def members(contract: Contract) -> list[ContractTeamMember]:
    return list(ContractTeamMember.objects.filter(contract=contract).order_by("pk"))


def test_a_replacement_approved_changes_the_team_from_that_day(
    contract, newcomer, clock, django_capture_on_commit_callbacks, mailoutbox
):
    leaving = members(contract)[0]
    with django_capture_on_commit_callbacks(execute=True):
        change = services.team_change_request(
            contract=contract,
            actor=supplier_admin(contract),
            kind="replace",
            leaving=leaving.pk,
            joining=newcomer.pk,
            reason="原社工离职。",
        )
    assert change.status == TeamChangeStatus.REQUESTED
    assert change.role == leaving.role
    assert change.fte == leaving.fte
    assert [m.to for m in mailoutbox] == [[contract.created_by.email]]
    requested = AuditEvent.objects.get(action=AuditAction.TEAM_CHANGE_REQUESTED)
    assert requested.details["joining"] == newcomer.pk

    clock.set(local(2027, 2, 1, 9, 0))
    change = services.team_change_decide(
        change=change, actor=contract_support.official(), approve=True
    )
    assert change.status == TeamChangeStatus.APPROVED
    team = members(contract)
    assert team[0].left_on == date(2027, 2, 1)
    joined = team[-1]
    assert joined.person == newcomer
    assert joined.joined_on == date(2027, 2, 1)
    assert not joined.from_bid
    event = AuditEvent.objects.get(action=AuditAction.TEAM_CHANGE_APPROVED)
    assert (event.state_before, event.state_after) == ("requested", "approved")


def test_a_rejected_change_needs_a_note_and_leaves_the_team_alone(contract, newcomer):
    change = services.team_change_request(
        contract=contract,
        actor=supplier_admin(contract),
        kind="add",
        joining=newcomer,
        role="志愿者督导",
        fte="0.3",
        reason="服务量增加。",
    )
    with pytest.raises(ValidationError) as refused:
        services.team_change_decide(change=change, actor=contract_support.official(), approve=False)
    assert "note" in refused.value.message_dict
    services.team_change_decide(
        change=change, actor=contract_support.official(), approve=False, note="预算不支持增加人员。"
    )
    assert TeamChange.objects.get(pk=change.pk).status == TeamChangeStatus.REJECTED
    assert len(members(contract)) == 2
    assert AuditEvent.objects.filter(action=AuditAction.TEAM_CHANGE_REJECTED).count() == 1


def test_the_person_joining_must_be_a_current_employee_of_the_supplier(contract, other_org_admin):
    stranger = Person.objects.exclude(employments__organization=contract.organization).first()
    with pytest.raises(ValidationError) as refused:
        services.team_change_request(
            contract=contract,
            actor=supplier_admin(contract),
            kind="add",
            joining=stranger.pk,
            role="社工",
            fte=Decimal("0.5"),
            reason="增加人手",
        )
    assert "joining" in refused.value.message_dict
    assert not TeamChange.objects.exists()


def test_someone_on_the_team_cannot_join_it_again(contract):
    current = members(contract)[1]
    with pytest.raises(ValidationError) as refused:
        services.team_change_request(
            contract=contract,
            actor=supplier_admin(contract),
            kind="add",
            joining=current.person_id,
            role="社工",
            fte="0.5",
            reason="再加一次",
        )
    assert "joining" in refused.value.message_dict


def test_a_change_names_its_fields_when_incomplete(contract):
    with pytest.raises(ValidationError) as refused:
        services.team_change_request(
            contract=contract, actor=supplier_admin(contract), kind="replace", reason=""
        )
    assert {"leaving", "joining", "reason"} <= set(refused.value.message_dict)
    with pytest.raises(ValidationError) as refused:
        services.team_change_request(
            contract=contract, actor=supplier_admin(contract), kind="swap", reason="x"
        )
    assert "kind" in refused.value.message_dict


def test_a_removal_approved_closes_the_seat(contract):
    leaving = members(contract)[1]
    change = services.team_change_request(
        contract=contract,
        actor=supplier_admin(contract),
        kind="remove",
        leaving=leaving,
        reason="该社工调岗。",
    )
    services.team_change_decide(change=change, actor=contract_support.official(), approve=True)
    assert ContractTeamMember.objects.get(pk=leaving.pk).left_on == date(2027, 1, 4)


def test_only_the_suppliers_admin_asks_and_only_an_official_decides(
    contract, newcomer, other_org_admin, assessor
):
    for user in (supplier_member(contract), other_org_admin, contract_support.official()):
        with pytest.raises(PermissionDenied):
            services.team_change_request(
                contract=contract,
                actor=user,
                kind="add",
                joining=newcomer.pk,
                role="社工",
                fte="0.5",
                reason="x",
            )
    change = services.team_change_request(
        contract=contract,
        actor=supplier_admin(contract),
        kind="add",
        joining=newcomer.pk,
        role="社工",
        fte="0.5",
        reason="x",
    )
    for user in (supplier_admin(contract), assessor):
        with pytest.raises(PermissionDenied):
            services.team_change_decide(change=change, actor=user, approve=True)
    services.team_change_decide(change=change, actor=contract_support.official(), approve=True)
    with pytest.raises(PermissionDenied):
        services.team_change_decide(change=change, actor=contract_support.official(), approve=True)
