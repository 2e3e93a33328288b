"""Every write to the organization registry.

Each service runs in one transaction, locks the rows it changes, checks the permission
predicate, calls the django-fsm transition, and writes one audit event per change.
Services raise ``ValidationError`` (bad input, with the field it concerns) or
``PermissionDenied`` (not allowed); nothing is saved when they raise.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, Role, User
from marketplace.notifications import email_user
from marketplace.services import user_create, user_role_assign
from orgs_registry import permissions
from orgs_registry.exit import open_commitments
from orgs_registry.identifiers import validate_id_number, validate_phone, validate_uscc
from orgs_registry.models import (
    CHANGEABLE_FACTS,
    GRADE_IN_FORCE,
    GRADE_ORDER,
    ChangeRequest,
    CreditEntry,
    CreditList,
    CreditMeasure,
    CreditMeasureKind,
    CreditProposal,
    CreditProposalStatus,
    DeregistrationInitiator,
    Employment,
    GradeAssessment,
    GradeAssessmentStatus,
    IndicatorScore,
    IndicatorSet,
    Organization,
    OrganizationStatus,
    Person,
    Qualification,
    ServiceCategory,
)
from orgs_registry.selectors import grade_current, grade_eligibility

NOTICE_DAYS = 7  # 公示 period for a grade result [cfg]
GRADE_VALIDITY_YEARS = 5  # 民政部令第39号
GRADE_MIN_YEARS_REGISTERED = 2

PROFILE_FIELDS = ("phone", "email", "description")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock(obj: Any) -> Any:
    """Re-read ``obj`` with a row lock for the rest of the transaction."""
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def _validated(instance: Any, *, exclude: Iterable[str] = ()) -> None:
    # FSM status fields are never input; django-fsm refuses full_clean's setattr on them.
    instance.full_clean(exclude=["status", "kind", *exclude])


# --- Organizations ----------------------------------------------------------------------------
def _apply_facts(organization: Organization, facts: Mapping[str, Any]) -> None:
    for field in facts:
        if field not in (*CHANGEABLE_FACTS, *PROFILE_FIELDS, "uscc", "categories"):
            raise ValidationError({field: _("This field cannot be set here.")}, code="unknown")
    for field, value in facts.items():
        if field == "categories":
            continue
        if field == "uscc":
            # An invalid code stays as typed: full_clean() reports the rule that failed.
            with contextlib.suppress(ValueError):
                value = validate_uscc(value)
        setattr(organization, field, value.strip() if isinstance(value, str) else value)


def organization_create(
    *,
    name: str,
    uscc: str,
    actor: User | None,
    verified: bool = False,
    **facts: Any,
) -> Organization:
    """Register an organization; ``verified`` creates it active (registry administrators).

    ``actor=None`` is the system itself (management commands, the demo); every page and
    API call passes the signed-in user, whose permission is checked.

    ``facts`` are the other registered and contact facts (``legal_representative``,
    ``address``, ``registration_date``, ``phone``, ``categories``...).
    Raises ``ValidationError`` for an invalid or already registered code.
    """
    if actor is not None and verified:
        _require(permissions.can_create_verified_organization(actor))
    categories = list(facts.pop("categories", []) or [])
    with transaction.atomic():
        organization = Organization()
        _apply_facts(organization, {"name": name, "uscc": uscc, **facts})
        _validated(organization)
        if verified:
            fire(organization, "activate")
            organization.verified_at = timezone.now()
            organization.verified_by = actor
        organization.save()
        organization.categories.set(categories)
        audit_record(
            action=AuditAction.ORG_CREATED if verified else AuditAction.ORG_REGISTERED,
            actor=actor,
            obj=organization,
            state_after=organization.status,
            details={
                "name": organization.name,
                "uscc": organization.uscc,
                "categories": sorted(c.code for c in categories),
            },
        )
    return organization


def organization_register(*, user: User, name: str, uscc: str, **facts: Any) -> Organization:
    """Self-registration: a signed-in person without a role registers an organization.

    The organization waits for verification by the registry; the caller becomes its
    administrator at once, so that they can follow the registration and answer it.
    """
    _require(permissions.can_register_organization(user))
    with transaction.atomic():
        organization = organization_create(name=name, uscc=uscc, actor=user, **facts)
        user_role_assign(user=user, role=Role.ORG_ADMIN, organization=organization, actor=user)
    return organization


def organization_register_with_account(
    *,
    username: str,
    password: str,
    account_email: str,
    full_name: str,
    name: str,
    uscc: str,
    **facts: Any,
) -> tuple[Organization, User]:
    """A visitor registers an organization and its first administrator account at once.

    Both are saved or neither: an invalid code, a taken username or a weak password
    leaves nothing behind.
    """
    with transaction.atomic():
        organization = organization_create(name=name, uscc=uscc, actor=None, **facts)
        user = user_create(
            username=username,
            role=Role.ORG_ADMIN,
            password=password,
            actor=None,
            organization=organization,
            email=account_email,
            full_name=full_name,
        )
    return organization, user


def organization_verify(*, organization: Organization, actor: User) -> Organization:
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_verify_organization(actor, organization))
        before = organization.status
        fire(organization, "activate")
        organization.verified_at = timezone.now()
        organization.verified_by = actor
        organization.rejection_reason = ""
        organization.save()
        audit_record(
            action=AuditAction.ORG_VERIFIED,
            actor=actor,
            obj=organization,
            state_before=before,
            state_after=organization.status,
        )
    return organization


def organization_reject(*, organization: Organization, actor: User, reason: str) -> Organization:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the registration is rejected.")})
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_verify_organization(actor, organization))
        before = organization.status
        fire(organization, "reject")
        organization.rejection_reason = reason.strip()
        organization.save()
        audit_record(
            action=AuditAction.ORG_REJECTED,
            actor=actor,
            obj=organization,
            state_before=before,
            state_after=organization.status,
            details={"reason": organization.rejection_reason},
        )
    return organization


def organization_resubmit(*, organization: Organization, actor: User, **facts: Any) -> Organization:
    """Correct a rejected registration (any registered fact, the code too) and send it back."""
    categories = facts.pop("categories", None)
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_resubmit_organization(actor, organization))
        before = organization.status
        _apply_facts(organization, facts)
        _validated(organization)
        fire(organization, "resubmit")
        organization.save()
        if categories is not None:
            organization.categories.set(categories)
        audit_record(
            action=AuditAction.ORG_RESUBMITTED,
            actor=actor,
            obj=organization,
            state_before=before,
            state_after=organization.status,
            details={"changed": sorted(facts)},
        )
    return organization


def organization_profile_update(
    *,
    organization: Organization,
    actor: User,
    categories: Iterable[ServiceCategory] | None = None,
    **profile: Any,
) -> Organization:
    """Contact details, description and service categories: no registry decision needed."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(
            {field: _("This field cannot be set here.") for field in sorted(unknown)}
        )
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_edit_organization_profile(actor, organization))
        before = {field: getattr(organization, field) for field in profile}
        before_categories = sorted(organization.categories.values_list("code", flat=True))
        _apply_facts(organization, profile)
        _validated(organization)
        organization.save()
        after_categories = before_categories
        if categories is not None:
            categories = list(categories)
            organization.categories.set(categories)
            after_categories = sorted(c.code for c in categories)
        changed = {
            field: {"before": before[field], "after": getattr(organization, field)}
            for field in profile
            if before[field] != getattr(organization, field)
        }
        if after_categories != before_categories:
            changed["categories"] = {"before": before_categories, "after": after_categories}
        if changed:
            audit_record(
                action=AuditAction.ORG_PROFILE_UPDATED,
                actor=actor,
                obj=organization,
                details={"changed": changed},
            )
    return organization


