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
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evaluation.models import AssessorEmployment, AssessorProfile, AssessorRelation
from marketplace.audit import audit_record
from marketplace.models import AuditAction, Role, User
from orgs_registry.identifiers import validate_uscc
from orgs_registry.models import Organization, ServiceCategory


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


# --- Assessor profiles ---------------------------------------------------------------------------
# The facts the panel draw checks for conflicts (DESIGN 4.4): agency, categories, employment
# history (a bidder within 3 years, the purchasing unit) and declared relations. Kept by the
# assessor themself or by the street office; every change is audited.


def _require_profile_editor(actor: User, profile: AssessorProfile) -> None:
    from evaluation import permissions

    if not permissions.can_edit_assessor_profile(actor, profile):
        raise PermissionDenied


def _lock_profile(profile: AssessorProfile) -> AssessorProfile:
    return (
        AssessorProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=profile.pk)
    )


def _registry_match(
    *, uscc: str, organization: Organization | None, field: str
) -> tuple[str, Organization | None]:
    """Normalize a credit code and match it to a registry organization (by FK or USCC).

    A code that fails GB 32100 is refused with the rule it breaks; a code and an
    organization that disagree are refused; a known organization fills in its code.
    """
    code = ""
    if (uscc or "").strip():
        try:
            code = validate_uscc(uscc)
        except ValueError as exc:
            raise ValidationError({field: [str(exc)]}, code="invalid_uscc") from exc
    if organization is not None:
        if code and code != organization.uscc:
            raise ValidationError(
                {
                    field: [
                        _("The credit code does not match %(organization)s (%(uscc)s).")
                        % {"organization": organization.name, "uscc": organization.uscc}
                    ]
                },
                code="uscc_mismatch",
            )
        return organization.uscc, organization
    if code:
        return code, Organization.objects.filter(uscc=code).first()
    return "", None


def _profile_audit(*, actor: User, profile: AssessorProfile, change: str, **details: Any) -> None:
    audit_record(
        action=AuditAction.ASSESSOR_PROFILE_UPDATED,
        actor=actor,
        obj=profile,
        details={"user": profile.user.username, "change": change, **details},
    )


def assessor_profile_update(
    *,
    profile: AssessorProfile,
    actor: User,
    agency: str | None = None,
    categories: Iterable[ServiceCategory] | None = None,
) -> AssessorProfile:
    """Change an assessor's agency and the service categories they assess (None: unchanged)."""
    with transaction.atomic():
        profile = _lock_profile(profile)
        _require_profile_editor(actor, profile)
        changed: dict[str, Any] = {}
        if agency is not None:
            agency = agency.strip()
            if len(agency) > 200:
                raise ValidationError({"agency": [_("At most 200 characters.")]})
            if agency != profile.agency:
                changed["agency"] = {"before": profile.agency, "after": agency}
                profile.agency = agency
                profile.save(update_fields=["agency"])
        if categories is not None:
            chosen = list(categories)
            if not chosen:
                raise ValidationError({"categories": [_("Choose at least one service category.")]})
            before = sorted(c.code for c in profile.categories.all())
            after = sorted(c.code for c in chosen)
            if before != after:
                profile.categories.set(chosen)
                changed["categories"] = {"before": before, "after": after}
        if changed:
            _profile_audit(actor=actor, profile=profile, change="profile", changed=changed)
    return profile


def assessor_employment_add(
    *,
    profile: AssessorProfile,
    actor: User,
    employer_name: str,
    start_date: date,
    end_date: date | None = None,
    employer_uscc: str = "",
    organization: Organization | None = None,
    is_purchasing_unit: bool = False,
    position: str = "",
) -> AssessorEmployment:
    """Record a period of the assessor's employment (an employer in the registry is matched
    by its credit code or given directly)."""
    with transaction.atomic():
        profile = _lock_profile(profile)
        _require_profile_editor(actor, profile)
        code, matched = _registry_match(
            uscc=employer_uscc, organization=organization, field="employer_uscc"
        )
        name = (employer_name or "").strip() or (matched.name if matched else "")
        employment = AssessorEmployment(
            profile=profile,
            employer_name=name,
            employer_uscc=code,
            organization=matched,
            is_purchasing_unit=is_purchasing_unit,
            position=(position or "").strip(),
            start_date=start_date,
            end_date=end_date,
        )
        if end_date is not None and start_date is not None and end_date < start_date:
            raise ValidationError({"end_date": [_("The end date is before the start date.")]})
        employment.full_clean(exclude=["profile", "organization"])
        employment.save()
        _profile_audit(
            actor=actor,
            profile=profile,
            change="employment_added",
            employment={
                "id": employment.pk,
                "employer": employment.employer_name,
                "uscc": employment.employer_uscc,
                "organization": employment.organization_id,
                "purchasing_unit": employment.is_purchasing_unit,
                "start": employment.start_date,
                "end": employment.end_date,
            },
        )
    return employment


def assessor_employment_end(
    *, employment: AssessorEmployment, actor: User, end_date: date
) -> AssessorEmployment:
    """End an employment period on ``end_date`` (the conflict window runs on from there)."""
    with transaction.atomic():
        profile = _lock_profile(employment.profile)
        _require_profile_editor(actor, profile)
        employment = AssessorEmployment.objects.select_for_update().get(
            pk=employment.pk, profile=profile
        )
        if end_date < employment.start_date:
            raise ValidationError({"end_date": [_("The end date is before the start date.")]})
        before = employment.end_date
        employment.end_date = end_date
        employment.save(update_fields=["end_date"])
        _profile_audit(
            actor=actor,
            profile=profile,
            change="employment_ended",
            employment={"id": employment.pk, "before": before, "end": end_date},
        )
    return employment


def assessor_relation_add(
    *,
    profile: AssessorProfile,
    actor: User,
    organization_name: str,
    relation: str,
    organization_uscc: str = "",
    organization: Organization | None = None,
) -> AssessorRelation:
    """Declare a relation with an organization (family, a board seat, funding)."""
    relation = (relation or "").strip()
    if not relation:
        raise ValidationError({"relation": [_("Say what the relation is.")]}, code="required")
    with transaction.atomic():
        profile = _lock_profile(profile)
        _require_profile_editor(actor, profile)
        code, matched = _registry_match(
            uscc=organization_uscc, organization=organization, field="organization_uscc"
        )
        row = AssessorRelation(
            profile=profile,
            organization_name=(organization_name or "").strip()
            or (matched.name if matched else ""),
            organization_uscc=code,
            organization=matched,
            relation=relation,
        )
        row.full_clean(exclude=["profile", "organization"])
        row.save()
        _profile_audit(
            actor=actor,
            profile=profile,
            change="relation_added",
            relation={
                "id": row.pk,
                "organization": row.organization_name,
                "uscc": row.organization_uscc,
                "organization_id": row.organization_id,
                "relation": row.relation,
            },
        )
    return row


def assessor_relation_end(*, relation: AssessorRelation, actor: User) -> None:
    """Withdraw a declared relation that no longer holds (the audit log keeps it)."""
    with transaction.atomic():
        profile = _lock_profile(relation.profile)
        _require_profile_editor(actor, profile)
        relation = AssessorRelation.objects.select_for_update().get(pk=relation.pk, profile=profile)
        _profile_audit(
            actor=actor,
            profile=profile,
            change="relation_ended",
            relation={
                "id": relation.pk,
                "organization": relation.organization_name,
                "uscc": relation.organization_uscc,
                "relation": relation.relation,
            },
        )
        relation.delete()
