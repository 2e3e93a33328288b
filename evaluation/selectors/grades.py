"""Reads of the assessor's grade-assessment workspace (民政部令第39号 assessments assigned to
them through the registry).

Only the assigned assessor reaches an assessment here: the registry, auditors and the
organization read it on the registry's pages (``orgs_registry.selectors``). Everyone else,
another assessor included, gets 404 as for a missing one.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404

from marketplace.models import Role
from marketplace.permissions import has_role
from orgs_registry.models import GradeAssessment, GradeAssessmentStatus, Indicator, IndicatorScore


def grade_workspace_list(user: Any) -> QuerySet[GradeAssessment]:
    """The grade assessments assigned to the assessor ``user``: those waiting for their
    scores first, then the rest newest first, each with its number of scored indicators."""
    if not has_role(user, Role.ASSESSOR):
        return GradeAssessment.objects.none()
    return (
        GradeAssessment.objects.filter(assessor=user)
        .select_related("organization", "indicator_set")
        .annotate(
            scored=Count("scores", distinct=True),
            indicator_count=Count("indicator_set__indicators", distinct=True),
            waiting=Case(
                When(status=GradeAssessmentStatus.ASSESSING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("waiting", "-requested_at", "-pk")
    )


def grade_workspace_get(user: Any, pk: Any) -> GradeAssessment:
    """One assessment assigned to ``user``, with its indicators and scores, or 404."""
    if not has_role(user, Role.ASSESSOR):
        raise Http404
    try:
        return (
            GradeAssessment.objects.filter(assessor=user)
            .select_related("organization", "indicator_set", "assessor")
            .prefetch_related(
                Prefetch(
                    "indicator_set__indicators",
                    queryset=Indicator.objects.order_by("sort_order", "code"),
                ),
                Prefetch("scores", queryset=IndicatorScore.objects.select_related("indicator")),
            )
            .get(pk=pk)
        )
    except (GradeAssessment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
