"""Reads of the organization registry, scoped to the user.

``organization_*_for_user`` and ``staff_*_for_user`` are the only way views reach an
organization's own records: what is not yours raises ``Http404``, exactly like what
does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from evaluation.models import PerformanceEvaluation
from marketplace.models import Role, User
from marketplace.permissions import has_role
from orgs_registry import permissions
from orgs_registry.filters import CreditEntryFilter, OrganizationFilter
from orgs_registry.identifiers import normalize_code
from orgs_registry.models import (
    EXCLUDED_FUNDING_TYPES,
    GRADE_IN_FORCE,
    GRADE_OPEN,
    ChangeRequest,
    ChangeRequestStatus,
    CreditEntry,
    CreditList,
    CreditMeasure,
    CreditProposal,
    CreditProposalStatus,
    Employment,
    FundingType,
    GradeAssessment,
    Organization,
    OrganizationStatus,
    Person,
    Qualification,
    ServiceCategory,
)
from tenders.models import PUBLIC_CONTRACT_STATES, Contract, PerformanceGrade

PUBLIC_STATUSES = (
    OrganizationStatus.ACTIVE,
    OrganizationStatus.ABNORMAL,
    OrganizationStatus.DEREGISTERED,
)


def organization_get_by_uscc(*, uscc: str) -> Organization | None:
    """Return the organization registered under ``uscc`` (normalized), if any."""
    return Organization.objects.filter(uscc=normalize_code(uscc)).first()


def service_category_list() -> QuerySet[ServiceCategory]:
    """The whole service catalogue in display order."""
    return ServiceCategory.objects.all()


# --- Grades -----------------------------------------------------------------------------------
def _in_force_q(prefix: str = "", *, on: date) -> Q:
    return Q(
        **{
            f"{prefix}status__in": list(GRADE_IN_FORCE),
            f"{prefix}valid_from__lte": on,
            f"{prefix}valid_until__gte": on,
        }
    ) & ~Q(**{f"{prefix}grade": ""})


def grade_current(organization: Organization, *, on: date | None = None) -> GradeAssessment | None:
    """The grade in force on ``on`` (today): what every other part of the system reads."""
    on = on or timezone.localdate()
    return (
        GradeAssessment.objects.filter(_in_force_q(on=on), organization=organization)
        .order_by("-valid_from", "-pk")
        .first()
    )


def with_current_grade(queryset: QuerySet[Organization], *, on: date | None = None) -> QuerySet:
    """Annotate ``current_grade`` (or None) in the same query, for lists and filters."""
    on = on or timezone.localdate()
    grades = (
        GradeAssessment.objects.filter(_in_force_q(on=on), organization=OuterRef("pk"))
        .order_by("-valid_from", "-pk")
        .values("grade")[:1]
    )
    return queryset.annotate(current_grade=Subquery(grades))


def _active_credit(credit_list: str) -> Exists:
    return Exists(
        CreditEntry.objects.filter(
            organization=OuterRef("pk"), credit_list=credit_list, removed_on__isnull=True
        )
    )


def grade_eligibility(organization: Organization, *, on: date) -> list[str | Promise]:
    """Why the organization may not request a grade assessment now (empty: it may).

    民政部令第39号: two full years after registration, or the last grade has expired; not
    while on a credit list; one assessment at a time.
    """
    problems: list[str | Promise] = []
    if organization.status not in (OrganizationStatus.ACTIVE,):
        problems.append(_("Only an active organization, not on a credit list, can be graded."))
    if CreditEntry.objects.filter(organization=organization, removed_on__isnull=True).exists():
        problems.append(_("The organization is on a credit list."))
    if GradeAssessment.objects.filter(
        organization=organization, status__in=list(GRADE_OPEN)
    ).exists():
        problems.append(_("A grade assessment is already in progress."))
    current = grade_current(organization, on=on)
    if current is not None:
        problems.append(
            _("The current grade %(grade)s is valid until %(day)s.")
            % {"grade": current.grade, "day": current.valid_until}
        )
    ever_graded = GradeAssessment.objects.filter(
        organization=organization, status="expired"
    ).exists()
    registered = organization.registration_date
    if not ever_graded:
        if registered is None:
            problems.append(_("The registration date is not on record."))
        else:
            two_years = _anniversary(registered, 2)
            if on < two_years:
                problems.append(
                    _(
                        "Organizations are graded after two full years of registration "
                        "(from %(day)s)."
                    )
                    % {"day": two_years}
                )
    return problems


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# Assessments waiting for a registry decision (assign, publicize, answer a review, confirm).
GRADE_WAITING_FOR_REGISTRY = (
    "requested",
    "proposed",
    "publicized",
    "review_requested",
    "reviewed",
)


def grade_assessment_list_for_user(
    user: Any,
    *,
    organization: Organization | None = None,
    status: str | Iterable[str] | None = None,
) -> QuerySet[GradeAssessment]:
    """Assessments the user works on or may read, optionally of one organization or status.

    ``status="waiting"`` means every state in which the registry has to act.
    """
    queryset = GradeAssessment.objects.select_related("organization", "assessor", "indicator_set")
    if permissions.is_registry_admin(user) or has_role(user, Role.AUDITOR):
        pass
    elif has_role(user, Role.ASSESSOR):
        queryset = queryset.filter(assessor=user)
    elif permissions.is_member_of(user, getattr(user, "organization", None)):
        queryset = queryset.filter(organization_id=user.organization_id)
    else:
        return queryset.none()
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    if status == "waiting":
        queryset = queryset.filter(status__in=GRADE_WAITING_FOR_REGISTRY)
    elif isinstance(status, str) and status:
        queryset = queryset.filter(status=status)
    elif status and not isinstance(status, str):
        queryset = queryset.filter(status__in=list(status))
    return queryset


def grade_assessment_get_for_user(user: Any, pk: int) -> GradeAssessment:
    try:
        return (
            grade_assessment_list_for_user(user)
            .prefetch_related("scores__indicator", "indicator_set__indicators")
            .get(pk=pk)
        )
    except GradeAssessment.DoesNotExist as exc:
        raise Http404 from exc


# --- Organizations ----------------------------------------------------------------------------
def organization_public_list(*, on: date | None = None) -> QuerySet[Organization]:
    """The public directory: verified organizations (and deregistered ones, for the record)."""
    queryset = Organization.objects.filter(status__in=PUBLIC_STATUSES).prefetch_related(
        "categories"
    )
    return with_current_grade(queryset, on=on).annotate(
        on_serious_list=_active_credit(CreditList.SERIOUS)
    )


def organization_list_for_user(user: Any) -> QuerySet[Organization]:
    """Organizations the user can see: the public ones, plus registrations they handle."""
    visible = Q(status__in=PUBLIC_STATUSES)
    if permissions.is_registry_admin(user) or has_role(user, Role.AUDITOR):
        visible = Q()
    elif getattr(user, "organization_id", None):
        visible |= Q(pk=user.organization_id)
    queryset = Organization.objects.filter(visible).prefetch_related("categories")
    return with_current_grade(queryset).annotate(on_serious_list=_active_credit(CreditList.SERIOUS))


def _filtered(filterset: Any) -> QuerySet:
    """Unbound: everything. Bound but invalid: nothing (the form carries the errors)."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


