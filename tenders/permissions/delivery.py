"""Who may do what with delivery reports and the beneficiary survey (pure predicates).

A contract's delivery (its reports, their photos and spending, the survey results) is
between the two parties: the street office, the supplier's people, auditors, and the
assessors who evaluate that contract. The public sees the signed contract (the contracts
part), not its delivery file. Survey answers themselves come from anyone holding a site's
link, without an account.
"""

from __future__ import annotations

from typing import Any

from marketplace.models import Role
from marketplace.permissions import has_role, is_official
from orgs_registry.permissions import is_admin_of, is_member_of
from tenders.models import ContractStatus, DeliveryReportStatus, MilestoneStatus

# A survey site may be set up once the contract is signed (to print the posters before the
# service starts) and while it is delivered.
SURVEY_SETUP_STATES = frozenset({ContractStatus.SIGNED, ContractStatus.ACTIVE})


def is_contract_assessor(user: Any, contract: Any) -> bool:
    """An assessor who holds a standing performance evaluation of the contract."""
    if not has_role(user, Role.ASSESSOR):
        return False
    # Imported here: evaluation's models import the tenders models.
    from evaluation.models import PerformanceEvaluation, PerformanceEvaluationStatus

    return (
        PerformanceEvaluation.objects.filter(contract_id=contract.pk, assessor_id=user.pk)
        .exclude(status=PerformanceEvaluationStatus.WITHDRAWN)
        .exists()
    )


def can_view_delivery(user: Any, contract: Any) -> bool:
    """The delivery file of a contract: reports, documents, survey sites and results."""
    if is_official(user) or has_role(user, Role.AUDITOR) or is_member_of(user, contract):
        return True
    return is_contract_assessor(user, contract)


def can_file_report(user: Any, contract: Any) -> bool:
    """The supplier's administrator or member files reports while the contract is in
    delivery. Whether the milestone waits for one is the service's check, with its message."""
    return is_member_of(user, contract) and contract.status == ContractStatus.ACTIVE


def can_review_report(user: Any, report: Any) -> bool:
    """An official accepts or returns a report waiting for review."""
    return is_official(user) and report.status == DeliveryReportStatus.SUBMITTED


def can_see_review_forms(user: Any, report: Any) -> bool:
    """Whether to show the accept and return forms (the milestone is still reported)."""
    return can_review_report(user, report) and report.milestone.status == MilestoneStatus.REPORTED


def can_manage_survey_sites(user: Any, contract: Any) -> bool:
    """An official or the supplier's administrator sets up, closes and reopens survey sites
    while the contract is signed or in delivery."""
    return (is_official(user) or is_admin_of(user, contract)) and (
        contract.status in SURVEY_SETUP_STATES
    )


def can_print_survey_code(user: Any, contract: Any) -> bool:
    """The QR code and poster of a site: the street office and the supplier's people."""
    return is_official(user) or is_member_of(user, contract)


def can_view_satisfaction(user: Any, contract: Any) -> bool:
    """The survey results: the two parties, auditors and the contract's assessors."""
    return can_view_delivery(user, contract)


def survey_accepts_answers(site: Any) -> bool:
    """A site answers only while it is open and its contract is in delivery."""
    return bool(site.is_open) and site.contract.status == ContractStatus.ACTIVE