def change_request_create(
    *, organization: Organization, actor: User, changes: Mapping[str, Any], reason: str
) -> ChangeRequest:
    """Ask the registry to change registered facts (name, legal representative, ...)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the registered facts change.")})
    unknown = sorted(set(changes) - set(CHANGEABLE_FACTS))
    if unknown:
        raise ValidationError(
            {field: _("This is not a registered fact that can change.") for field in unknown}
        )
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_request_change(actor, organization))
        # Validate the requested values on a copy, the way they would be saved.
        proposed = Organization.objects.get(pk=organization.pk)
        _apply_facts(proposed, changes)
        _validated(proposed)
        effective = {
            field: getattr(proposed, field)
            for field in changes
            if getattr(proposed, field) != getattr(organization, field)
        }
        if not effective:
            raise ValidationError(
                _("The requested values are the same as the registered ones."), code="no_change"
            )
        change_request = ChangeRequest(
            organization=organization,
            changes=effective,
            previous={field: getattr(organization, field) for field in effective},
            reason=reason.strip(),
            requested_by=actor,
        )
        change_request.save()
        audit_record(
            action=AuditAction.ORG_CHANGE_REQUESTED,
            actor=actor,
            obj=change_request,
            state_after=change_request.status,
            details={"organization": organization.pk, "changes": change_request.changes},
        )
    return change_request


def change_request_decide(
    *, change_request: ChangeRequest, actor: User, approve: bool, note: str = ""
) -> ChangeRequest:
    """Approve (and apply) or reject a change request."""
    if not approve and not note.strip():
        raise ValidationError({"note": _("Say why the change is rejected.")})
    with transaction.atomic():
        change_request = _lock(change_request)
        _require(permissions.can_decide_change_request(actor, change_request))
        before = change_request.status
        if approve:
            organization = _lock(change_request.organization)
            _apply_facts(organization, change_request.changes)
            _validated(organization)
            organization.save()
            fire(change_request, "approve")
        else:
            fire(change_request, "reject")
        change_request.decided_by = actor
        change_request.decided_at = timezone.now()
        change_request.decision_note = note.strip()
        change_request.save()
        audit_record(
            action=AuditAction.ORG_CHANGE_APPROVED if approve else AuditAction.ORG_CHANGE_REJECTED,
            actor=actor,
            obj=change_request,
            state_before=before,
            state_after=change_request.status,
            details={
                "organization": change_request.organization_id,
                "changes": change_request.changes,
                "note": change_request.decision_note,
            },
        )
    return change_request


# --- Exit (注销退出) ------------------------------------------------------------------------------
def organization_deregistration_start(
    *, organization: Organization, actor: User, reason: str
) -> Organization:
    """Start deregistration: requested by the organization or ordered by the registry.

    From now on the organization may not bid; it completes once every open bid and
    contract is settled.
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the organization leaves the register.")})
    with transaction.atomic():
        organization = _lock(organization)
        if permissions.can_order_deregistration(actor, organization):
            initiator = DeregistrationInitiator.REGISTRY
        elif permissions.can_request_deregistration(actor, organization):
            initiator = DeregistrationInitiator.ORGANIZATION
        else:
            raise PermissionDenied
        organization.deregistration_requested_at = timezone.now()
        organization.deregistration_initiator = initiator
        organization.deregistration_reason = reason.strip()
        organization.save()
        audit_record(
            action=AuditAction.ORG_DEREGISTRATION_STARTED,
            actor=actor,
            obj=organization,
            details={"initiator": initiator, "reason": organization.deregistration_reason},
        )
    return organization


