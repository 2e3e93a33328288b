"""The assessor's grade-assessment pages: score an organization's grade assessment and
submit the result, in the same workspace as panel seats and performance evaluations.

The registry's services do the work (``orgs_registry.services.grade_scores_save`` and
``grade_propose``); the registry's own page for the assessment stays, for the registry, the
organization and auditors, and the two link to each other. Only the assigned assessor
reaches these pages (``evaluation.selectors.grades``: 404 for anyone else).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from evaluation.selectors import grades as selectors
from marketplace.models import User
from orgs_registry import forms as registry_forms
from orgs_registry import permissions as registry_permissions
from orgs_registry import services as registry_services
from orgs_registry.models import GradeAssessment


class AuthenticatedRequest(HttpRequest):
    """A request behind ``login_required``: its user is a signed-in account."""

    user: User


def _groups(assessment: GradeAssessment, form: Any) -> list[dict[str, Any]]:
    """Indicators by group with the saved score and, when scoring, the form's fields
    (the shape of ``orgs_registry/grades/_score_table.html``)."""
    saved = {score.indicator_id: score for score in assessment.scores.all()}
    fields = {row["indicator"].pk: row for row in form.rows()} if form is not None else {}
    groups: list[dict[str, Any]] = []
    for indicator in assessment.indicator_set.indicators.all():
        if not groups or groups[-1]["label"] != indicator.group_label:
            groups.append(
                {"label": indicator.group_label, "rows": [], "max": 0, "score": Decimal(0)}
            )
        group = groups[-1]
        score = saved.get(indicator.pk)
        group["rows"].append(
            {"indicator": indicator, "saved": score, "fields": fields.get(indicator.pk)}
        )
        group["max"] += indicator.max_points
        if score is not None:
            group["score"] += score.score
    return groups


def _page(
    request: AuthenticatedRequest,
    assessment: GradeAssessment,
    *,
    scores_form: Any = None,
    propose_errors: Iterable[str] = (),
) -> HttpResponse:
    can_score = registry_permissions.can_score_grade(request.user, assessment)
    indicators = list(assessment.indicator_set.indicators.all())
    scores = list(assessment.scores.all())
    if can_score and scores_form is None:
        scores_form = registry_forms.ScoresForm(
            indicators=indicators, scores=scores, comment=assessment.assessor_comment
        )
    total = sum((s.score for s in scores), Decimal(0))
    cutoffs = assessment.indicator_set.cutoff_table()
    context = {
        "assessment": assessment,
        "organization": assessment.organization,
        "can_score": can_score,
        "groups": _groups(assessment, scores_form if can_score else None),
        "scores_form": scores_form,
        "total": total,
        "max_total": sum(i.max_points for i in indicators),
        "scored": len(scores),
        "indicator_count": len(indicators),
        "grade_for_total": registry_services.grade_for_score(total, cutoffs),
        "cutoffs": sorted(cutoffs.items(), key=lambda item: -item[1]),
        "propose_errors": list(propose_errors),
    }
    return render(request, "evaluation/grades/detail.html", context)


@login_required
@require_GET
def grade_workspace(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The assigned assessor's page for one grade assessment: scores, conclusion, submit."""
    return _page(request, selectors.grade_workspace_get(request.user, pk))


@login_required
@require_POST
def grade_workspace_scores(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Save a draft of the scores and the conclusion."""
    assessment = selectors.grade_workspace_get(request.user, pk)
    form = registry_forms.ScoresForm(
        request.POST,
        indicators=assessment.indicator_set.indicators.all(),
        scores=assessment.scores.all(),
    )
    if form.is_valid():
        try:
            registry_services.grade_scores_save(
                assessment=assessment,
                actor=request.user,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            registry_forms.add_service_errors(form, exc, form.field_map)
        else:
            messages.success(request, _("The scores were saved as a draft."))
            return redirect("evaluation:grade_workspace", pk=assessment.pk)
    return _page(request, assessment, scores_form=form)


@login_required
@require_POST
def grade_workspace_propose(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Submit the saved scores: the total and the proposed grade go to the registry."""
    assessment = selectors.grade_workspace_get(request.user, pk)
    try:
        assessment = registry_services.grade_propose(assessment=assessment, actor=request.user)
    except ValidationError as exc:
        return _page(request, assessment, propose_errors=exc.messages)
    messages.success(
        request,
        _("The scores were submitted: %(total)s points, proposed grade %(grade)s.")
        % {"total": assessment.total_score, "grade": assessment.proposed_grade or "–"},
    )
    return redirect("evaluation:grade_workspace", pk=assessment.pk)
