"""The delivery predicates against a table of roles × contract states (pure; plain objects
stand in for the contract and the report)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tenders.models import ContractStatus, DeliveryReportStatus, MilestoneStatus
from tenders.permissions import delivery as permissions

ROLES = [
    "official",
    "approver",
    "org_admin",
    "org_member",
    "other_org_admin",
    "assessor",
    "registry_admin",
    "auditor",
    "outsider",
]


def contract_of(organization, status: str = ContractStatus.ACTIVE) -> SimpleNamespace:
    return SimpleNamespace(pk=-1, organization_id=organization.pk, status=status)


@pytest.fixture
def users(request) -> dict:
    return {role: request.getfixturevalue(role) for role in ROLES}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("official", True),
        ("approver", True),
        ("org_admin", True),
        ("org_member", True),
        ("auditor", True),
        ("other_org_admin", False),
        ("assessor", False),  # not evaluating this contract
        ("registry_admin", False),
        ("outsider", False),
    ],
)
def test_who_reads_the_delivery_file(users, organization, role, expected):
    assert permissions.can_view_delivery(users[role], contract_of(organization)) is expected
    assert permissions.can_view_satisfaction(users[role], contract_of(organization)) is expected


@pytest.mark.parametrize("status", list(ContractStatus.values))
def test_the_suppliers_people_file_reports_only_in_delivery(users, organization, status):
    contract = contract_of(organization, status)
    filing = {role for role in ROLES if permissions.can_file_report(users[role], contract)}
    assert filing == ({"org_admin", "org_member"} if status == ContractStatus.ACTIVE else set())


@pytest.mark.parametrize("status", list(ContractStatus.values))
def test_sites_are_set_up_once_signed_by_officials_and_the_suppliers_admin(
    users, organization, status
):
    contract = contract_of(organization, status)
    managing = {
        role for role in ROLES if permissions.can_manage_survey_sites(users[role], contract)
    }
    if status in (ContractStatus.SIGNED, ContractStatus.ACTIVE):
        assert managing == {"official", "approver", "org_admin"}
    else:
        assert managing == set()


def test_the_qr_code_is_printed_by_the_parties(users, organization):
    contract = contract_of(organization)
    printing = {role for role in ROLES if permissions.can_print_survey_code(users[role], contract)}
    assert printing == {"official", "approver", "org_admin", "org_member"}


@pytest.mark.parametrize("status", list(DeliveryReportStatus.values))
def test_officials_review_reports_waiting_for_review(users, organization, status):
    report = SimpleNamespace(
        status=status,
        contract=contract_of(organization),
        milestone=SimpleNamespace(status=MilestoneStatus.REPORTED),
    )
    reviewing = {role for role in ROLES if permissions.can_review_report(users[role], report)}
    expected = {"official", "approver"} if status == DeliveryReportStatus.SUBMITTED else set()
    assert reviewing == expected
    shown = {role for role in ROLES if permissions.can_see_review_forms(users[role], report)}
    assert shown == expected


@pytest.mark.parametrize(
    ("is_open", "status", "expected"),
    [
        (True, ContractStatus.ACTIVE, True),
        (False, ContractStatus.ACTIVE, False),
        (True, ContractStatus.SIGNED, False),
        (True, ContractStatus.COMPLETED, False),
        (True, ContractStatus.TERMINATED, False),
    ],
)
def test_a_site_takes_answers_while_open_and_in_delivery(organization, is_open, status, expected):
    site = SimpleNamespace(is_open=is_open, contract=contract_of(organization, status))
    assert permissions.survey_accepts_answers(site) is expected