def organization_deregistration_withdraw(
    *, organization: Organization, actor: User
) -> Organization:
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_withdraw_deregistration(actor, organization))
        organization.deregistration_requested_at = None
        organization.deregistration_initiator = ""
        organization.deregistration_reason = ""
        organization.save()
        audit_record(action=AuditAction.ORG_DEREGISTRATION_WITHDRAWN, actor=actor, obj=organization)
    return organization


def organization_deregistration_complete(
    *, organization: Organization, actor: User
) -> Organization:
    """Deregister, refused while any bid or contract is still open (they are listed)."""
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_complete_deregistration(actor, organization))
        pending = open_commitments(organization)
        if pending:
            raise ValidationError(
                _("Settle these first: %(items)s")
                % {"items": "; ".join(str(item.label) for item in pending)},
                code="open_commitments",
            )
        before = organization.status
        fire(organization, "deregister")
        organization.deregistered_at = timezone.now()
        organization.save()
        audit_record(
            action=AuditAction.ORG_DEREGISTERED,
            actor=actor,
            obj=organization,
            state_before=before,
            state_after=organization.status,
        )
    return organization


# --- People and rosters -----------------------------------------------------------------------
def normalize_person_name(name: str) -> str:
    """Fold full-width characters and drop spaces: 张 三 and 张三 are one name."""
    folded = unicodedata.normalize("NFKC", name or "").strip()
    return folded if any(c.isascii() and c.isalpha() for c in folded) else folded.replace(" ", "")


@dataclass(frozen=True)
class StaffInput:
    """One person to put on a roster (a form, an API call or a spreadsheet row)."""

    name: str
    id_number: str
    role: str
    start_date: date
    weekly_hours: Decimal = Decimal("40")
    end_date: date | None = None
    phone: str = ""
    qualification: str = ""
    certificate_number: str = ""
    certified_on: date | None = None


def _person_for(data: StaffInput) -> tuple[Person, bool]:
    """Find the person by ID number or record them; the name must match the record."""
    try:
        number = validate_id_number(data.id_number)
    except ValueError as exc:
        raise ValidationError({"id_number": str(exc)}, code="invalid_id_number") from exc
    name = normalize_person_name(data.name)
    if not name:
        raise ValidationError({"name": _("The name is required.")}, code="required")
    phone = data.phone.strip()
    if phone:
        try:
            phone = validate_phone(phone)
        except ValueError as exc:
            raise ValidationError({"phone": str(exc)}, code="invalid_phone") from exc
    person = Person.objects.select_for_update().filter(id_number=number).first()
    if person is not None:
        if normalize_person_name(person.name) != name:
            raise ValidationError(
                {"name": _("The name does not match the record for this ID number.")},
                code="name_mismatch",
            )
        if phone and not person.phone:
            # Collected once: a number given later fills the gap, it never overwrites.
            person.phone = phone
            person.save(update_fields=["phone"])
        return person, False
    person = Person(name=name, id_number=number, phone=phone)
    person.full_clean(exclude=["birth_date", "sex"])
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # Recorded by a concurrent request a moment ago: use that record.
        return _person_for(data)
    return person, True


def _qualification_set(
    *, person: Person, level: str, certificate_number: str, certified_on: date | None
) -> Qualification:
    qualification = Qualification.objects.filter(person=person, level=level).first() or (
        Qualification(person=person, level=level)
    )
    qualification.certificate_number = certificate_number.strip()
    qualification.certified_on = certified_on
    qualification.full_clean(exclude=["person"])
    qualification.save()
    return qualification


