"""Who may do what in the registry: pure predicates ``can_<verb>_<noun>(user, obj)``.

An organization's people, roster and requests belong to it: its own users and the
registry's staff work on them, auditors read them, nobody else sees them.
"""

from __future__ import annotations

from typing import Any

from marketplace.models import Role
from marketplace.permissions import has_role, is_org_user
from orgs_registry.models import (
    CreditProposalStatus,
    GradeAssessmentStatus,
    Organization,
    OrganizationStatus,
)


def _org_id(obj: Any) -> int | None:
    if isinstance(obj, Organization):
        return obj.pk
    return getattr(obj, "organization_id", None)


def is_member_of(user: Any, organization: Any) -> bool:
    """Whether the user holds an organization role in ``organization``."""
    return is_org_user(user) and user.organization_id == _org_id(organization)


def is_admin_of(user: Any, organization: Any) -> bool:
    return has_role(user, Role.ORG_ADMIN) and user.organization_id == _org_id(organization)


def is_registry_admin(user: Any) -> bool:
    return has_role(user, Role.REGISTRY_ADMIN)


# --- Organizations -----------------------------------------------------------------------------


def can_register_organization(user: Any) -> bool:
    """A signed-in person without a role registers an organization and becomes its admin."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and not user.role
        and user.organization_id is None
        and not user.is_superuser
    )


def can_create_verified_organization(user: Any) -> bool:
    return is_registry_admin(user)


def can_view_organization(user: Any, organization: Organization) -> bool:
    """Verified organizations are public; a registration in progress is not."""
    if organization.status not in (OrganizationStatus.PENDING, OrganizationStatus.REJECTED):
        return True
    return (
        is_member_of(user, organization) or is_registry_admin(user) or has_role(user, Role.AUDITOR)
    )


def can_manage_organization(user: Any, organization: Organization) -> bool:
    """See the organization's own pages (roster, requests, grade, exit)."""
    return (
        is_member_of(user, organization) or is_registry_admin(user) or has_role(user, Role.AUDITOR)
    )


def can_verify_organization(user: Any, organization: Organization) -> bool:
    return is_registry_admin(user) and organization.status == OrganizationStatus.PENDING


def can_resubmit_organization(user: Any, organization: Organization) -> bool:
    return is_admin_of(user, organization) and organization.status == OrganizationStatus.REJECTED


def can_edit_organization_profile(user: Any, organization: Organization) -> bool:
    """Contact details and profile: the organization's admins (and the registry)."""
    if organization.status == OrganizationStatus.DEREGISTERED:
        return False
    return is_admin_of(user, organization) or is_registry_admin(user)


def can_request_change(user: Any, organization: Organization) -> bool:
    return is_admin_of(user, organization) and organization.status in (
        OrganizationStatus.ACTIVE,
        OrganizationStatus.ABNORMAL,
    )


def can_decide_change_request(user: Any, change_request: Any = None) -> bool:
    return is_registry_admin(user)


def can_request_deregistration(user: Any, organization: Organization) -> bool:
    return (
        is_admin_of(user, organization)
        and organization.status in (OrganizationStatus.ACTIVE, OrganizationStatus.ABNORMAL)
        and not organization.is_deregistering
    )


def can_order_deregistration(user: Any, organization: Organization) -> bool:
    return (
        is_registry_admin(user)
        and organization.status in (OrganizationStatus.ACTIVE, OrganizationStatus.ABNORMAL)
        and not organization.is_deregistering
    )


def can_complete_deregistration(user: Any, organization: Organization) -> bool:
    return is_registry_admin(user) and organization.is_deregistering


def can_withdraw_deregistration(user: Any, organization: Organization) -> bool:
    """Only the side that started it may take it back."""
    if not organization.is_deregistering:
        return False
    if organization.deregistration_initiator == "organization":
        return is_admin_of(user, organization) or is_registry_admin(user)
    return is_registry_admin(user)


# --- People and rosters ------------------------------------------------------------------------


def can_view_roster(user: Any, organization: Organization) -> bool:
    return can_manage_organization(user, organization)


def can_manage_roster(user: Any, organization: Organization) -> bool:
    return is_admin_of(user, organization) and organization.status not in (
        OrganizationStatus.DEREGISTERED,
    )


def can_view_id_number(user: Any, organization: Organization) -> bool:
    """Full ID numbers: the person's own organization's admins and auditors (DESIGN 4.1).

    ``organization`` is the organization whose roster shows the person; the roster
    itself only lists people employed there.
    """
    return is_admin_of(user, organization) or has_role(user, Role.AUDITOR)


# --- Grades ------------------------------------------------------------------------------------


def can_request_grade(user: Any, organization: Organization) -> bool:
    return is_admin_of(user, organization)


def can_view_grade_assessment(user: Any, assessment: Any) -> bool:
    return (
        is_member_of(user, assessment.organization)
        or is_registry_admin(user)
        or has_role(user, Role.AUDITOR)
        or (has_role(user, Role.ASSESSOR) and assessment.assessor_id == user.pk)
    )


def can_view_grade_scores(user: Any, assessment: Any) -> bool:
    """The organization sees its scores once the assessor has proposed a result, not while
    the scoring is still a draft; everyone else who may read the assessment sees them."""
    if not can_view_grade_assessment(user, assessment):
        return False
    if is_member_of(user, assessment.organization):
        return assessment.status not in (
            GradeAssessmentStatus.REQUESTED,
            GradeAssessmentStatus.ASSESSING,
        )
    return True


def can_administer_grades(user: Any, assessment: Any = None) -> bool:
    """Assign, publicize, confirm, downgrade and cancel: the registry."""
    return is_registry_admin(user)


def can_score_grade(user: Any, assessment: Any) -> bool:
    return (
        has_role(user, Role.ASSESSOR)
        and assessment.assessor_id == user.pk
        and assessment.status == GradeAssessmentStatus.ASSESSING
    )


def can_request_grade_review(user: Any, assessment: Any) -> bool:
    return (
        is_admin_of(user, assessment.organization)
        and assessment.status == GradeAssessmentStatus.PUBLICIZED
    )


# --- Credit ------------------------------------------------------------------------------------


def can_manage_credit(user: Any, organization: Any = None) -> bool:
    return is_registry_admin(user)


# --- Credit proposals --------------------------------------------------------------------------


def can_propose_credit_entry(user: Any, organization: Any = None) -> bool:
    """Parts of the system that find a failure (a poor final evaluation, an integrity
    finding) raise a proposal on behalf of their user; only the registry lists."""
    return has_role(user, Role.OFFICIAL, Role.APPROVER, Role.ASSESSOR, Role.REGISTRY_ADMIN)


def can_view_credit_proposals(user: Any) -> bool:
    """The registry's queue of proposals: its admins decide, auditors read."""
    return is_registry_admin(user) or has_role(user, Role.AUDITOR)


def can_view_credit_proposal(user: Any, proposal: Any) -> bool:
    """A proposal is not public: the organization's admins see what concerns them."""
    return can_view_credit_proposals(user) or is_admin_of(user, proposal)


def can_decide_credit_proposal(user: Any, proposal: Any) -> bool:
    return is_registry_admin(user) and proposal.status == CreditProposalStatus.PROPOSED