def organization_directory(
    user: Any, *, filters: Mapping[str, Any] | None, everything: bool = False
) -> tuple[QuerySet[Organization], OrganizationFilter]:
    """Organizations filtered by ``OrganizationFilter``.

    The public directory; with ``everything`` (the registry's list) every registration the
    user may see, pending and rejected ones included.
    """
    base = organization_list_for_user(user) if everything else organization_public_list()
    filterset = OrganizationFilter(data=filters or None, queryset=base)
    return _filtered(filterset).order_by("name", "pk"), filterset


def credit_entry_directory(
    *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[CreditEntry], CreditEntryFilter]:
    """The public credit lists, filtered (by default: who is on them now)."""
    data = dict(filters or {})
    data.setdefault("active", "true")
    filterset = CreditEntryFilter(data=data, queryset=credit_entry_list())
    return _filtered(filterset), filterset


def organization_get_for_user(user: Any, pk: Any) -> Organization:
    """One organization the user may see, or 404."""
    try:
        return organization_list_for_user(user).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def organization_get_managed(user: Any, pk: Any) -> Organization:
    """One organization whose own records (roster, requests, exit) the user may open."""
    organization = organization_get_for_user(user, pk)
    if not permissions.can_manage_organization(user, organization):
        raise Http404
    return organization