def staff_add(*, organization: Organization, actor: User, data: StaffInput) -> Employment:
    """Put a person on the organization's roster (recording them once, by ID number)."""
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_manage_roster(actor, organization))
        person, _created = _person_for(data)
        employment = Employment(
            person=person,
            organization=organization,
            role=data.role.strip(),
            weekly_hours=data.weekly_hours,
            start_date=data.start_date,
            end_date=data.end_date,
        )
        employment.full_clean(exclude=["person", "organization"])
        try:
            with transaction.atomic():
                employment.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"id_number": _("This person already works for the organization.")},
                code="duplicate",
            ) from exc
        if data.qualification:
            _qualification_set(
                person=person,
                level=data.qualification,
                certificate_number=data.certificate_number,
                certified_on=data.certified_on,
            )
        audit_record(
            action=AuditAction.STAFF_ADDED,
            actor=actor,
            obj=employment,
            details={
                "organization": organization.pk,
                "person": person.pk,
                "role": employment.role,
                "qualification": data.qualification or None,
                "certificate_number": data.certificate_number or None,
            },
        )
    return employment


def staff_update(
    *,
    employment: Employment,
    actor: User,
    role: str | None = None,
    weekly_hours: Decimal | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    clear_end_date: bool = False,
) -> Employment:
    """Change an employment's role, hours or dates (ending it sets ``end_date``)."""
    with transaction.atomic():
        employment = _lock(employment)
        _require(permissions.can_manage_roster(actor, employment.organization))
        before = {
            "role": employment.role,
            "weekly_hours": employment.weekly_hours,
            "start_date": employment.start_date,
            "end_date": employment.end_date,
        }
        if role is not None:
            employment.role = role.strip()
        if weekly_hours is not None:
            employment.weekly_hours = weekly_hours
        if start_date is not None:
            employment.start_date = start_date
        if end_date is not None:
            employment.end_date = end_date
        if clear_end_date:
            employment.end_date = None
        employment.full_clean(exclude=["person", "organization"])
        try:
            with transaction.atomic():
                employment.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"end_date": _("This person already works for the organization.")},
                code="duplicate",
            ) from exc
        changed = {
            field: {"before": value, "after": getattr(employment, field)}
            for field, value in before.items()
            if value != getattr(employment, field)
        }
        if changed:
            audit_record(
                action=AuditAction.STAFF_UPDATED,
                actor=actor,
                obj=employment,
                details={"organization": employment.organization_id, "changed": changed},
            )
    return employment


def staff_qualification_record(
    *,
    organization: Organization,
    person: Person,
    actor: User,
    level: str,
    certificate_number: str = "",
    certified_on: date | None = None,
) -> Qualification:
    """Record a qualification of a person on the organization's roster."""
    with transaction.atomic():
        _require(permissions.can_manage_roster(actor, organization))
        if not Employment.objects.filter(person=person, organization=organization).exists():
            raise PermissionDenied
        qualification = _qualification_set(
            person=person,
            level=level,
            certificate_number=certificate_number,
            certified_on=certified_on,
        )
        audit_record(
            action=AuditAction.STAFF_QUALIFICATION_RECORDED,
            actor=actor,
            obj=qualification,
            details={"person": person.pk, "level": level, "organization": organization.pk},
        )
    return qualification


# --- Grades -----------------------------------------------------------------------------------
def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def indicator_set_cutoffs_set(
    *, indicator_set: IndicatorSet, actor: User, cutoffs: Mapping[str, int]
) -> IndicatorSet:
    """Change the minimum points per grade [cfg]; past assessments keep their result."""
    unknown = sorted(set(cutoffs) - set(GRADE_ORDER))
    if unknown:
        raise ValidationError({grade: _("Not a grade.") for grade in unknown}, code="unknown_grade")
    with transaction.atomic():
        indicator_set = _lock(indicator_set)
        _require(permissions.can_administer_grades(actor))
        before = indicator_set.cutoff_table()
        indicator_set.cutoffs = {**before, **{g: int(v) for g, v in cutoffs.items()}}
        problems = indicator_set.problems()
        if problems:
            raise ValidationError({"cutoffs": problems}, code="invalid_cutoffs")
        indicator_set.save(update_fields=["cutoffs"])
        audit_record(
            action=AuditAction.GRADE_CUTOFFS_CHANGED,
            actor=actor,
            obj=indicator_set,
            details={"before": before, "after": indicator_set.cutoffs},
        )
    return indicator_set


def grade_request(*, organization: Organization, actor: User) -> GradeAssessment:
    """Ask for a grade assessment; refused with the reasons when not eligible."""
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_request_grade(actor, organization))
        problems = grade_eligibility(organization, on=timezone.localdate())
        if problems:
            raise ValidationError([str(p) for p in problems], code="not_eligible")
        indicator_set = IndicatorSet.objects.filter(kind=organization.kind, is_current=True).first()
        if indicator_set is None:
            raise ValidationError(
                _("No indicator set is in use for this kind of organization."),
                code="no_indicator_set",
            )
        assessment = GradeAssessment(
            organization=organization, indicator_set=indicator_set, requested_by=actor
        )
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_REQUESTED,
            actor=actor,
            obj=assessment,
            state_after=assessment.status,
            details={"organization": organization.pk, "indicator_set": indicator_set.pk},
        )
    return assessment


