"""Who may do what with contracts, their team and milestones (pure predicates).

A draft contract is between the two parties; once signed it is public (with personal data
masked). The street office draws up, edits, terminates and pays; the supplier's
administrator signs and asks for team changes.
"""

from __future__ import annotations

from typing import Any

from marketplace.models import Role
from marketplace.permissions import has_role, is_official
from orgs_registry.permissions import is_admin_of, is_member_of
from tenders.models import (
    PUBLIC_CONTRACT_STATES,
    ContractStatus,
    MilestoneStatus,
    TeamChangeStatus,
    Tender,
    TenderStatus,
)

# States in which the service team may still change.
TEAM_CHANGE_STATES = frozenset({ContractStatus.SIGNED, ContractStatus.ACTIVE})
TERMINABLE_STATES = frozenset({ContractStatus.DRAFT, ContractStatus.SIGNED, ContractStatus.ACTIVE})


def can_view_contract(user: Any, contract: Any) -> bool:
    """Signed contracts are public; a draft is the street office's, the auditors' and the
    supplier's."""
    if contract.status in PUBLIC_CONTRACT_STATES:
        return True
    return is_official(user) or has_role(user, Role.AUDITOR) or is_member_of(user, contract)


def can_see_team_names(user: Any, contract: Any) -> bool:
    """The team's full names: the two parties and auditors; the public sees them masked."""
    return is_official(user) or has_role(user, Role.AUDITOR) or is_member_of(user, contract)


def can_draft_contract(user: Any, tender: Tender) -> bool:
    """An official draws up the contract of an awarded tender (whether the challenge window
    is over is the service's check, with its message)."""
    return is_official(user) and tender.status == TenderStatus.AWARDED


def can_edit_contract(user: Any, contract: Any) -> bool:
    """An official edits the draft until the first signature fixes its terms."""
    return (
        is_official(user)
        and contract.status == ContractStatus.DRAFT
        and contract.purchaser_signed_at is None
        and contract.supplier_signed_at is None
    )


def signs_for_purchaser(user: Any) -> bool:
    return is_official(user)


def signs_for_a_side(user: Any, contract: Any) -> bool:
    """An official or approver signs for the street office, an administrator of the
    supplier for the supplier."""
    return is_official(user) or is_admin_of(user, contract)


def can_sign_contract(user: Any, contract: Any) -> bool:
    """Each side signs a draft once."""
    if contract.status != ContractStatus.DRAFT:
        return False
    if is_official(user):
        return contract.purchaser_signed_at is None
    if is_admin_of(user, contract):
        return contract.supplier_signed_at is None
    return False


def can_terminate_contract(user: Any, contract: Any) -> bool:
    return is_official(user) and contract.status in TERMINABLE_STATES


def can_request_team_change(user: Any, contract: Any) -> bool:
    """The supplier's administrator, while the contract is signed or in delivery."""
    return is_admin_of(user, contract) and contract.status in TEAM_CHANGE_STATES


def can_view_team_changes(user: Any, contract: Any) -> bool:
    return is_official(user) or has_role(user, Role.AUDITOR) or is_member_of(user, contract)


def can_decide_team_change(user: Any, change: Any) -> bool:
    return (
        is_official(user)
        and change.status == TeamChangeStatus.REQUESTED
        and change.contract.status in TEAM_CHANGE_STATES
    )


def can_report_milestone(user: Any, milestone: Any) -> bool:
    """The supplier files the delivery report that moves a milestone to reported."""
    return is_member_of(user, milestone.contract)


def can_return_milestone_report(user: Any, milestone: Any) -> bool:
    return is_official(user)


def can_settle_milestone(user: Any, milestone: Any) -> bool:
    """An official (accepting a report, or terminating) or an assessor (filing the
    evaluation the milestone is tied to; that the assessor is the contract's evaluator is
    the evaluation service's check) releases or withholds a milestone."""
    return is_official(user) or has_role(user, Role.ASSESSOR)


def can_record_payment(user: Any, milestone: Any) -> bool:
    """An official records the transfer of a released milestone, once."""
    return (
        is_official(user) and milestone.status == MilestoneStatus.PAID and milestone.paid_on is None
    )


def can_see_payments(user: Any, contract: Any) -> bool:
    """Payment references and who settled: the parties and auditors (amounts are public)."""
    return is_official(user) or has_role(user, Role.AUDITOR) or is_member_of(user, contract)
