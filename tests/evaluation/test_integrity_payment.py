"""Confirmed double funding about a contract blocks releasing its payments until resolved;
withholding stays possible (DESIGN 5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from evaluation.models import FlagKind, IntegrityFlag
from evaluation.services import integrity as services
from orgs_registry.models import Person
from tenders.models import Contract, Milestone, MilestoneStatus
from tenders.services import contracts as contract_services
from tests import contract_support
from tests.conftest import building, module_database
from tests.evaluation.integrity_support import import_staffing, post
from tests.tenders.test_award import RANKED_AT


@pytest.fixture(scope="module")
def _contract_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        contract = contract_support.make_active_contract(clock)
        member = contract.team.order_by("pk").first()
        import_staffing(tmp_path_factory.mktemp("roster"), [post(member.person)])
        services.screens_run()
        yield contract, clock.current


@pytest.fixture
def contract(_contract_once, db, clock) -> Contract:
    clock.set(_contract_once[1])
    return Contract.objects.get(pk=_contract_once[0].pk)


def team_flag(contract: Contract) -> IntegrityFlag:
    return IntegrityFlag.objects.get(kind=FlagKind.STAFF_ON_PUBLIC_PAYROLL, contract=contract)


def first_milestone(contract: Contract) -> Milestone:
    return Milestone.objects.get(contract=contract, sequence=1)


def test_the_contract_team_member_on_the_payroll_is_flagged_on_the_contract(contract):
    flag = team_flag(contract)
    member = contract.team.order_by("pk").first()
    assert flag.person_id == member.person_id
    assert flag.bid_id is None
    assert Person.objects.get(pk=flag.person_id).name == flag.evidence["person"]["name"]


def test_an_open_flag_does_not_stop_the_payment(contract, official):
    milestone = contract_services.milestone_settle(
        milestone=first_milestone(contract), release=True, reason="", actor=official
    )
    assert milestone.status == MilestoneStatus.PAID


def test_a_confirmed_flag_blocks_the_release_but_not_withholding(contract, official, auditor):
    flag = services.flag_confirm(flag=team_flag(contract), actor=auditor)
    with translation.override("en"), pytest.raises(ValidationError, match="blocks the payment"):
        contract_services.milestone_settle(
            milestone=first_milestone(contract), release=True, reason="", actor=official
        )
    assert first_milestone(contract).status == MilestoneStatus.PLANNED
    withheld = contract_services.milestone_settle(
        milestone=first_milestone(contract),
        release=False,
        reason="服务团队成员在编在岗，暂停支付。",
        actor=official,
    )
    assert withheld.status == MilestoneStatus.WITHHELD
    assert flag.pk


def test_the_payment_is_released_once_the_flag_is_resolved(contract, official, auditor):
    flag = services.flag_confirm(flag=team_flag(contract), actor=auditor)
    services.flag_resolve(flag=flag, actor=official, resolution="该人员已由机构另行替换。")
    milestone = contract_services.milestone_settle(
        milestone=first_milestone(contract), release=True, reason="", actor=official
    )
    assert milestone.status == MilestoneStatus.PAID


def test_a_contract_change_queues_a_run_over_its_tender(
    contract, official, django_capture_on_commit_callbacks
):
    from evaluation.models import IntegrityRun, RunStatus, RunTrigger

    before = IntegrityRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        contract_services.contract_terminate(
            contract=contract, actor=official, reason="服务机构严重违约，提前终止。"
        )
    run = IntegrityRun.objects.latest("pk")
    assert IntegrityRun.objects.count() == before + 1
    assert run.trigger == RunTrigger.CONTRACT_CHANGE
    assert run.tender_id == contract.tender_id
    assert run.status == RunStatus.FINISHED
