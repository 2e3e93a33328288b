"""Printable documents of the registry: the grade certificate (社会组织等级证书).

A certificate is printed from a grade assessment that gave a grade (民政部令第39号): the
one in force, or an older one, marked expired, cancelled or downgraded so that nobody takes
it for a current grade. It is read by whoever reads the assessment's page (the
organization's people, the registry, auditors, its assessor); the grade itself is public on
the organization's profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs_registry import selectors as registry_selectors
from orgs_registry.models import GRADE_IN_FORCE, GradeAssessment, GradeAssessmentStatus
from reports.documents import Document, register

# States of an assessment that gave a grade (the grade is kept after it ended).
GRADED_STATES = frozenset(
    {
        GradeAssessmentStatus.CONFIRMED,
        GradeAssessmentStatus.DOWNGRADED,
        GradeAssessmentStatus.EXPIRED,
        GradeAssessmentStatus.CANCELLED,
    }
)


def has_certificate(assessment: GradeAssessment) -> bool:
    """Whether the assessment gave a grade: confirmed once, with its validity period."""
    return (
        assessment.status in GRADED_STATES
        and bool(assessment.grade)
        and assessment.valid_from is not None
        and assessment.valid_until is not None
    )


def _assessments() -> Any:
    return GradeAssessment.objects.select_related("organization", "confirmed_by", "indicator_set")


def grade_certificate_for_user(user: Any, pk: int) -> GradeAssessment:
    """The assessment as its page finds it, once it gave a grade; 404 otherwise."""
    assessment = registry_selectors.grade_assessment_get_for_user(user, pk)
    if not has_certificate(assessment):
        raise Http404
    return assessment


def grade_certificate_by_id(pk: int) -> GradeAssessment:
    assessment = _assessments().filter(pk=pk).first()
    if assessment is None:
        raise LookupError("no such grade assessment")
    if not has_certificate(assessment):
        raise LookupError("the assessment gave no grade")
    return assessment


def grade_certificate_latest() -> GradeAssessment | None:
    """The most recently confirmed grade still in force."""
    today = timezone.localdate()
    return (
        _assessments()
        .filter(
            status__in=sorted(GRADE_IN_FORCE),
            valid_from__lte=today,
            valid_until__gte=today,
        )
        .exclude(grade="")
        .order_by("-valid_from", "-pk")
        .first()
    )


@dataclass(frozen=True)
class Validity:
    """Whether the certificate is current, and if not, why (printed across it)."""

    current: bool
    state: str  # "current", "downgraded", "expired", "cancelled", "not_yet"
    label: str
    reason: str


def validity(assessment: GradeAssessment) -> Validity:
    today = timezone.localdate()
    status = assessment.status
    if status == GradeAssessmentStatus.CANCELLED:
        return Validity(False, "cancelled", str(_("Cancelled")), assessment.change_reason)
    if status == GradeAssessmentStatus.EXPIRED or (
        assessment.valid_until is not None and assessment.valid_until < today
    ):
        return Validity(False, "expired", str(_("Expired")), "")
    if assessment.valid_from is not None and assessment.valid_from > today:
        return Validity(False, "not_yet", str(_("Not yet valid")), "")
    if status == GradeAssessmentStatus.DOWNGRADED:
        return Validity(True, "downgraded", str(_("Downgraded")), assessment.change_reason)
    return Validity(True, "current", str(_("Valid")), "")


def certificate_number(assessment: GradeAssessment) -> str:
    region = settings.STREET_OFFICE.get("region_code", "")
    year = assessment.valid_from.year if assessment.valid_from else assessment.requested_at.year
    return f"{region}-{year}-{assessment.pk:05d}"


def grade_certificate_context(assessment: GradeAssessment, user: Any) -> dict[str, Any]:
    return {
        "assessment": assessment,
        "organization": assessment.organization,
        "validity": validity(assessment),
        "number": certificate_number(assessment),
    }


def _filename(assessment: GradeAssessment) -> str:
    return f"grade-certificate-{assessment.organization.uscc}-{assessment.pk}"


register(
    Document(
        kind="grade_certificate",
        label=_("Grade certificate"),
        template="reports/documents/grade_certificate.html",
        for_user=grade_certificate_for_user,
        by_id=grade_certificate_by_id,
        latest=grade_certificate_latest,
        context=grade_certificate_context,
        filename=_filename,
    )
)
