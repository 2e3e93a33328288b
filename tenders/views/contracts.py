"""Contract pages: the public list and contract page (team names masked, milestones with
their payments), drawing up and editing the draft, signing, termination, team changes and
payment records.

Views parse input, call one service or selector and render; the services check the
permission again and raise ``PermissionDenied`` (403) or ``ValidationError`` (shown on
the form, nothing saved).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marketplace.models import User
from marketplace.permissions import is_official
from tenders import selectors
from tenders.forms import contracts as forms
from tenders.models import Contract, ContractStatus
from tenders.permissions import contracts as permissions
from tenders.permissions import delivery as delivery_permissions
from tenders.selectors import contracts as contract_selectors
from tenders.services import contracts as services
from tenders.services import tender_ready_for_contract
from tenders.views import LIST_PAGE_SIZE, _paginate, _posted, _require, _tender_page


class AuthenticatedRequest(HttpRequest):
    user: User


def _contract_flags(user: Any, contract: Contract) -> dict[str, bool]:
    """What the user may do with the contract (the templates show only that)."""
    return {
        "edit": permissions.can_edit_contract(user, contract),
        "sign": permissions.can_sign_contract(user, contract),
        "terminate": permissions.can_terminate_contract(user, contract),
        "request_team_change": permissions.can_request_team_change(user, contract),
        "see_team_changes": permissions.can_view_team_changes(user, contract),
        "see_payments": permissions.can_see_payments(user, contract),
        "record_payment": is_official(user),
        "view_delivery": delivery_permissions.can_view_delivery(user, contract),
        "view_survey_sites": delivery_permissions.can_manage_survey_sites(user, contract)
        or delivery_permissions.can_print_survey_code(user, contract),
        "view_satisfaction": delivery_permissions.can_view_satisfaction(user, contract),
    }


def _contract_page(
    request: HttpRequest,
    template: str,
    contract: Contract,
    *,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """A page about one contract, under its header."""
    user = request.user
    milestones = list(contract_selectors.milestone_list_for_user(user, contract))
    today = timezone.localdate()
    base = {
        "contract": contract,
        "can": _contract_flags(user, contract),
        "milestones": milestones,
        "payments": contract_selectors.payment_summary(contract, milestones),
        "sign_overdue": contract.status == ContractStatus.DRAFT and today > contract.sign_due,
        "today": today,
        "office_name": settings.STREET_OFFICE["name"],
    }
    return render(request, template, {**base, **(context or {})}, status=status)


def _detail_context(user: Any, contract: Contract) -> dict[str, Any]:
    changes = list(contract_selectors.team_change_list_for_user(user, contract))
    return {
        "team": contract_selectors.contract_team_for_user(user, contract),
        "team_changes": changes,
        "decide_team_change": any(permissions.can_decide_team_change(user, c) for c in changes),
        "decision_form": forms.TeamChangeDecisionForm(prefix="decision"),
        "payment_form": forms.PaymentForm(prefix="payment"),
    }


@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    """Signed contracts for everyone; drafts too for the two parties and auditors."""
    filter_form = forms.ContractFilterForm(request.GET or None)
    contracts, filterset = contract_selectors.contract_directory(
        request.user, filters=request.GET or None
    )
    page, query = _paginate(request, contracts, LIST_PAGE_SIZE)
    context = {
        "filter_form": filter_form,
        "filter_errors": filterset.errors if filterset.is_bound else {},
        "page": page,
        "query": query,
        "today": timezone.localdate(),
    }
    return render(request, "tenders/contracts/list.html", context)


@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The contract: parties, price, period, deliverables, the team (names masked for the
    public), milestones with released and withheld amounts and their reasons."""
    contract = contract_selectors.contract_get_for_user(request.user, pk)
    context = _detail_context(request.user, contract)
    return _contract_page(request, "tenders/contracts/detail.html", contract, context=context)


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An official draws up the contract of an awarded tender."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _require(permissions.can_draft_contract(request.user, tender))
    existing = contract_selectors.contract_for_tender(request.user, tender)
    if existing is not None:
        return redirect("tenders:contract_detail", pk=existing.pk)
    initial = {
        "service_start": tender.service_start,
        "service_end": tender.service_end,
        "deliverables": tender.description,
    }
    form = forms.ContractDraftForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_draft(
                tender=tender, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The contract is drawn up; both sides sign it by %(day)s.")
                % {"day": contract.sign_due.isoformat()},
            )
            return redirect("tenders:contract_detail", pk=contract.pk)
    context = {
        "form": form,
        "ready": tender_ready_for_contract(tender),
        "title": _("Draw up the contract"),
    }
    return _tender_page(
        request, "tenders/contracts/create.html", tender, section="contract", context=context
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The official edits the draft: term, deliverables, milestone amounts and due dates."""
    contract = contract_selectors.contract_get_for_user(request.user, pk)
    _require(permissions.can_edit_contract(request.user, contract))
    milestones = list(contract_selectors.milestone_list_for_user(request.user, contract))
    initial = {
        "service_start": contract.service_start,
        "service_end": contract.service_end,
        "long_term_reason": contract.long_term_reason,
        "deliverables": contract.deliverables,
    }
    form = forms.ContractEditForm(_posted(request), initial=initial, milestones=milestones)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(
                contract=contract,
                actor=request.user,
                service_start=form.cleaned_data["service_start"],
                service_end=form.cleaned_data["service_end"],
                long_term_reason=form.cleaned_data["long_term_reason"],
                deliverables=form.cleaned_data["deliverables"],
                milestones=form.milestone_data(),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("tenders:contract_detail", pk=contract.pk)
    return _contract_page(request, "tenders/contracts/edit.html", contract, context={"form": form})


def _refused(request: HttpRequest, contract: Contract, exc: ValidationError) -> HttpResponse:
    """A refused action on the contract page: the page again with the reasons on top."""
    context = _detail_context(request.user, contract)
    context["action_errors"] = [str(message) for message in exc.messages]
    return _contract_page(
        request, "tenders/contracts/detail.html", contract, context=context, status=400
    )


@login_required
@require_POST
def contract_sign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contract = contract_selectors.contract_get_for_user(request.user, pk)
    try:
        signed = services.contract_sign(contract=contract, actor=request.user)
    except ValidationError as exc:
        return _refused(request, contract, exc)
    if signed.status == ContractStatus.DRAFT:
        messages.success(request, _("Your signature is recorded; the other side signs next."))
    else:
        messages.success(request, _("Both sides signed: the contract is binding and published."))
    return redirect("tenders:contract_detail", pk=contract.pk)


@login_required
@require_http_methods(["GET", "POST"])
def contract_terminate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contract = contract_selectors.contract_get_for_user(request.user, pk)
    _require(permissions.can_terminate_contract(request.user, contract))
    form = forms.TerminateForm(_posted(request), prefix="terminate")
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_terminate(
                contract=contract, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The contract is terminated; open payments are withheld."))
            return redirect("tenders:contract_detail", pk=contract.pk)
    return _contract_page(
        request, "tenders/contracts/terminate.html", contract, context={"form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_change_request(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The supplier's administrator asks to add, remove or replace a member of the team."""
    contract = contract_selectors.contract_get_for_user(request.user, pk)
    _require(permissions.can_request_team_change(request.user, contract))
    members, employees = contract_selectors.team_change_choices(request.user, contract)
    form = forms.TeamChangeForm(_posted(request), members=members, employees=employees)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_change_request(contract=contract, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The change is sent to the street office for approval."))
            return redirect("tenders:contract_detail", pk=contract.pk)
    return _contract_page(
        request, "tenders/contracts/team_change.html", contract, context={"form": form}
    )


@login_required
@require_POST
def team_change_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    change = contract_selectors.team_change_get_for_user(request.user, pk)
    contract = contract_selectors.contract_get_for_user(request.user, change.contract_id)
    _require(permissions.can_decide_team_change(request.user, change))
    form = forms.TeamChangeDecisionForm(request.POST, prefix="decision")
    if not form.is_valid():
        errors = [f"{form[name].label}: {e}" for name, es in form.errors.items() for e in es]
        return _refused(request, contract, ValidationError(errors))
    try:
        services.team_change_decide(
            change=change,
            actor=request.user,
            approve=form.approves,
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        return _refused(request, contract, exc)
    messages.success(request, _("The team change is decided."))
    return redirect("tenders:contract_detail", pk=contract.pk)


@login_required
@require_POST
def milestone_payment(request: AuthenticatedRequest, pk: int, milestone_pk: int) -> HttpResponse:
    """An official records the transfer of a released milestone."""
    contract = contract_selectors.contract_get_for_user(request.user, pk)
    milestone = contract_selectors.milestone_get_for_user(request.user, contract, milestone_pk)
    _require(permissions.can_record_payment(request.user, milestone))
    form = forms.PaymentForm(request.POST, prefix="payment")
    if not form.is_valid():
        errors = [f"{form[name].label}: {e}" for name, es in form.errors.items() for e in es]
        return _refused(request, contract, ValidationError(errors))
    try:
        services.milestone_payment_record(
            milestone=milestone,
            actor=request.user,
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data["reference"],
        )
    except ValidationError as exc:
        return _refused(request, contract, exc)
    messages.success(request, _("The payment is recorded."))
    return redirect("tenders:contract_detail", pk=contract.pk)


__all__ = [
    "contract_create",
    "contract_detail",
    "contract_edit",
    "contract_list",
    "contract_sign",
    "contract_terminate",
    "milestone_payment",
    "team_change_decide",
    "team_change_request",
]
