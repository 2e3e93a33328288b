"""Registry cards on the dashboards, and the registry's entries in the navigation."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from marketplace import permissions
from marketplace.dashboard import Card, NavItem, card_provider, nav_item
from marketplace.models import Role, User
from orgs_registry import permissions as registry_permissions
from orgs_registry import selectors
from orgs_registry.models import GradeAssessmentStatus, Organization, OrganizationStatus

nav_item(NavItem(_("Organizations"), "orgs_registry:directory", lambda user: True, order=20))
nav_item(NavItem(_("Credit lists"), "orgs_registry:credit_lists", lambda user: True, order=25))
nav_item(NavItem(_("My organization"), "orgs_registry:mine", permissions.is_org_user, order=30))
nav_item(
    NavItem(
        _("Registry"), "orgs_registry:registry_home", registry_permissions.is_registry_admin, 40
    )
)
nav_item(
    NavItem(
        _("Funding registries"),
        "orgs_registry:funding_imports",
        lambda user: permissions.has_role(user, Role.AUDITOR),
        order=47,
    )
)
nav_item(
    NavItem(
        _("Grade assessments"),
        "orgs_registry:grade_list",
        lambda user: permissions.has_role(user, Role.ASSESSOR),
        order=45,
    )
)


@card_provider(order=90)
def _register_invitation(user: User) -> list[Card]:
    """A signed-in person without a role: the way in is registering their organization."""
    if not registry_permissions.can_register_organization(user):
        return []
    return [
        Card(
            title=_("Register your social organization"),
            value=_("Not registered"),
            description=_(
                "Register your organization with its Unified Social Credit Code; you become "
                "its administrator and the civil affairs registry verifies it."
            ),
            url=reverse("orgs_registry:register"),
            link_text=_("Register an organization"),
            tone="attention",
        )
    ]


@card_provider(order=100)
def _own_organization(user: User) -> list[Card]:
    if not permissions.is_org_user(user):
        return []
    organization = user.organization
    if organization is None:  # is_org_user() already excludes it; keeps mypy informed
        return []
    members = organization.members.filter(is_active=True).count()
    pending = organization.status == OrganizationStatus.PENDING
    rejected = organization.status == OrganizationStatus.REJECTED
    manage_url = reverse("orgs_registry:manage", args=[organization.pk])
    today = timezone.localdate()
    staff = (
        selectors.staff_list_for_user(user, organization)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today), start_date__lte=today)
        .count()
    )
    grade = selectors.grade_current(organization, on=today)
    open_requests = selectors.pending_change_request_count(user)
    eligibility = selectors.org_eligibility(organization)
    note: str | Promise
    if rejected:
        note = _("The registry rejected the registration: %(reason)s") % {
            "reason": organization.rejection_reason
        }
    elif pending:
        note = _(
            "The civil affairs registry is checking your registration. "
            "You can bid once it is verified."
        )
    else:
        note = ""
    return [
        Card(
            title=organization.name,
            value=organization.get_status_display(),
            description=_("Unified Social Credit Code %(uscc)s") % {"uscc": organization.uscc},
            tone="attention" if (pending or rejected) else "good",
            note=note,
            url=manage_url,
            link_text=_("Open your organization's pages"),
        ),
        Card(
            title=_("Active accounts of your organization"),
            value=members,
        ),
        Card(
            title=_("Staff on the roster"),
            value=staff,
            url=reverse("orgs_registry:roster", args=[organization.pk]),
            link_text=_("Open the roster"),
            empty_hint=_("Add your staff, one by one or from a spreadsheet."),
        ),
        Card(
            title=_("Current grade"),
            value=grade.grade if grade else _("None"),
            description=(
                _("Valid until %(day)s") % {"day": grade.valid_until}
                if grade
                else _("A grade (1A–5A) is a scoring factor in tenders, never a condition.")
            ),
            url=reverse("orgs_registry:organization_grades", args=[organization.pk]),
            link_text=_("Grades and assessments"),
        ),
        Card(
            title=_("Change requests waiting for the registry"),
            value=open_requests,
            url=manage_url,
            empty_hint=_("No change of registered facts is waiting."),
        ),
        Card(
            title=_("May bid"),
            value=_("Yes") if eligibility.eligible else _("No"),
            description=_("%(failures)s blocking problems, %(warnings)s warnings")
            % {"failures": len(eligibility.failures), "warnings": len(eligibility.warnings)},
            note="; ".join(str(issue) for issue in [*eligibility.failures, *eligibility.warnings]),
            tone="good" if eligibility.eligible and not eligibility.warnings else "attention",
            url=manage_url,
        ),
    ]


@card_provider(order=110)
def _registry_overview(user: User) -> list[Card]:
    if not (
        permissions.has_role(user, Role.REGISTRY_ADMIN, Role.AUDITOR)
        or permissions.is_official(user)
    ):
        return []
    counts = Organization.objects.aggregate(
        pending=Count("pk", filter=Q(status=OrganizationStatus.PENDING)),
        active=Count("pk", filter=Q(status=OrganizationStatus.ACTIVE)),
        abnormal=Count("pk", filter=Q(status=OrganizationStatus.ABNORMAL)),
    )
    cards = [
        Card(
            title=_("Active social organizations"),
            value=counts["active"],
            description=_("Registered and verified: they may compete for tenders."),
            empty_hint=_("No organization is verified yet."),
            url=reverse("orgs_registry:directory"),
            link_text=_("Browse the directory"),
        ),
        Card(
            title=_("On the abnormal-activity list"),
            value=counts["abnormal"],
            tone="attention" if counts["abnormal"] else "neutral",
            url=reverse("orgs_registry:credit_lists"),
            link_text=_("See the credit lists"),
        ),
    ]
    if permissions.has_role(user, Role.REGISTRY_ADMIN):
        change_requests = selectors.pending_change_request_count(user)
        grades = selectors.grade_assessment_list_for_user(user, status="waiting").count()
        credit = selectors.credit_entry_list(active_only=True).count()
        proposals = selectors.credit_proposal_waiting_count(user)
        cards[0:0] = [
            Card(
                title=_("Registrations waiting for verification"),
                value=counts["pending"],
                tone="attention" if counts["pending"] else "good",
                empty_hint=_("No registration is waiting. New ones appear here."),
                url=reverse("orgs_registry:registry_home"),
                link_text=_("Open the queue"),
            ),
            Card(
                title=_("Change requests waiting"),
                value=change_requests,
                tone="attention" if change_requests else "good",
                empty_hint=_("No change of registered facts is waiting."),
                url=reverse("orgs_registry:change_requests"),
                link_text=_("Decide change requests"),
            ),
            Card(
                title=_("Grade assessments waiting for the registry"),
                value=grades,
                tone="attention" if grades else "good",
                empty_hint=_("No assessment needs an assessor, a notice or a confirmation."),
                url=reverse("orgs_registry:grade_list") + "?status=waiting",
                link_text=_("Open the assessments"),
            ),
            Card(
                title=_("Credit list proposals waiting"),
                value=proposals,
                tone="attention" if proposals else "good",
                empty_hint=_("No proposed credit list entry is waiting for a decision."),
                url=reverse("orgs_registry:credit_proposals"),
                link_text=_("Decide the proposals"),
            ),
            Card(
                title=_("Active credit list entries"),
                value=credit,
                url=reverse("orgs_registry:credit_lists"),
                link_text=_("See the credit lists"),
                empty_hint=_("No organization is on a credit list."),
            ),
        ]
    return cards


@card_provider(order=210)
def _assessor_grades(user: User) -> list[Card]:
    if not permissions.has_role(user, Role.ASSESSOR):
        return []
    waiting = (
        selectors.grade_assessment_list_for_user(user)
        .filter(status=GradeAssessmentStatus.ASSESSING)
        .count()
    )
    return [
        Card(
            title=_("Grade assessments waiting for your scores"),
            value=waiting,
            tone="attention" if waiting else "good",
            # The assessor's workspace holds grade assessments beside panel seats.
            url=reverse("evaluation:assignments"),
            link_text=_("Score them"),
            empty_hint=_("No grade assessment is assigned to you now."),
        )
    ]