def grade_assessor_conflict(assessor: User, organization: Organization) -> str | None:
    """Why ``assessor`` is not independent of ``organization``, in the actor's language, or
    None. The panel rules of DESIGN 4.4 apply with the organization as the one party:
    employed by it within the conflict years, or a declared relation with it. The purchasing
    unit and same-agency rules concern tenders, not grades."""
    # Imported here: the evaluation services read the registry, not the other way round.
    from evaluation.models import AssessorProfile
    from evaluation.rules import CONFLICT_YEARS
    from evaluation.services.panels import (
        EMPLOYED_BY_BIDDER,
        INACTIVE,
        RELATION_WITH_BIDDER,
        Bidders,
        conflict_of,
    )

    profile = (
        AssessorProfile.objects.select_related("user")
        .prefetch_related("employments", "relations")
        .filter(user_id=assessor.pk)
        .first()
    )
    if profile is None:  # nothing declared, nothing to conflict with
        return None
    party = Bidders(
        ids=frozenset({organization.pk}),
        names={organization.pk: organization.name},
        by_uscc={organization.uscc: organization.name} if organization.uscc else {},
    )
    conflict = conflict_of(profile, bidders=party, today=timezone.localdate(), panel_agencies=set())
    labels = {
        INACTIVE: _("not an active assessor"),
        EMPLOYED_BY_BIDDER: _("employed by the organization within the last %(years)s years")
        % {"years": CONFLICT_YEARS},
        RELATION_WITH_BIDDER: _("a declared relation with the organization"),
    }
    if conflict is None or conflict.reason not in labels:
        return None
    return f"{labels[conflict.reason]} ({conflict.detail})"


def grade_assign(*, assessment: GradeAssessment, actor: User, assessor: User) -> GradeAssessment:
    """The registry assigns an assessor independent of the organization (DESIGN 4.4 rules)."""
    if assessor.role != Role.ASSESSOR or not assessor.is_active:
        raise ValidationError({"assessor": _("Choose an active assessor.")}, code="invalid")
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_administer_grades(actor, assessment))
        conflict = grade_assessor_conflict(assessor, assessment.organization)
        if conflict is not None:
            raise ValidationError(
                {
                    "assessor": _("%(name)s cannot assess this organization: %(conflict)s.")
                    % {"name": assessor.get_full_name(), "conflict": conflict}
                },
                code="conflict",
            )
        before = assessment.status
        fire(assessment, "assign")
        assessment.assessor = assessor
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_ASSIGNED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={"assessor": assessor.username},
        )
    return assessment


def _scores_save(assessment: GradeAssessment, scores: Mapping[str, tuple[Decimal, str]]) -> Decimal:
    """Store scores by indicator code; return the total over all stored scores."""
    indicators = {i.code: i for i in assessment.indicator_set.indicators.all()}
    errors: dict[str, str] = {}
    for code, (score, _note) in scores.items():
        indicator = indicators.get(code)
        if indicator is None:
            errors[code] = _("Unknown indicator.")
        elif not (0 <= score <= indicator.max_points):
            errors[code] = _("The score must be between 0 and %(max)s.") % {
                "max": indicator.max_points
            }
    if errors:
        raise ValidationError(errors, code="invalid_score")
    for code, (score, note) in scores.items():
        IndicatorScore.objects.update_or_create(
            assessment=assessment,
            indicator=indicators[code],
            defaults={"score": score, "note": note.strip()[:500]},
        )
    return sum(
        (s.score for s in IndicatorScore.objects.filter(assessment=assessment)), Decimal("0")
    )


def grade_scores_save(
    *,
    assessment: GradeAssessment,
    actor: User,
    scores: Mapping[str, tuple[Decimal, str]],
    comment: str | None = None,
) -> GradeAssessment:
    """The assessor saves scores (a draft until proposed)."""
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_score_grade(actor, assessment))
        assessment.total_score = _scores_save(assessment, scores)
        if comment is not None:
            assessment.assessor_comment = comment.strip()
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_SCORED,
            actor=actor,
            obj=assessment,
            details={"scores": {code: str(score) for code, (score, _n) in scores.items()}},
        )
    return assessment


def grade_for_score(total: Decimal, cutoffs: Mapping[str, int]) -> str:
    """The highest grade whose cut-off the total reaches, or '' below 1A."""
    for grade in reversed(GRADE_ORDER):
        if total >= cutoffs[grade]:
            return grade
    return ""


def grade_propose(*, assessment: GradeAssessment, actor: User) -> GradeAssessment:
    """The assessor submits: every indicator scored, total and proposed grade computed."""
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_score_grade(actor, assessment))
        # Checked again: an employment or relation may have been recorded since assignment.
        conflict = grade_assessor_conflict(actor, assessment.organization)
        if conflict is not None:
            raise ValidationError(
                _(
                    "You are not independent of this organization: %(conflict)s. Ask the "
                    "registry to assign another assessor."
                )
                % {"conflict": conflict},
                code="conflict",
            )
        missing = assessment.indicator_set.indicators.exclude(
            pk__in=IndicatorScore.objects.filter(assessment=assessment).values("indicator")
        )
        if missing.exists():
            raise ValidationError(
                _("Score every indicator first; missing: %(codes)s")
                % {"codes": ", ".join(missing.values_list("code", flat=True))},
                code="incomplete",
            )
        before = assessment.status
        assessment.total_score = sum((s.score for s in assessment.scores.all()), Decimal("0"))
        assessment.proposed_grade = grade_for_score(
            assessment.total_score, assessment.indicator_set.cutoff_table()
        )
        fire(assessment, "propose")
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_PROPOSED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={
                "total": str(assessment.total_score),
                "proposed_grade": assessment.proposed_grade,
            },
        )
    return assessment


