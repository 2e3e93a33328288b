"""Every write to the organization registry."""

from __future__ import annotations

from django.db import transaction

from marketplace.audit import audit_record
from marketplace.models import AuditAction, User
from orgs_registry.identifiers import validate_uscc
from orgs_registry.models import Organization


def organization_create(
    *, name: str, uscc: str, actor: User | None, verified: bool = False
) -> Organization:
    """Register an organization; ``verified`` creates it active (registry administrators).

    Raises ``ValidationError`` for an invalid or already registered code.
    """
    with transaction.atomic():
        try:
            normalized = validate_uscc(uscc)
        except ValueError:
            normalized = uscc  # full_clean() reports the rule that failed, on the field
        organization = Organization(name=name.strip(), uscc=normalized)
        # status changes only through transitions and kind is derived from the code in
        # save(): neither is input to validate (django-fsm refuses full_clean's setattr).
        organization.full_clean(exclude=["status", "kind"])
        if verified:
            organization.activate()
        organization.save()
        audit_record(
            action=AuditAction.ORG_CREATED,
            actor=actor,
            obj=organization,
            state_after=organization.status,
            details={"name": organization.name, "uscc": organization.uscc},
        )
    return organization
