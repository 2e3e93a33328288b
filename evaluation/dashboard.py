"""Assessor pool cards on the dashboards."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from evaluation.models import AssessorProfile
from marketplace import permissions
from marketplace.dashboard import Card, card_provider
from marketplace.models import Role, User


@card_provider(order=200)
def _assessor_pool(user: User) -> list[Card]:
    if permissions.has_role(user, Role.ASSESSOR):
        profile = AssessorProfile.objects.filter(user=user).prefetch_related("categories").first()
        names = [c.name for c in profile.categories.all()] if profile else []
        return [
            Card(
                title=_("Your assessment categories"),
                value=len(names),
                description="、".join(names),
                empty_hint=_(
                    "You are not in the assessor pool for any category yet; "
                    "ask the street office to add you."
                ),
            )
        ]
    if permissions.is_official(user) or permissions.has_role(user, Role.AUDITOR):
        return [
            Card(
                title=_("Assessors in the pool"),
                value=AssessorProfile.objects.filter(user__is_active=True).count(),
                description=_("Panels are drawn at random from this pool."),
                empty_hint=_("Add assessors with manage.py add_user --role assessor."),
            )
        ]
    return []