def grade_publicize(
    *, assessment: GradeAssessment, actor: User, days: int = NOTICE_DAYS
) -> GradeAssessment:
    """Put the proposed result on public notice for ``days`` calendar days."""
    if days < 1:
        raise ValidationError({"days": _("The notice period is at least one day.")})
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_administer_grades(actor, assessment))
        before = assessment.status
        fire(assessment, "publicize")
        assessment.notice_starts = timezone.localdate()
        assessment.notice_ends = assessment.notice_starts + timedelta(days=days)
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_PUBLICIZED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={"notice_ends": assessment.notice_ends},
        )
    return assessment


def grade_review_request(
    *, assessment: GradeAssessment, actor: User, reason: str
) -> GradeAssessment:
    """The organization contests the result during the notice period."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say what should be reviewed.")})
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_request_grade_review(actor, assessment))
        if assessment.notice_ends and timezone.localdate() > assessment.notice_ends:
            raise ValidationError(
                _("The notice period ended on %(day)s; reviews can no longer be requested.")
                % {"day": assessment.notice_ends},
                code="notice_over",
            )
        before = assessment.status
        fire(assessment, "request_review")
        assessment.review_reason = reason.strip()
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_REVIEW_REQUESTED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={"reason": assessment.review_reason},
        )
    return assessment


def grade_review_conclude(
    *,
    assessment: GradeAssessment,
    actor: User,
    conclusion: str,
    scores: Mapping[str, tuple[Decimal, str]] | None = None,
) -> GradeAssessment:
    """Answer a review request, correcting scores when the review finds them wrong."""
    if not conclusion.strip():
        raise ValidationError({"conclusion": _("Write the review's conclusion.")})
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_administer_grades(actor, assessment))
        before = assessment.status
        previous = (assessment.total_score, assessment.proposed_grade)
        if scores:
            assessment.total_score = _scores_save(assessment, scores)
            assessment.proposed_grade = grade_for_score(
                assessment.total_score, assessment.indicator_set.cutoff_table()
            )
        fire(assessment, "conclude_review")
        assessment.review_conclusion = conclusion.strip()
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_REVIEWED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={
                "before": {"total": str(previous[0]), "grade": previous[1]},
                "after": {
                    "total": str(assessment.total_score),
                    "grade": assessment.proposed_grade,
                },
            },
        )
    return assessment


def grade_confirm(*, assessment: GradeAssessment, actor: User) -> GradeAssessment:
    """Confirm after the notice period; the grade holds five years and replaces older ones."""
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_administer_grades(actor, assessment))
        today = timezone.localdate()
        if (
            assessment.status == GradeAssessmentStatus.PUBLICIZED
            and assessment.notice_ends
            and today <= assessment.notice_ends
        ):
            raise ValidationError(
                _("The public notice runs until %(day)s; confirm after it ends.")
                % {"day": assessment.notice_ends},
                code="notice_running",
            )
        before = assessment.status
        fire(assessment, "confirm")
        assessment.grade = assessment.proposed_grade
        assessment.valid_from = today
        assessment.valid_until = _add_years(today, GRADE_VALIDITY_YEARS) - timedelta(days=1)
        assessment.confirmed_by = actor
        assessment.save()
        for older in (
            GradeAssessment.objects.select_for_update()
            .filter(organization=assessment.organization_id, status__in=GRADE_IN_FORCE)
            .exclude(pk=assessment.pk)
        ):
            _grade_expire(older, actor=actor, reason="replaced")
        audit_record(
            action=AuditAction.GRADE_CONFIRMED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={"grade": assessment.grade, "valid_until": assessment.valid_until},
        )
    return assessment


def _grade_expire(assessment: GradeAssessment, *, actor: User | None, reason: str) -> None:
    before = assessment.status
    fire(assessment, "expire")
    assessment.save()
    audit_record(
        action=AuditAction.GRADE_EXPIRED,
        actor=actor,
        obj=assessment,
        state_before=before,
        state_after=assessment.status,
        details={"reason": reason, "grade": assessment.grade},
    )


def grades_expire(*, today: date | None = None) -> int:
    """Expire every grade whose validity ended before ``today``; return how many."""
    today = today or timezone.localdate()
    count = 0
    with transaction.atomic():
        for assessment in GradeAssessment.objects.select_for_update().filter(
            status__in=GRADE_IN_FORCE, valid_until__lt=today
        ):
            _grade_expire(assessment, actor=None, reason="validity ended")
            count += 1
    return count


def grade_downgrade(*, assessment: GradeAssessment, actor: User, reason: str) -> GradeAssessment:
    """One level down (failed annual inspection, penalty); below 1A the grade is cancelled."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the grade drops.")})
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_administer_grades(actor, assessment))
        if not assessment.in_force_on(timezone.localdate()):
            raise ValidationError(
                _("Only a grade in force can be downgraded."), code="not_in_force"
            )
        level = GRADE_ORDER.index(assessment.grade)
        if level == 0:
            return _grade_cancel(assessment, actor=actor, reason=reason)
        before, previous_grade = assessment.status, assessment.grade
        fire(assessment, "downgrade")
        assessment.grade = GRADE_ORDER[level - 1]
        assessment.change_reason = reason.strip()
        assessment.save()
        audit_record(
            action=AuditAction.GRADE_DOWNGRADED,
            actor=actor,
            obj=assessment,
            state_before=before,
            state_after=assessment.status,
            details={"from": previous_grade, "to": assessment.grade, "reason": reason.strip()},
        )
    return assessment