def pending_registration_list(user: Any) -> QuerySet[Organization]:
    """Registrations waiting for the registry (registry administrators only)."""
    if not permissions.is_registry_admin(user):
        return Organization.objects.none()
    return Organization.objects.filter(status=OrganizationStatus.PENDING).order_by("created_at")


@dataclass(frozen=True)
class OrganizationRecord:
    """The public profile: facts, grade, credit, and (from later apps) contracts and results."""

    organization: Organization
    grade: GradeAssessment | None
    credit_entries: list[CreditEntry]
    credit_measures: list[CreditMeasure]
    grade_history: list[GradeAssessment]


def organization_record(organization: Organization) -> OrganizationRecord:
    today = timezone.localdate()
    return OrganizationRecord(
        organization=organization,
        grade=grade_current(organization, on=today),
        credit_entries=list(
            CreditEntry.objects.filter(organization=organization).order_by("-listed_on")
        ),
        credit_measures=list(
            CreditMeasure.objects.filter(organization=organization).order_by("-decided_on")
        ),
        grade_history=list(
            GradeAssessment.objects.filter(
                organization=organization,
                status__in=[*GRADE_IN_FORCE, "expired", "cancelled"],
            ).order_by("-valid_from", "-pk")
        ),
    )


def change_request_list_for_user(
    user: Any, *, organization: Organization | None = None, status: str | None = None
) -> QuerySet[ChangeRequest]:
    """Change requests the user may read, optionally of one organization or status."""
    queryset = ChangeRequest.objects.select_related("organization", "requested_by", "decided_by")
    if permissions.is_registry_admin(user) or has_role(user, Role.AUDITOR):
        pass
    elif getattr(user, "organization_id", None) and permissions.is_member_of(
        user, user.organization
    ):
        queryset = queryset.filter(organization_id=user.organization_id)
    else:
        return queryset.none()
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def change_request_get_for_user(user: Any, pk: Any) -> ChangeRequest:
    try:
        return change_request_list_for_user(user).get(pk=pk)
    except (ChangeRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def pending_change_request_count(user: Any) -> int:
    return change_request_list_for_user(user).filter(status=ChangeRequestStatus.PENDING).count()


# --- Rosters ----------------------------------------------------------------------------------
def staff_list_for_user(user: Any, organization: Organization) -> QuerySet[Employment]:
    """The organization's roster (every employment, current first), or 404 if not yours."""
    if not permissions.can_view_roster(user, organization):
        raise Http404
    return (
        Employment.objects.filter(organization=organization)
        .select_related("person")
        .prefetch_related(
            Prefetch("person__qualifications", queryset=Qualification.objects.order_by("level"))
        )
        .order_by(
            # Current staff first, then by name.
            Case(When(end_date__lt=timezone.localdate(), then=1), default=0),
            "person__name",
            "-start_date",
        )
    )


def staff_get_for_user(user: Any, organization: Organization, person_id: Any) -> Person:
    """One person on the organization's roster (ever employed there), or 404."""
    if not permissions.can_view_roster(user, organization):
        raise Http404
    try:
        return (
            Person.objects.filter(employments__organization=organization)
            .prefetch_related(
                "qualifications",
                Prefetch(
                    "employments",
                    queryset=Employment.objects.filter(organization=organization),
                    to_attr="employments_here",
                ),
            )
            .distinct()
            .get(pk=person_id)
        )
    except (Person.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def employment_get_for_user(user: Any, organization: Organization, pk: Any) -> Employment:
    if not permissions.can_view_roster(user, organization):
        raise Http404
    try:
        return Employment.objects.select_related("person").get(pk=pk, organization=organization)
    except (Employment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def credit_entry_list(*, active_only: bool = False) -> QuerySet[CreditEntry]:
    """The credit lists are public (民政部令第60号 publishes them)."""
    queryset = CreditEntry.objects.select_related("organization").order_by("-listed_on")
    if active_only:
        queryset = queryset.filter(removed_on__isnull=True)
    return queryset


# --- Eligibility (DESIGN.md 4.2) --------------------------------------------------------------
@dataclass(frozen=True)
class EligibilityIssue:
    code: str
    message: str | Promise

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Eligibility:
    """Hard-gate failures (the organization may not bid) and warnings (it may, flagged)."""

    failures: list[EligibilityIssue]
    warnings: list[EligibilityIssue]

    @property
    def eligible(self) -> bool:
        return not self.failures


def org_eligibility(organization: Organization, tender: Any = None) -> Eligibility:
    """May ``organization`` bid (on ``tender``)? Each failure and warning has a message.

    Hard gates (DESIGN 4.2): active; registration verified; not deregistering; not on the
    serious-dishonesty list (民政部令第60号); not a 公益一类 unit or a fiscally funded mass
    organization (财政部令第102号 Art. 8). The abnormal-activity list only warns. A grade or
    past performance is never a gate here: they are scoring factors (Art. 7).
    ``tender`` may add its own gates through ``tender.eligibility_issues(organization)``.
    """
    failures: list[EligibilityIssue] = []
    warnings: list[EligibilityIssue] = []
    status = organization.status
    if status in (OrganizationStatus.PENDING, OrganizationStatus.REJECTED):
        failures.append(
            EligibilityIssue("not_verified", _("The registration has not been verified."))
        )
    elif status == OrganizationStatus.DEREGISTERED:
        failures.append(EligibilityIssue("deregistered", _("The organization is deregistered.")))
    elif organization.verified_at is None:
        failures.append(
            EligibilityIssue("not_verified", _("The registration has not been verified."))
        )
    if organization.is_deregistering:
        failures.append(
            EligibilityIssue(
                "deregistering",
                _("The organization is leaving the register and may not take on new work."),
            )
        )
    active_lists = set(
        CreditEntry.objects.filter(organization=organization, removed_on__isnull=True).values_list(
            "credit_list", flat=True
        )
    )
    if CreditList.SERIOUS in active_lists:
        failures.append(
            EligibilityIssue(
                "serious_dishonesty",
                _(
                    "The organization is on the serious-dishonesty list, which excludes it "
                    "from government purchase of services."
                ),
            )
        )
    if organization.funding_type in EXCLUDED_FUNDING_TYPES:
        failures.append(
            EligibilityIssue(
                "excluded_funding",
                _(
                    "%(type)s may not sell services to the government "
                    "(Ministry of Finance Order No. 102, Art. 8)."
                )
                % {"type": FundingType(organization.funding_type).label},
            )
        )
    if CreditList.ABNORMAL in active_lists or status == OrganizationStatus.ABNORMAL:
        warnings.append(
            EligibilityIssue(
                "abnormal_activity",
                _("The organization is on the abnormal-activity list; the panel is told."),
            )
        )
    if tender is not None and hasattr(tender, "eligibility_issues"):
        extra_failures, extra_warnings = tender.eligibility_issues(organization)
        failures.extend(extra_failures)
        warnings.extend(extra_warnings)
    return Eligibility(failures=failures, warnings=warnings)


# --- Look-ups for the registry pages -----------------------------------------------------------
def grade_assessor_choice_list() -> QuerySet[Any]:
    """Active assessors a registry administrator may assign to a grade assessment."""
    return User.objects.filter(role=Role.ASSESSOR, is_active=True).order_by("full_name", "username")


def credit_entry_get(pk: Any) -> CreditEntry:
    """One credit list entry (the lists are public), or 404."""
    try:
        return credit_entry_list().get(pk=pk)
    except (CreditEntry.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def credit_measure_list(*, organization: Organization) -> QuerySet[CreditMeasure]:
    """An organization's rewards and penalties, newest first (public, like the credit lists)."""
    return CreditMeasure.objects.filter(organization=organization).order_by("-decided_on", "-pk")


# --- Credit proposals -------------------------------------------------------------------------
def credit_proposal_list_for_user(
    user: Any, *, organization: Organization | None = None, status: str | None = None
) -> QuerySet[CreditProposal]:
    """Proposals the user may read: all for the registry and auditors, its own for an
    organization's admins (proposals are not public until confirmed as entries)."""
    queryset = CreditProposal.objects.select_related(
        "organization", "proposed_by", "decided_by", "entry"
    )
    if permissions.can_view_credit_proposals(user):
        pass
    elif has_role(user, Role.ORG_ADMIN) and getattr(user, "organization_id", None):
        queryset = queryset.filter(organization_id=user.organization_id)
    else:
        return queryset.none()
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def credit_proposal_get_for_user(user: Any, pk: Any) -> CreditProposal:
    """One proposal the user may read, or 404 (not yours and missing alike)."""
    try:
        return credit_proposal_list_for_user(user).get(pk=pk)
    except (CreditProposal.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def credit_proposal_waiting_count(user: Any) -> int:
    """Open proposals waiting for the registry's decision (the dashboard card)."""
    return credit_proposal_list_for_user(user).filter(status=CreditProposalStatus.PROPOSED).count()


# --- The public performance record ------------------------------------------------------------
@dataclass(frozen=True)
class GradeCount:
    grade: str
    label: str
    count: int


@dataclass(frozen=True)
class PerformanceRecord:
    """The organization's published performance results and their summary."""

    evaluations: list[PerformanceEvaluation]
    count: int
    mean_score: Decimal | None
    grades: list[GradeCount]


def organization_performance_record(organization: Organization) -> PerformanceRecord:
    """The final performance evaluations of the organization's contracts that have a result
    (submitted, or replied to), newest first, with a summary: count, mean total, grades.

    Only final evaluations are public record: a mid-term one steers delivery and the
    past-performance criterion reads finals only (DESIGN 4.4); an evaluation still with the
    assessor has no result. One query, whatever the number of contracts.
    """
    # Imported here: the evaluation selectors import the registry's at load time.
    from evaluation.selectors.performance import public_performance_evaluations

    evaluations = list(public_performance_evaluations(organization.pk))
    scores = [e.total_score for e in evaluations if e.total_score is not None]
    mean = (
        (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if scores
        else None
    )
    grades = [
        GradeCount(
            grade=grade.value,
            label=str(grade.label),
            count=sum(1 for e in evaluations if e.grade == grade.value),
        )
        for grade in PerformanceGrade
    ]
    return PerformanceRecord(
        evaluations=evaluations, count=len(evaluations), mean_score=mean, grades=grades
    )


def organization_public_contracts(organization: Organization) -> list[Contract]:
    """The organization's published contracts (signed, in delivery, completed, terminated),
    newest first, for its public profile; a draft stays between the two parties. One query."""
    return list(
        Contract.objects.filter(
            organization=organization, status__in=sorted(PUBLIC_CONTRACT_STATES)
        ).order_by("-published_at", "-pk")
    )
