"""Reads of third-party performance evaluations, scoped to the user (DESIGN 4.5).

The assessor reaches their own evaluations; the street office, approvers and auditors all
of them; the supplier's people their contract's evaluations once submitted; the public the
final evaluations with a result (the organization's public record). Anything else is a 404,
exactly like a missing evaluation. Scores before the submission are the assessor's draft:
nobody else reads them (``permissions.can_view_performance_scores``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from evaluation import performance
from evaluation.models import (
    PERFORMANCE_RESULT_STATES,
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
    PerformanceGroup,
    PerformanceIndicator,
    PerformanceIndicatorSet,
    PerformanceScore,
)
from evaluation.permissions import is_office_or_auditor
from evaluation.permissions import performance as permissions
from marketplace.filters import MAX_ID
from marketplace.models import Role, User
from marketplace.permissions import has_role, is_official, is_org_user
from tenders.contracting import Satisfaction
from tenders.models import Contract, ContractStatus, EvaluationKind, PerformanceGrade

# --- Lists ---------------------------------------------------------------------------------------


class PerformanceEvaluationFilter(django_filters.FilterSet):
    """Kind, status, grade and the supplier organization (its id)."""

    kind = django_filters.ChoiceFilter(
        label=_("Kind of evaluation"), choices=EvaluationKind.choices
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=PerformanceEvaluationStatus.choices
    )
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=PerformanceGrade.choices)
    organization = django_filters.NumberFilter(
        label=_("Organization"),
        field_name="contract__organization_id",
        min_value=1,
        max_value=MAX_ID,
    )

    class Meta:
        model = PerformanceEvaluation
        fields = ["kind", "status", "grade", "organization"]


def _evaluations() -> QuerySet[PerformanceEvaluation]:
    return PerformanceEvaluation.objects.select_related(
        "contract__organization",
        "contract__tender",
        "milestone",
        "indicator_set",
        "assessor",
        "assigned_by",
    )


def _public() -> Q:
    return Q(kind=EvaluationKind.FINAL, status__in=sorted(PERFORMANCE_RESULT_STATES))


def _visible(user: Any) -> Q | None:
    """What the user may read as a filter; None for everything."""
    if is_office_or_auditor(user):
        return None
    visible = _public()
    if has_role(user, Role.ASSESSOR):
        visible |= Q(assessor_id=user.pk)
    if is_org_user(user):
        visible |= Q(
            contract__organization_id=user.organization_id,
            status__in=sorted(PERFORMANCE_RESULT_STATES),
        )
    return visible


def performance_evaluation_list_for_user(user: Any) -> QuerySet[PerformanceEvaluation]:
    """Every evaluation the user may read, newest first."""
    visible = _visible(user)
    evaluations = _evaluations()
    if visible is not None:
        evaluations = evaluations.filter(visible)
    return evaluations.order_by("-assigned_at", "-pk")


def performance_evaluation_directory(
    user: Any, *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[PerformanceEvaluation], PerformanceEvaluationFilter]:
    """The user's evaluations filtered; unbound: all, invalid: none (with the errors)."""
    filterset = PerformanceEvaluationFilter(
        data=filters or None, queryset=performance_evaluation_list_for_user(user)
    )
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none(), filterset
    return filterset.qs, filterset


