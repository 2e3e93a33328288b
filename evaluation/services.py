"""Every write of the evaluation app."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from evaluation.models import AssessorProfile
from marketplace.audit import audit_record
from marketplace.models import AuditAction, Role, User
from orgs_registry.models import ServiceCategory


def assessor_pool_join(
    *,
    user: User,
    categories: Iterable[ServiceCategory],
    actor: User | None,
    agency: str = "",
) -> AssessorProfile:
    """Put an assessor in the pool for ``categories`` (all of them when empty)."""
    if user.role != Role.ASSESSOR:
        raise ValueError(f"user {user.username} is not an assessor")
    with transaction.atomic():
        chosen = list(categories) or list(ServiceCategory.objects.all())
        profile, _created = AssessorProfile.objects.get_or_create(
            user=user, defaults={"agency": agency}
        )
        profile.categories.add(*chosen)
        audit_record(
            action=AuditAction.ASSESSOR_POOL_JOINED,
            actor=actor,
            obj=profile,
            details={"user": user.username, "categories": sorted(c.code for c in chosen)},
        )
    return profile
