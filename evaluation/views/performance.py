"""Pages of third-party performance evaluation (第三方绩效评价, DESIGN 4.5): the assessor's
workspace and score form, the evaluation's page, the official's assignment and withdrawal,
the organization's reply, and the indicator set in use.

Views parse input, call one service or selector and render. Evaluations are reached only
through ``evaluation.selectors.performance`` (404 for "not yours" as for "missing"); writes go
through ``evaluation.services.performance``, which check the permission again (403) and
raise ``ValidationError`` (shown on the form, nothing saved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from evaluation.forms import performance as forms
from evaluation.models import PerformanceEvaluation
from evaluation.permissions import is_office_or_auditor
from evaluation.permissions import performance as permissions
from evaluation.selectors import performance as selectors
from evaluation.services import performance as services
from marketplace.models import Role, User
from marketplace.permissions import has_role, is_official
from tenders.models import Contract

# The group chart: a bar per group, its points against the group's weight.
CHART_LEFT = 96
CHART_WIDTH = 320
CHART_RIGHT = 96
CHART_BAR = 18
CHART_GAP = 12


class AuthenticatedRequest(HttpRequest):
    user: User


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _contract_url(contract: Contract) -> str:
    """The contract's page, once the contracts part has it."""
    try:
        return reverse("tenders:contract_detail", args=[contract.pk])
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class ChartBar:
    label: str
    total: Decimal
    weight: Decimal
    y: int
    y_text: int
    width: str
    full_width: str
    end_x: str


@dataclass(frozen=True)
class GroupChart:
    width: int
    height: int
    left: int
    bar_height: int
    bars: list[ChartBar]


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def group_chart(groups: Sequence[selectors.ScoreGroup]) -> GroupChart:
    """Each group's points as a bar over its weight, on one scale (the largest weight)."""
    scale = max((group.weight for group in groups), default=Decimal(0)) or Decimal(1)
    bars = []
    for index, group in enumerate(groups):
        top = index * (CHART_BAR + CHART_GAP)
        width = Decimal(CHART_WIDTH) * group.total / scale
        bars.append(
            ChartBar(
                label=group.label,
                total=group.total,
                weight=group.weight,
                y=top,
                y_text=top + CHART_BAR - 4,
                width=_fmt(width),
                full_width=_fmt(Decimal(CHART_WIDTH) * group.weight / scale),
                end_x=_fmt(CHART_LEFT + Decimal(CHART_WIDTH) * group.weight / scale + 6),
            )
        )
    return GroupChart(
        width=CHART_LEFT + CHART_WIDTH + CHART_RIGHT,
        height=max(len(groups), 1) * (CHART_BAR + CHART_GAP),
        left=CHART_LEFT,
        bar_height=CHART_BAR,
        bars=bars,
    )


# --- Lists ---------------------------------------------------------------------------------------


@require_GET
def performance_list(request: HttpRequest) -> HttpResponse:
    """The assessor's workspace (their own evaluations); for the street office, auditors,
    organizations and the public, the evaluations they may read (the public: final results,
    an organization's record with ``?organization=``), filtered."""
    user = request.user
    if has_role(user, Role.ASSESSOR):
        evaluations = list(selectors.my_performance_evaluations(user))
        filterset = None
    else:
        queryset, filterset = selectors.performance_evaluation_directory(
            user, filters=request.GET or None
        )
        evaluations = list(queryset[:200])
    context = {
        "evaluations": evaluations,
        "filter": filterset,
        "workspace": has_role(user, Role.ASSESSOR),
    }
    return render(request, "evaluation/performance/list.html", context)


@require_GET
def performance_indicators(request: HttpRequest) -> HttpResponse:
    """The indicator set in use, by group with the group weights (public: the criteria a
    service is evaluated against are no secret)."""
    indicator_set = selectors.indicator_set_current()
    context = {
        "indicator_set": indicator_set,
        "groups": selectors.indicator_set_groups(indicator_set),
        "problems": selectors.indicator_set_problems(indicator_set),
    }
    return render(request, "evaluation/performance/indicators.html", context)


# --- One evaluation ------------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    evaluation: PerformanceEvaluation,
    *,
    reply_form: Any = None,
    withdraw_form: Any = None,
    action_errors: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    user = request.user
    sheet = selectors.performance_score_sheet(user, evaluation)
    can_reply = permissions.can_reply_performance_evaluation(user, evaluation)
    can_withdraw = permissions.can_withdraw_performance_evaluation(user, evaluation)
    context = {
        "evaluation": evaluation,
        "contract": evaluation.contract,
        "contract_url": _contract_url(evaluation.contract),
        "sheet": sheet,
        "chart": group_chart(sheet.groups) if sheet.scores_visible and sheet.scored else None,
        "milestone": evaluation.milestone,
        "can_declare": permissions.can_declare_performance(user, evaluation),
        "can_score": permissions.can_score_performance(user, evaluation),
        "reply_form": (reply_form or forms.PerformanceReplyForm()) if can_reply else None,
        "withdraw_form": (withdraw_form or forms.PerformanceWithdrawForm())
        if can_withdraw
        else None,
        "show_assessor": is_office_or_auditor(user)
        or permissions.is_evaluation_assessor(user, evaluation),
        "action_errors": action_errors,
    }
    return render(request, "evaluation/performance/detail.html", context, status=status)


@require_GET
def performance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The evaluation: scores by group (after the submission), grade, conclusion, reply and
    the tied milestone's outcome. Final results are public."""
    evaluation = selectors.performance_evaluation_get_for_user(request.user, pk)
    return _detail_page(request, evaluation)


