"""Pages of the integrity screens (DESIGN 5): the review queue, a flag with its evidence side
by side, the screen runs with their progress, and the integrity report.

Views parse input, call one service or selector and render. Flags are reached only through
``evaluation.selectors.integrity`` (404 for anyone but officials and auditors); writes go
through ``evaluation.services.integrity``, which check the permission again (403) and raise
``ValidationError`` (shown on the form, nothing saved).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from evaluation.forms import integrity as forms
from evaluation.models import FlagKind, IntegrityFlag
from evaluation.permissions import integrity as permissions
from evaluation.selectors import integrity as selectors
from evaluation.services import integrity as services
from marketplace.models import User
from marketplace.pagination import paginate
from orgs_registry.forms import add_service_errors

QUEUE_PAGE_SIZE = 50


class AuthenticatedRequest(HttpRequest):
    user: User


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


@dataclass(frozen=True)
class CompareRow:
    label: Any
    left: Any
    right: Any
    same: bool


# The fields of a person compared with the roster post, in the order shown.
COMPARED = [
    ("name", gettext_lazy("Name")),
    ("id_number", gettext_lazy("National ID number")),
    ("birth_date", gettext_lazy("Birth date")),
]


def comparison(evidence: dict[str, Any]) -> list[CompareRow]:
    """The bid's or contract's person beside the roster post (screen 1)."""
    person = evidence.get("person") or {}
    post = evidence.get("post") or {}
    return [
        CompareRow(
            label=label,
            left=person.get(key) or "–",
            right=post.get(key) or "–",
            same=bool(person.get(key)) and person.get(key) == post.get(key),
        )
        for key, label in COMPARED
    ]


@login_required
@require_GET
def flag_queue(request: AuthenticatedRequest) -> HttpResponse:
    """The review queue: open flags first, filtered by kind, severity, status, tender and
    organization."""
    _require(permissions.can_view_integrity_flags(request.user))
    queryset, filterset = selectors.flag_queue(request.user, filters=request.GET or None)
    page, query = paginate(request, queryset, QUEUE_PAGE_SIZE)
    context = {
        "flags": page.object_list,
        "page": page,
        "query": query,
        "filter": filterset,
        "counts": selectors.flag_counts(request.user),
        "runs": list(selectors.run_list_for_user(request.user)[:5]),
        "run_form": forms.ScreensRunForm(),
    }
    return render(request, "evaluation/integrity/queue.html", context)


def _flag_page(
    request: AuthenticatedRequest,
    flag: IntegrityFlag,
    *,
    confirm_form: Any = None,
    dismiss_form: Any = None,
    resolve_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    evidence = selectors.masked_evidence(user, flag.evidence)
    context = {
        "flag": flag,
        "evidence": evidence,
        "evidence_json": json.dumps(evidence, ensure_ascii=False, indent=2),
        "comparison": comparison(evidence)
        if flag.kind == FlagKind.STAFF_ON_PUBLIC_PAYROLL
        else None,
        "confirm_form": (confirm_form or forms.FlagConfirmForm())
        if permissions.can_confirm_flag(user, flag)
        else None,
        "dismiss_form": (dismiss_form or forms.FlagDismissForm())
        if permissions.can_dismiss_flag(user, flag)
        else None,
        "resolve_form": (resolve_form or forms.FlagResolveForm())
        if permissions.can_resolve_flag(user, flag)
        else None,
    }
    return render(request, "evaluation/integrity/flag.html", context, status=status)


@login_required
@require_GET
def flag_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _flag_page(request, selectors.flag_get_for_user(request.user, pk))


@login_required
@require_POST
def flag_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    flag = selectors.flag_get_for_user(request.user, pk)
    form = forms.FlagConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.flag_confirm(flag=flag, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The flag is confirmed."))
            return redirect("evaluation:integrity_flag", pk=flag.pk)
    return _flag_page(request, flag, confirm_form=form, status=400)


@login_required
@require_POST
def flag_dismiss(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    flag = selectors.flag_get_for_user(request.user, pk)
    form = forms.FlagDismissForm(request.POST)
    if form.is_valid():
        try:
            services.flag_dismiss(flag=flag, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The flag is dismissed."))
            return redirect("evaluation:integrity_flag", pk=flag.pk)
    return _flag_page(request, flag, dismiss_form=form, status=400)


@login_required
@require_POST
def flag_resolve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    flag = selectors.flag_get_for_user(request.user, pk)
    form = forms.FlagResolveForm(request.POST)
    if form.is_valid():
        try:
            services.flag_resolve(
                flag=flag, actor=request.user, resolution=form.cleaned_data["resolution"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The flag is resolved."))
            return redirect("evaluation:integrity_flag", pk=flag.pk)
    return _flag_page(request, flag, resolve_form=form, status=400)


@login_required
@require_POST
def run_start(request: AuthenticatedRequest) -> HttpResponse:
    """Queue a run of every screen (over one tender, or everything)."""
    _require(permissions.can_run_integrity_screens(request.user))
    form = forms.ScreensRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the id of a tender, or nothing to screen everything."))
        return redirect("evaluation:integrity_queue")
    tender = selectors.tender_for_screens(request.user, form.cleaned_data["tender"])
    run = services.screens_request(actor=request.user, tender=tender)
    messages.success(request, _("The screens are queued; this page shows their progress."))
    return redirect("evaluation:integrity_run", pk=run.pk)


@login_required
@require_GET
def run_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A run's progress (the page refreshes itself until the run is done) and its counts."""
    run = selectors.run_get_for_user(request.user, pk)
    labels = dict(FlagKind.choices)
    counts = [(labels.get(kind, kind), number) for kind, number in run.counts.items()]
    step = labels.get(run.step, run.step)
    return render(
        request, "evaluation/integrity/run.html", {"run": run, "counts": counts, "step": step}
    )


@login_required
@require_GET
def integrity_report(request: AuthenticatedRequest) -> HttpResponse:
    """Everything the screens found, by kind, with each flag's status and review."""
    _require(permissions.can_view_integrity_flags(request.user))
    flags = list(selectors.flag_list_for_user(request.user))
    by_kind: dict[str, list[IntegrityFlag]] = {}
    for flag in flags:
        by_kind.setdefault(flag.kind, []).append(flag)
    sections = [
        {"kind": kind, "label": kind.label, "flags": by_kind.get(kind.value, [])}
        for kind in FlagKind
    ]
    context = {
        "sections": sections,
        "counts": selectors.flag_counts(request.user),
        "total": len(flags),
        "last_run": selectors.run_list_for_user(request.user).first(),
    }
    return render(request, "evaluation/integrity/report.html", context)