def performance_evaluation_get_for_user(user: Any, pk: Any) -> PerformanceEvaluation:
    try:
        evaluation = _evaluations().get(pk=pk)
    except (PerformanceEvaluation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_performance_evaluation(user, evaluation):
        raise Http404
    return evaluation


def my_performance_evaluations(user: Any) -> QuerySet[PerformanceEvaluation]:
    """The assessor's own evaluations (withdrawn ones last), for the workspace."""
    if not has_role(user, Role.ASSESSOR):
        return PerformanceEvaluation.objects.none()
    return _evaluations().filter(assessor_id=user.pk).order_by("due_date", "pk")


def performance_evaluations_due(user: Any) -> QuerySet[PerformanceEvaluation]:
    """Evaluations not yet submitted, earliest due first (the street office's card)."""
    if not is_office_or_auditor(user):
        return PerformanceEvaluation.objects.none()
    return (
        _evaluations()
        .filter(status=PerformanceEvaluationStatus.ASSIGNED)
        .order_by("due_date", "pk")
    )


def public_performance_evaluations(organization_id: int) -> QuerySet[PerformanceEvaluation]:
    """The organization's final evaluations with a result: part of its public record."""
    return (
        _evaluations()
        .filter(_public(), contract__organization_id=organization_id)
        .order_by("-submitted_at", "-pk")
    )


def contract_performance_evaluations(
    user: Any, contract: Contract
) -> QuerySet[PerformanceEvaluation]:
    """A contract's evaluations the user may read (for the contract's page)."""
    return performance_evaluation_list_for_user(user).filter(contract=contract)


# --- The indicator set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupLine:
    code: str
    label: str
    weight: Decimal
    indicators: list[PerformanceIndicator]


def _indicators_prefetch() -> Prefetch:
    return Prefetch(
        "indicators", queryset=PerformanceIndicator.objects.order_by("sort_order", "code")
    )


def indicator_set_list() -> QuerySet[PerformanceIndicatorSet]:
    return PerformanceIndicatorSet.objects.prefetch_related(_indicators_prefetch()).order_by(
        "-is_current", "name", "pk"
    )


def indicator_set_get(pk: Any) -> PerformanceIndicatorSet:
    try:
        return indicator_set_list().get(pk=pk)
    except (PerformanceIndicatorSet.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def indicator_set_current() -> PerformanceIndicatorSet:
    found = indicator_set_list().filter(is_current=True).first()
    if found is None:
        raise Http404
    return found


def indicator_set_groups(indicator_set: PerformanceIndicatorSet) -> list[GroupLine]:
    """The set's four groups in order, each with its weight (the points of its indicators)."""
    indicators = list(indicator_set.indicators.all())
    return [
        GroupLine(
            code=code,
            label=str(label),
            weight=sum((i.max_points for i in indicators if i.group == code), Decimal(0)),
            indicators=[i for i in indicators if i.group == code],
        )
        for code, label in PerformanceGroup.choices
    ]


def indicator_set_problems(indicator_set: PerformanceIndicatorSet) -> list[str]:
    specs = [
        performance.IndicatorSpec(
            code=i.code, group=i.group, max_points=i.max_points, is_satisfaction=i.is_satisfaction
        )
        for i in indicator_set.indicators.all()
    ]
    return performance.set_problems(specs)


# --- One evaluation's scores ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    indicator: PerformanceIndicator
    score: Decimal | None
    evidence: str


@dataclass(frozen=True)
class ScoreGroup:
    code: str
    label: str
    weight: Decimal
    total: Decimal
    lines: list[ScoreLine]


@dataclass(frozen=True)
class ScoreSheetView:
    """The evaluation's indicators grouped, with the scores the user may see."""

    groups: list[ScoreGroup]
    total: Decimal
    scored: int
    indicators: int
    grade: str
    scores_visible: bool
    satisfaction: PerformanceIndicator | None = None
    lines: list[ScoreLine] = field(default_factory=list)


def performance_scores_for_user(
    user: Any, evaluation: PerformanceEvaluation
) -> list[PerformanceScore]:
    """The evaluation's scores; a draft's only for its assessor (404 for anyone else)."""
    if not permissions.can_view_performance_scores(user, evaluation):
        raise Http404
    return list(
        PerformanceScore.objects.filter(evaluation=evaluation)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator__code")
    )


def performance_score_sheet(user: Any, evaluation: PerformanceEvaluation) -> ScoreSheetView:
    """Every indicator of the evaluation's set by group, with its score and evidence when
    the user may see them (the running total and grade of a draft, for its assessor)."""
    indicators = list(
        PerformanceIndicator.objects.filter(set_id=evaluation.indicator_set_id).order_by(
            "sort_order", "code"
        )
    )
    visible = permissions.can_view_performance_scores(user, evaluation)
    scores = (
        {s.indicator_id: s for s in performance_scores_for_user(user, evaluation)}
        if visible
        else {}
    )
    lines = [
        ScoreLine(
            indicator=i,
            score=scores[i.pk].score if i.pk in scores else None,
            evidence=scores[i.pk].evidence if i.pk in scores else "",
        )
        for i in indicators
    ]
    groups = []
    for code, label in PerformanceGroup.choices:
        members = [line for line in lines if line.indicator.group == code]
        groups.append(
            ScoreGroup(
                code=code,
                label=str(label),
                weight=sum((line.indicator.max_points for line in members), Decimal(0)),
                total=sum((line.score or Decimal(0) for line in members), Decimal(0)),
                lines=members,
            )
        )
    total = performance.total({line.indicator.code: line.score or Decimal(0) for line in lines})
    return ScoreSheetView(
        groups=groups,
        total=total,
        scored=sum(1 for line in lines if line.score is not None),
        indicators=len(lines),
        grade=evaluation.grade or performance.grade_for(total),
        scores_visible=visible,
        satisfaction=next((i for i in indicators if i.is_satisfaction), None),
        lines=lines,
    )


# --- Assignment ----------------------------------------------------------------------------------


def contract_for_assignment(user: Any, pk: Any) -> Contract:
    """The contract an official assigns an evaluation for; 404 for anyone else."""
    if not is_official(user):
        raise Http404
    try:
        return Contract.objects.select_related("organization", "tender", "programme").get(pk=pk)
    except (Contract.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def assessor_choices() -> QuerySet[User]:
    """Active assessors of the pool (the service checks each one's independence)."""
    return (
        User.objects.filter(role=Role.ASSESSOR, is_active=True, assessor_profile__isnull=False)
        .select_related("assessor_profile")
        .order_by("full_name", "username")
    )


def contract_is_active(contract: Contract) -> bool:
    return contract.status == ContractStatus.ACTIVE


def contract_survey_result(contract: Contract) -> Satisfaction:
    """The beneficiary survey's result so far (shown next to the satisfaction indicator)."""
    from evaluation.services.performance import survey_result

    return survey_result(contract)
