"""Registry cards on the dashboards."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from marketplace import permissions
from marketplace.dashboard import Card, card_provider
from marketplace.models import Role, User
from orgs_registry.models import Organization, OrganizationStatus


@card_provider(order=100)
def _own_organization(user: User) -> list[Card]:
    if not permissions.is_org_user(user):
        return []
    organization = user.organization
    if organization is None:  # is_org_user() already excludes it; keeps mypy informed
        return []
    members = organization.members.filter(is_active=True).count()
    pending = organization.status == OrganizationStatus.PENDING
    return [
        Card(
            title=organization.name,
            value=organization.get_status_display(),
            description=_("Unified Social Credit Code %(uscc)s") % {"uscc": organization.uscc},
            tone="attention" if pending else "good",
            note=(
                _(
                    "The civil affairs registry is checking your registration. "
                    "You can bid once it is verified."
                )
                if pending
                else ""
            ),
        ),
        Card(
            title=_("Active accounts of your organization"),
            value=members,
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
        ),
        Card(
            title=_("On the abnormal-activity list"),
            value=counts["abnormal"],
            tone="attention" if counts["abnormal"] else "neutral",
        ),
    ]
    if permissions.has_role(user, Role.REGISTRY_ADMIN):
        cards.insert(
            0,
            Card(
                title=_("Registrations waiting for verification"),
                value=counts["pending"],
                tone="attention" if counts["pending"] else "good",
                empty_hint=_("No registration is waiting. New ones appear here."),
            ),
        )
    return cards