def _grade_cancel(assessment: GradeAssessment, *, actor: User, reason: str) -> GradeAssessment:
    before = assessment.status
    fire(assessment, "cancel")
    assessment.change_reason = reason.strip()
    assessment.save()
    audit_record(
        action=AuditAction.GRADE_CANCELLED,
        actor=actor,
        obj=assessment,
        state_before=before,
        state_after=assessment.status,
        details={"grade": assessment.grade, "reason": reason.strip()},
    )
    return assessment


def grade_cancel(*, assessment: GradeAssessment, actor: User, reason: str) -> GradeAssessment:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the grade is cancelled.")})
    with transaction.atomic():
        assessment = _lock(assessment)
        _require(permissions.can_administer_grades(actor, assessment))
        return _grade_cancel(assessment, actor=actor, reason=reason)


# --- Credit -----------------------------------------------------------------------------------
def _set_org_status(organization: Organization, *, actor: User, transition: str) -> None:
    before = organization.status
    fire(organization, transition)
    organization.save()
    audit_record(
        action=AuditAction.ORG_STATUS_CHANGED,
        actor=actor,
        obj=organization,
        state_before=before,
        state_after=organization.status,
    )


def credit_entry_add(
    *,
    organization: Organization,
    actor: User,
    credit_list: str,
    reason: str,
    source: str,
    listed_on: date,
    removal_due: date | None = None,
) -> CreditEntry:
    """Put an organization on a credit list; the abnormal list also changes its status."""
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_manage_credit(actor, organization))
        entry = CreditEntry(
            organization=organization,
            credit_list=credit_list,
            reason=reason.strip(),
            source=source.strip(),
            listed_on=listed_on,
            removal_due=removal_due,
            created_by=actor,
        )
        entry.full_clean(exclude=["organization", "created_by"])
        entry.save()
        audit_record(
            action=AuditAction.CREDIT_ENTRY_ADDED,
            actor=actor,
            obj=entry,
            details={
                "organization": organization.pk,
                "list": credit_list,
                "reason": entry.reason,
            },
        )
        if credit_list == CreditList.ABNORMAL and organization.status == OrganizationStatus.ACTIVE:
            _set_org_status(organization, actor=actor, transition="mark_abnormal")
    return entry


def credit_entry_remove(
    *, entry: CreditEntry, actor: User, reason: str, removed_on: date | None = None
) -> CreditEntry:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the entry is removed.")})
    with transaction.atomic():
        entry = _lock(entry)
        organization = _lock(entry.organization)
        _require(permissions.can_manage_credit(actor, organization))
        if entry.removed_on is not None:
            raise ValidationError(_("This entry was already removed."), code="removed")
        entry.removed_on = removed_on or timezone.localdate()
        entry.removal_reason = reason.strip()
        entry.full_clean(exclude=["organization", "created_by"])
        if entry.removed_on < entry.listed_on:
            raise ValidationError({"removed_on": _("Removal cannot precede listing.")})
        entry.save()
        audit_record(
            action=AuditAction.CREDIT_ENTRY_REMOVED,
            actor=actor,
            obj=entry,
            details={"organization": organization.pk, "list": entry.credit_list, "reason": reason},
        )
        still_abnormal = CreditEntry.objects.filter(
            organization=organization, credit_list=CreditList.ABNORMAL, removed_on__isnull=True
        ).exists()
        if organization.status == OrganizationStatus.ABNORMAL and not still_abnormal:
            _set_org_status(organization, actor=actor, transition="clear_abnormal")
    return entry


def credit_measure_add(
    *,
    organization: Organization,
    actor: User,
    kind: str,
    title: str,
    authority: str,
    decided_on: date,
    description: str = "",
    document_number: str = "",
    downgrade_grade: bool = False,
) -> CreditMeasure:
    """Record a reward or a penalty; a penalty may drop the current grade one level."""
    if downgrade_grade and kind != CreditMeasureKind.PENALTY:
        raise ValidationError(
            {"downgrade_grade": _("Only a penalty lowers the grade.")}, code="invalid"
        )
    with transaction.atomic():
        organization = _lock(organization)
        _require(permissions.can_manage_credit(actor, organization))
        measure = CreditMeasure(
            organization=organization,
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            authority=authority.strip(),
            decided_on=decided_on,
            document_number=document_number.strip(),
            created_by=actor,
        )
        measure.full_clean(exclude=["organization", "created_by"])
        measure.save()
        audit_record(
            action=AuditAction.CREDIT_MEASURE_ADDED,
            actor=actor,
            obj=measure,
            details={"organization": organization.pk, "kind": kind, "title": measure.title},
        )
        if downgrade_grade:
            current = grade_current(organization, on=timezone.localdate())
            if current is not None:
                grade_downgrade(
                    assessment=current,
                    actor=actor,
                    reason=_("Penalty: %(title)s") % {"title": measure.title},
                )
    return measure


