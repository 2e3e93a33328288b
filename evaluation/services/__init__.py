"""Every write of the evaluation app, one module per part of the process.

- ``evaluation.services`` (here): the assessor pool.
- ``evaluation.services.panels``: forming the panel, the random draw with conflict
  exclusions, declarations and replacements, objective scores, abnormally low prices.
- ``evaluation.services.sheets``: score sheets, deviation flags (畸高畸低), locking, the
  frozen ranking and its corrections.

Each service follows STYLE.md: keyword-only, one transaction, rows locked, permission
checked, the django-fsm transition fired, one audit event per change, e-mail on commit.
"""

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