@login_required
@require_POST
def performance_declare(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    evaluation = selectors.performance_evaluation_get_for_user(request.user, pk)
    _require(permissions.is_evaluation_assessor(request.user, evaluation))
    try:
        services.performance_declare(evaluation=evaluation, actor=request.user)
    except ValidationError as exc:
        return _detail_page(request, evaluation, action_errors=exc.messages, status=400)
    messages.success(request, _("Your declaration is recorded; you may score now."))
    return redirect("evaluation:performance_scores", pk=evaluation.pk)


def _scores_page(
    request: AuthenticatedRequest,
    evaluation: PerformanceEvaluation,
    *,
    form: forms.PerformanceScoresForm | None = None,
    status: int = 200,
) -> HttpResponse:
    sheet = selectors.performance_score_sheet(request.user, evaluation)
    survey = selectors.contract_survey_result(evaluation.contract)
    indicators = [line.indicator for line in sheet.lines]
    if form is None:
        initial: dict[str, Any] = {"conclusion": evaluation.conclusion}
        for line in sheet.lines:
            if line.score is not None:
                initial[f"score_{line.indicator.code}"] = f"{line.score:f}"
                initial[f"evidence_{line.indicator.code}"] = line.evidence
        form = forms.PerformanceScoresForm(
            initial=initial, indicators=indicators, survey_scored=bool(survey.answers)
        )
    fields = {
        indicator.code: (score, evidence) for indicator, score, evidence in form.field_pairs()
    }
    groups = [
        {
            "group": group,
            "rows": [
                {"line": line, "fields": fields.get(line.indicator.code)} for line in group.lines
            ],
        }
        for group in sheet.groups
    ]
    context = {
        "evaluation": evaluation,
        "contract": evaluation.contract,
        "form": form,
        "groups": groups,
        "sheet": sheet,
        "survey": survey,
    }
    return render(request, "evaluation/performance/scores.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def performance_scores(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The assessor's score form: a score and evidence per indicator, grouped, with the
    running total and grade; save a draft or submit."""
    evaluation = selectors.performance_evaluation_get_for_user(request.user, pk)
    _require(permissions.can_score_performance(request.user, evaluation))
    if request.method != "POST":
        return _scores_page(request, evaluation)
    survey = selectors.contract_survey_result(evaluation.contract)
    sheet = selectors.performance_score_sheet(request.user, evaluation)
    form = forms.PerformanceScoresForm(
        request.POST,
        indicators=[line.indicator for line in sheet.lines],
        survey_scored=bool(survey.answers),
    )
    if form.is_valid():
        service = (
            services.performance_scores_save_and_submit
            if form.submitting
            else services.performance_scores_save
        )
        try:
            service(
                evaluation=evaluation,
                actor=request.user,
                scores=form.scores(),
                conclusion=form.cleaned_data["conclusion"],
            )
        except ValidationError as exc:
            form.add_score_errors(exc)
        else:
            if form.submitting:
                messages.success(request, _("The evaluation is submitted."))
                return redirect("evaluation:performance_detail", pk=evaluation.pk)
            messages.success(request, _("Your scores are saved as a draft."))
            return redirect("evaluation:performance_scores", pk=evaluation.pk)
    return _scores_page(request, evaluation, form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def performance_reply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organization's administrator replies to the conclusion, once."""
    evaluation = selectors.performance_evaluation_get_for_user(request.user, pk)
    _require(permissions.can_reply_performance_evaluation(request.user, evaluation))
    if request.method != "POST":
        return _detail_page(request, evaluation)
    form = forms.PerformanceReplyForm(request.POST)
    if form.is_valid():
        try:
            services.performance_reply(
                evaluation=evaluation, actor=request.user, reply=form.cleaned_data["reply"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("Your reply is published with the evaluation."))
            return redirect("evaluation:performance_detail", pk=evaluation.pk)
    return _detail_page(request, evaluation, reply_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def performance_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An official withdraws the evaluation before it is submitted, with the reason."""
    evaluation = selectors.performance_evaluation_get_for_user(request.user, pk)
    _require(permissions.can_withdraw_performance_evaluation(request.user, evaluation))
    if request.method != "POST":
        return _detail_page(request, evaluation)
    form = forms.PerformanceWithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.performance_evaluation_withdraw(
                evaluation=evaluation, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The evaluation is withdrawn; the assessor is told."))
            return redirect("evaluation:performance_detail", pk=evaluation.pk)
    return _detail_page(request, evaluation, withdraw_form=form, status=400)


# --- Assignment ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def performance_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An official assigns the contract's mid-term or final evaluation to an independent
    assessor (the contract's page links here)."""
    contract = selectors.contract_for_assignment(request.user, pk)
    _require(is_official(request.user))
    form = forms.PerformanceAssignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                evaluation = services.performance_evaluation_assign(
                    contract=contract,
                    kind=form.cleaned_data["kind"],
                    assessor=form.cleaned_data["assessor"],
                    due_date=form.cleaned_data["due_date"],
                    actor=request.user,
                )
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("The evaluation is assigned; the assessor is told by e-mail.")
                )
                return redirect("evaluation:performance_detail", pk=evaluation.pk)
    context = {
        "contract": contract,
        "contract_url": _contract_url(contract),
        "form": form,
        "active": selectors.contract_is_active(contract),
        "evaluations": list(selectors.contract_performance_evaluations(request.user, contract)),
    }
    return render(request, "evaluation/performance/assign.html", context, status=status)