# --- Credit proposals -------------------------------------------------------------------------
def _mail_registry_admins(template: str, context: dict[str, Any]) -> None:
    """Queue a message to every active registry administrator, each in their language."""
    for user in User.objects.filter(role=Role.REGISTRY_ADMIN, is_active=True).exclude(email=""):
        email_user(
            to=user.email,
            language=user.language,
            subject_template=f"orgs_registry/email/{template}_subject.txt",
            body_template=f"orgs_registry/email/{template}.txt",
            context={"user": user, "office": settings.STREET_OFFICE["name"], **context},
        )


def credit_proposal_create(
    *,
    organization: Organization,
    credit_list: str,
    reason: str,
    source: str,
    source_url: str = "",
    actor: User,
) -> CreditProposal:
    """Propose a credit-list entry for the registry administrator to confirm or reject.

    One open proposal per organization and source: a second call for the same source
    (the same evaluation graded poor twice, a retried request) returns the open one.
    """
    errors: dict[str, str] = {}
    if credit_list not in CreditList.values:
        errors["credit_list"] = _("Choose a credit list.")
    if not reason.strip():
        errors["reason"] = _("Say why the organization should be listed.")
    if not source.strip():
        errors["source"] = _("Name what raised the proposal.")
    if errors:
        raise ValidationError(errors, code="invalid")
    with transaction.atomic():
        # The organization's row lock serializes proposals for it, so two callers for
        # the same source cannot both find none open and both insert.
        organization = _lock(organization)
        _require(permissions.can_propose_credit_entry(actor, organization))
        existing = CreditProposal.objects.filter(
            organization=organization,
            source=source.strip(),
            status=CreditProposalStatus.PROPOSED,
        ).first()
        if existing is not None:
            return existing
        proposal = CreditProposal(
            organization=organization,
            credit_list=credit_list,
            reason=reason.strip(),
            source=source.strip(),
            source_url=source_url.strip(),
            proposed_by=actor,
            proposed_at=timezone.now(),
        )
        _validated(proposal, exclude=["organization", "proposed_by", "decided_by", "entry"])
        proposal.save()
        audit_record(
            action=AuditAction.CREDIT_PROPOSED,
            actor=actor,
            obj=proposal,
            state_after=proposal.status,
            details={
                "organization": organization.pk,
                "list": credit_list,
                "reason": proposal.reason,
                "source": proposal.source,
            },
        )
        _mail_registry_admins("credit_proposed", {"proposal": proposal})
    return proposal


def credit_proposal_decide(
    *, proposal: CreditProposal, actor: User, confirm: bool, note: str = ""
) -> CreditProposal:
    """The registry administrator confirms a proposal (the entry is listed through
    ``credit_entry_add``, with its list, reason and source) or rejects it with a note."""
    if not confirm and not note.strip():
        raise ValidationError({"note": _("Say why the proposal is rejected.")}, code="required")
    with transaction.atomic():
        proposal = _lock(proposal)
        # The role is checked apart from the state: a decided proposal is a bad request
        # (the transition names its state), not a forbidden one.
        _require(permissions.is_registry_admin(actor))
        before = proposal.status
        if confirm:
            fire(proposal, "confirm")
            proposal.entry = credit_entry_add(
                organization=proposal.organization,
                actor=actor,
                credit_list=proposal.credit_list,
                reason=proposal.reason,
                source=proposal.source,
                listed_on=timezone.localdate(),
            )
        else:
            fire(proposal, "reject")
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        proposal.decision_note = note.strip()
        _validated(proposal, exclude=["organization", "proposed_by", "decided_by", "entry"])
        proposal.save()
        audit_record(
            action=AuditAction.CREDIT_PROPOSAL_CONFIRMED
            if confirm
            else AuditAction.CREDIT_PROPOSAL_REJECTED,
            actor=actor,
            obj=proposal,
            state_before=before,
            state_after=proposal.status,
            details={
                "organization": proposal.organization_id,
                "list": proposal.credit_list,
                "entry": proposal.entry_id,
                "note": proposal.decision_note,
            },
        )
        _mail_organization_admins(proposal)
    return proposal


def _mail_organization_admins(proposal: CreditProposal) -> None:
    """Tell the organization's administrators how the registry decided a proposal about it."""
    admins = User.objects.filter(
        organization_id=proposal.organization_id, role=Role.ORG_ADMIN, is_active=True
    ).exclude(email="")
    for user in admins:
        email_user(
            to=user.email,
            language=user.language,
            subject_template="orgs_registry/email/credit_proposal_decided_subject.txt",
            body_template="orgs_registry/email/credit_proposal_decided.txt",
            context={
                "user": user,
                "proposal": proposal,
                "office": settings.STREET_OFFICE["name"],
            },
        )
