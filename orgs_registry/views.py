"""Registry pages: the public directory and profiles, registration, an organization's own
pages (overview, roster, grades), the registry's queue and decisions, and assessors' scoring.

Views parse input, call one service or selector and render. Rows that belong to someone
are reached only through the ``*_for_user`` and ``*_get_managed`` selectors, which answer
404 for "not yours" and "missing" alike; writes go through ``orgs_registry.services``,
which check the permission again and raise ``PermissionDenied`` (403) or
``ValidationError`` (shown on the form, nothing saved).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed

from marketplace.models import Role, User
from marketplace.pagination import paginate as _paginate
from marketplace.permissions import has_role
from marketplace.ratelimits import limit_registrations
from orgs_registry import forms, permissions, selectors, services
from orgs_registry.exit import open_commitments
from orgs_registry.models import (
    ChangeRequest,
    ChangeRequestStatus,
    CreditEntry,
    CreditProposal,
    CreditProposalStatus,
    FundingType,
    GradeAssessment,
    GradeAssessmentStatus,
    Organization,
)
from orgs_registry.roster_import import COLUMNS as ROSTER_COLUMNS
from orgs_registry.roster_import import RosterImportError, roster_import

DIRECTORY_PAGE_SIZE = 30
ROSTER_PAGE_SIZE = 50
LIST_PAGE_SIZE = 30
# The importer also accepts the Chinese headers; the template names columns by code.
ROSTER_TEMPLATE_COLUMNS = tuple(ROSTER_COLUMNS)
# Which entry of the grade page's ``can`` shows each action's form.
ACTION_PERMISSION = {
    "assign": "assign",
    "publicize": "publicize",
    "conclude": "conclude_review",
    "downgrade": "downgrade",
    "cancel": "cancel",
    "review": "request_review",
}
GRADE_STATUS_FILTERS = [
    ("waiting", gettext_lazy("Waiting for the registry")),
    *GradeAssessmentStatus.choices,
]


# --- Helpers ---------------------------------------------------------------------------------


class AuthenticatedRequest(HttpRequest):
    """A request behind ``login_required``: its user is a signed-in account."""

    user: User


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _posted(request: HttpRequest) -> Any:
    """Form data when the request is a POST, else None (an unbound form)."""
    return request.POST if request.method == "POST" else None


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _form_page(
    request: AuthenticatedRequest,
    *,
    form: Any,
    title: str,
    submit_label: str,
    organization: Organization | None = None,
    section: str = "",
    intro: str = "",
    cancel_url: str = "",
    multipart: bool = False,
    extra: dict[str, Any] | None = None,
    template: str = "orgs_registry/form_page.html",
) -> HttpResponse:
    """One form on a page of its own, inside the organization's pages when given."""
    context = {
        "can": _org_flags(request.user, organization) if organization else {},
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "organization": organization,
        "section": section,
        "intro": intro,
        "cancel_url": cancel_url,
        "multipart": multipart,
        **(extra or {}),
    }
    return render(request, template, context)


def _org_flags(user: Any, organization: Organization) -> dict[str, bool]:
    """What the user may do on the organization's pages (the templates show only that)."""
    return {
        "manage": permissions.can_manage_organization(user, organization),
        "edit_profile": permissions.can_edit_organization_profile(user, organization),
        "resubmit": permissions.can_resubmit_organization(user, organization),
        "request_change": permissions.can_request_change(user, organization),
        "request_deregistration": permissions.can_request_deregistration(user, organization),
        "order_deregistration": permissions.can_order_deregistration(user, organization),
        "withdraw_deregistration": permissions.can_withdraw_deregistration(user, organization),
        "complete_deregistration": permissions.can_complete_deregistration(user, organization),
        "verify": permissions.can_verify_organization(user, organization),
        "manage_roster": permissions.can_manage_roster(user, organization),
        "view_id_number": permissions.can_view_id_number(user, organization),
        "request_grade": permissions.can_request_grade(user, organization),
        "manage_credit": permissions.can_manage_credit(user, organization),
    }


# --- Public pages ----------------------------------------------------------------------------


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    """The public directory of organizations, filtered; htmx swaps only the results."""
    return _directory_page(request, everything=False)


@login_required
@require_GET
def registry_organizations(request: AuthenticatedRequest) -> HttpResponse:
    """The registry's list of every registration, pending and rejected ones included."""
    _require_registry(request)
    return _directory_page(request, everything=True)


def _directory_page(request: HttpRequest, *, everything: bool) -> HttpResponse:
    organizations, filterset = selectors.organization_directory(
        request.user, filters=request.GET.dict(), everything=everything
    )
    page, query = _paginate(request, organizations, DIRECTORY_PAGE_SIZE)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "registry": everything,
        "directory_url": reverse(
            "orgs_registry:registry_organizations" if everything else "orgs_registry:directory"
        ),
    }
    template = (
        "orgs_registry/_directory_results.html"
        if _is_htmx(request)
        else "orgs_registry/directory.html"
    )
    response = render(request, template, context)
    # The same URL answers a whole page or, for htmx, only the results.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    """An organization's public record: facts, grade, credit, contracts and results."""
    organization = selectors.organization_get_for_user(request.user, pk)
    context = {
        "organization": organization,
        "record": selectors.organization_record(organization),
        "performance": selectors.organization_performance_record(organization),
        "contracts": selectors.organization_public_contracts(organization),
        "can": {"manage": permissions.can_manage_organization(request.user, organization)},
    }
    return render(request, "orgs_registry/profile.html", context)


@require_GET
def credit_lists(request: HttpRequest) -> HttpResponse:
    """The public abnormal-activity and serious-dishonesty lists (民政部令第60号)."""
    # Without a choice, the lists show who is on them now.
    entries, filterset = selectors.credit_entry_directory(filters=request.GET.dict())
    page, query = _paginate(request, entries, LIST_PAGE_SIZE)
    context = {"filter": filterset, "page": page, "query": query}
    template = (
        "orgs_registry/_credit_results.html" if _is_htmx(request) else "orgs_registry/credit.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "POST"])
@limit_registrations
def register(request: HttpRequest) -> HttpResponse:
    """Register an organization: with a new account for a visitor, or for a role-less user."""
    user = request.user
    if not user.is_authenticated:
        return _register_with_account(request)
    if not permissions.can_register_organization(user):
        return render(request, "orgs_registry/register_refused.html", status=403)
    form = forms.RegistrationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_register(user=user, **form.facts())
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _registered_message())
            return redirect("orgs_registry:manage", pk=organization.pk)
    return render(request, "orgs_registry/register.html", {"form": form, "with_account": False})


def _register_with_account(request: HttpRequest) -> HttpResponse:
    form = forms.RegistrationWithAccountForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            organization, user = services.organization_register_with_account(
                **form.account(), **form.facts()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, form.FIELD_MAP)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _registered_message())
            return redirect("orgs_registry:manage", pk=organization.pk)
    return render(request, "orgs_registry/register.html", {"form": form, "with_account": True})


def _registered_message() -> str:
    return _(
        "Your organization is registered and waiting for verification by the civil "
        "affairs registry. You can bid once it is verified."
    )


@login_required
@require_GET
def my_organization(request: AuthenticatedRequest) -> HttpResponse:
    """The signed-in member's own organization (the navigation links here)."""
    organization_id = getattr(request.user, "organization_id", None)
    if organization_id is None:
        raise Http404
    return redirect("orgs_registry:manage", pk=organization_id)


# --- The organization's own pages ------------------------------------------------------------


def _manage_page(
    request: AuthenticatedRequest,
    organization: Organization,
    *,
    deregistration_form: Any = None,
    complete_errors: Iterable[str] = (),
) -> HttpResponse:
    user = request.user
    change_requests = selectors.change_request_list_for_user(user, organization=organization)
    context = {
        "organization": organization,
        "section": "manage",
        "can": _org_flags(user, organization),
        "eligibility": selectors.org_eligibility(organization),
        "change_requests": list(change_requests[:20]),
        "credit_proposals": list(
            selectors.credit_proposal_list_for_user(user, organization=organization)[:20]
        ),
        "commitments": open_commitments(organization) if organization.is_deregistering else [],
        "deregistration_form": deregistration_form or forms.ReasonForm(prefix="deregistration"),
        "complete_errors": list(complete_errors),
    }
    return render(request, "orgs_registry/manage/overview.html", context)


@login_required
@require_GET
def manage(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Overview of the organization's own records: status, requests, exit, eligibility."""
    organization = selectors.organization_get_managed(request.user, pk)
    return _manage_page(request, organization)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    _require(permissions.can_edit_organization_profile(request.user, organization))
    form = forms.ProfileForm(
        _posted(request), initial=forms.OrganizationFactsForm.initial_for(organization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_profile_update(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The contact details were saved."))
            return redirect("orgs_registry:manage", pk=organization.pk)
    return _form_page(
        request,
        form=form,
        title=_("Contact details and service categories"),
        intro=_(
            "These change at once. Registered facts (name, legal representative, address...) "
            "change through a request to the registry."
        ),
        submit_label=_("Save"),
        organization=organization,
        section="manage",
        cancel_url=reverse("orgs_registry:manage", args=[organization.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def resubmit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    _require(permissions.can_resubmit_organization(request.user, organization))
    form = forms.ResubmitForm(
        _posted(request), initial=forms.OrganizationFactsForm.initial_for(organization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_resubmit(
                organization=organization, actor=request.user, **form.facts()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The corrected registration was sent to the registry."))
            return redirect("orgs_registry:manage", pk=organization.pk)
    return _form_page(
        request,
        form=form,
        title=_("Correct and resubmit the registration"),
        intro=_("The registry rejected the registration: %(reason)s")
        % {"reason": organization.rejection_reason},
        submit_label=_("Resubmit"),
        organization=organization,
        section="manage",
        cancel_url=reverse("orgs_registry:manage", args=[organization.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def change_request_new(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    _require(permissions.can_request_change(request.user, organization))
    form = forms.ChangeRequestForm(
        _posted(request), initial=forms.OrganizationFactsForm.initial_for(organization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_request_create(
                organization=organization,
                actor=request.user,
                changes=form.changes(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The change request was sent to the registry."))
            return redirect("orgs_registry:manage", pk=organization.pk)
    return _form_page(
        request,
        form=form,
        title=_("Request a change of registered facts"),
        intro=_(
            "Change the values that differ from the register and say why; the registry "
            "checks the request against your documents and applies it when approved."
        ),
        submit_label=_("Send the request"),
        organization=organization,
        section="manage",
        cancel_url=reverse("orgs_registry:manage", args=[organization.pk]),
    )


@login_required
@require_POST
def deregistration_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organization requests, or the registry orders, deregistration (注销退出)."""
    organization = selectors.organization_get_managed(request.user, pk)
    form = forms.ReasonForm(request.POST, prefix="deregistration")
    if form.is_valid():
        try:
            services.organization_deregistration_start(
                organization=organization, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Deregistration has started. It completes once every open commitment "
                    "is settled."
                ),
            )
            return redirect("orgs_registry:manage", pk=organization.pk)
    return _manage_page(request, organization, deregistration_form=form)


@login_required
@require_POST
def deregistration_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    services.organization_deregistration_withdraw(organization=organization, actor=request.user)
    messages.success(request, _("Deregistration was withdrawn."))
    return redirect("orgs_registry:manage", pk=organization.pk)


@login_required
@require_POST
def deregistration_complete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    try:
        services.organization_deregistration_complete(organization=organization, actor=request.user)
    except ValidationError as exc:
        return _manage_page(request, organization, complete_errors=exc.messages)
    messages.success(request, _("The organization is deregistered."))
    return redirect("orgs_registry:manage", pk=organization.pk)


# --- Roster ----------------------------------------------------------------------------------


@login_required
@require_GET
def roster(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The staff roster; ID numbers and phones in full only for the org's admins and auditors."""
    organization = selectors.organization_get_managed(request.user, pk)
    employments = selectors.staff_list_for_user(request.user, organization)
    page, query = _paginate(request, employments, ROSTER_PAGE_SIZE)
    context = {
        "organization": organization,
        "section": "staff",
        "can": _org_flags(request.user, organization),
        "page": page,
        "query": query,
        "today": timezone.localdate(),
    }
    return render(request, "orgs_registry/staff/roster.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def staff_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    _require(permissions.can_manage_roster(request.user, organization))
    form = forms.StaffForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            employment = services.staff_add(
                organization=organization, actor=request.user, data=form.staff_input()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, form.FIELD_MAP)
        else:
            messages.success(
                request,
                _("%(name)s is on the roster.") % {"name": employment.person.name},
            )
            return redirect("orgs_registry:roster", pk=organization.pk)
    return _form_page(
        request,
        form=form,
        title=_("Add a staff member"),
        intro=_(
            "A person is recorded once, by ID number: someone already on another roster "
            "keeps their record, and the name must match it."
        ),
        submit_label=_("Add to the roster"),
        organization=organization,
        section="staff",
        cancel_url=reverse("orgs_registry:roster", args=[organization.pk]),
    )


def _person_page(
    request: AuthenticatedRequest,
    organization: Organization,
    person_id: int,
    *,
    qualification_form: Any = None,
) -> HttpResponse:
    person = selectors.staff_get_for_user(request.user, organization, person_id)
    context = {
        "organization": organization,
        "section": "staff",
        "person": person,
        "can": _org_flags(request.user, organization),
        "qualification_form": qualification_form or forms.QualificationForm(),
    }
    return render(request, "orgs_registry/staff/person.html", context)


@login_required
@require_GET
def staff_detail(request: AuthenticatedRequest, pk: int, person_id: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    return _person_page(request, organization, person_id)


@login_required
@require_POST
def qualification_record(request: AuthenticatedRequest, pk: int, person_id: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    person = selectors.staff_get_for_user(request.user, organization, person_id)
    form = forms.QualificationForm(request.POST)
    if form.is_valid():
        try:
            services.staff_qualification_record(
                organization=organization, person=person, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The qualification was recorded."))
            return redirect("orgs_registry:staff_detail", pk=organization.pk, person_id=person.pk)
    return _person_page(request, organization, person.pk, qualification_form=form)


def _employment_page(
    request: AuthenticatedRequest,
    organization: Organization,
    employment: Any,
    *,
    form: Any = None,
    end_form: Any = None,
) -> HttpResponse:
    initial = {
        "role": employment.role,
        "weekly_hours": employment.weekly_hours,
        "start_date": employment.start_date,
        "end_date": employment.end_date,
    }
    return _form_page(
        request,
        form=form or forms.EmploymentForm(initial=initial),
        title=_("Employment of %(name)s") % {"name": employment.person.name},
        submit_label=_("Save"),
        organization=organization,
        section="staff",
        cancel_url=reverse(
            "orgs_registry:staff_detail", args=[organization.pk, employment.person_id]
        ),
        template="orgs_registry/staff/employment.html",
        extra={
            "employment": employment,
            "end_form": end_form
            or forms.EmploymentEndForm(prefix="end", initial={"end_date": timezone.localdate()}),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def employment_edit(request: AuthenticatedRequest, pk: int, employment_id: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    employment = selectors.employment_get_for_user(request.user, organization, employment_id)
    _require(permissions.can_manage_roster(request.user, organization))
    form = forms.EmploymentForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        end_date = form.cleaned_data["end_date"]
        try:
            services.staff_update(
                employment=employment,
                actor=request.user,
                role=form.cleaned_data["role"],
                weekly_hours=form.cleaned_data["weekly_hours"],
                start_date=form.cleaned_data["start_date"],
                end_date=end_date,
                clear_end_date=end_date is None,
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The employment was saved."))
            return redirect(
                "orgs_registry:staff_detail", pk=organization.pk, person_id=employment.person_id
            )
    return _employment_page(
        request, organization, employment, form=form if request.method == "POST" else None
    )


@login_required
@require_POST
def employment_end(request: AuthenticatedRequest, pk: int, employment_id: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    employment = selectors.employment_get_for_user(request.user, organization, employment_id)
    form = forms.EmploymentEndForm(request.POST, prefix="end")
    if form.is_valid():
        try:
            services.staff_update(
                employment=employment, actor=request.user, end_date=form.cleaned_data["end_date"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s has left the roster.") % {"name": employment.person.name}
            )
            return redirect("orgs_registry:roster", pk=organization.pk)
    return _employment_page(request, organization, employment, end_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def roster_upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Import a whole roster from CSV or XLSX: every row or none, each problem listed."""
    organization = selectors.organization_get_managed(request.user, pk)
    _require(permissions.can_manage_roster(request.user, organization))
    form = forms.RosterImportForm(_posted(request), request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = roster_import(
                organization=organization, actor=request.user, upload=form.cleaned_data["file"]
            )
        except RosterImportError as exc:
            problems = [str(problem) for problem in exc.problems]
            form.add_error(
                None,
                _("Nothing was imported: %(count)s problems in the file, listed below.")
                % {"count": len(problems)},
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Imported %(rows)s rows; %(people)s people were recorded for the first time.")
                % {"rows": result.rows, "people": result.people_created},
            )
            return redirect("orgs_registry:roster", pk=organization.pk)
    return _form_page(
        request,
        form=form,
        title=_("Import the roster from a file"),
        submit_label=_("Import"),
        organization=organization,
        section="staff",
        multipart=True,
        cancel_url=reverse("orgs_registry:roster", args=[organization.pk]),
        template="orgs_registry/staff/import.html",
        extra={"problems": problems, "columns": ROSTER_TEMPLATE_COLUMNS},
    )


@login_required
@require_GET
def roster_template(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The CSV template for the roster import: the header row the importer expects."""
    organization = selectors.organization_get_managed(request.user, pk)
    response = HttpResponse(
        ",".join(ROSTER_TEMPLATE_COLUMNS) + "\r\n", content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="roster-template-{organization.uscc}.csv"'
    )
    return response


# --- The organization's grades ---------------------------------------------------------------


def _org_grades_page(
    request: AuthenticatedRequest, organization: Organization, *, request_errors: Iterable[str] = ()
) -> HttpResponse:
    assessments = selectors.grade_assessment_list_for_user(request.user, organization=organization)
    context = {
        "organization": organization,
        "section": "grades",
        "can": _org_flags(request.user, organization),
        "record": selectors.organization_record(organization),
        "assessments": list(assessments),
        "request_errors": list(request_errors),
    }
    return render(request, "orgs_registry/grades/organization.html", context)


@login_required
@require_GET
def organization_grades(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    return _org_grades_page(request, organization)


@login_required
@require_POST
def grade_request(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_managed(request.user, pk)
    try:
        assessment = services.grade_request(organization=organization, actor=request.user)
    except ValidationError as exc:
        return _org_grades_page(request, organization, request_errors=exc.messages)
    messages.success(
        request, _("The grade assessment was requested; the registry assigns an assessor.")
    )
    return redirect("orgs_registry:grade_detail", pk=assessment.pk)


# --- Grade assessments (assessors, the registry, the organization) ---------------------------


@login_required
@require_GET
def grade_list(request: AuthenticatedRequest) -> HttpResponse:
    """Assessments the user works on: an assessor's own, all of them for the registry."""
    status = request.GET.get("status", "")
    if status != "waiting" and status not in GradeAssessmentStatus.values:
        status = ""
    assessments = selectors.grade_assessment_list_for_user(request.user, status=status)
    page, query = _paginate(request, assessments.order_by("-requested_at", "-pk"), LIST_PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "status": status,
        "statuses": GRADE_STATUS_FILTERS,
        "is_assessor": has_role(request.user, Role.ASSESSOR),
    }
    return render(request, "orgs_registry/grades/list.html", context)


def _score_groups(assessment: GradeAssessment, form: Any) -> list[dict[str, Any]]:
    """Indicators grouped by their group, each with its saved score and form fields."""
    saved = {score.indicator_id: score for score in assessment.scores.all()}
    rows = {row["indicator"].pk: row for row in form.rows()} if form is not None else {}
    groups: list[dict[str, Any]] = []
    for indicator in assessment.indicator_set.indicators.all():
        if not groups or groups[-1]["label"] != indicator.group_label:
            groups.append(
                {"label": indicator.group_label, "rows": [], "max": 0, "score": Decimal("0")}
            )
        group = groups[-1]
        score = saved.get(indicator.pk)
        group["rows"].append(
            {"indicator": indicator, "saved": score, "fields": rows.get(indicator.pk)}
        )
        group["max"] += indicator.max_points
        if score is not None:
            group["score"] += score.score
    return groups


def _grade_page(
    request: AuthenticatedRequest,
    assessment: GradeAssessment,
    *,
    scores_form: Any = None,
    propose_errors: Iterable[str] = (),
    action_forms: dict[str, Any] | None = None,
    action_errors: Iterable[str] = (),
) -> HttpResponse:
    user = request.user
    can_score = permissions.can_score_grade(user, assessment)
    administer = permissions.can_administer_grades(user, assessment)
    indicators = list(assessment.indicator_set.indicators.all())
    scores = list(assessment.scores.all())
    if can_score and scores_form is None:
        scores_form = forms.ScoresForm(
            indicators=indicators, scores=scores, comment=assessment.assessor_comment
        )
    today = timezone.localdate()
    can = {
        "score": can_score,
        "see_scores": permissions.can_view_grade_scores(user, assessment),
        "request_review": permissions.can_request_grade_review(user, assessment),
        "assign": administer and can_proceed(assessment.assign),
        "publicize": administer and can_proceed(assessment.publicize),
        "conclude_review": administer and can_proceed(assessment.conclude_review),
        "confirm": administer and can_proceed(assessment.confirm),
        "downgrade": administer and assessment.in_force_on(today),
        "cancel": administer and can_proceed(assessment.cancel),
    }
    bound = action_forms or {}
    # A refused action whose form is no longer shown (the state moved on meanwhile) still
    # says why, at the top of the page.
    action_errors = list(action_errors)
    for name, form in bound.items():
        if not can[ACTION_PERMISSION[name]]:
            action_errors.extend(str(error) for error in form.non_field_errors())
    action = {
        "assign": bound.get("assign") or forms.AssignAssessorForm(prefix="assign"),
        "publicize": bound.get("publicize") or forms.PublicizeForm(prefix="publicize"),
        "conclude": bound.get("conclude")
        or forms.ReviewConclusionForm(prefix="conclude", indicators=indicators, scores=scores),
        "downgrade": bound.get("downgrade") or forms.ReasonForm(prefix="downgrade"),
        "cancel": bound.get("cancel") or forms.ReasonForm(prefix="cancel"),
        "review": bound.get("review") or forms.ReasonForm(prefix="review"),
    }
    total = sum((s.score for s in scores), Decimal("0"))
    cutoffs = assessment.indicator_set.cutoff_table()
    context = {
        "assessment": assessment,
        "organization": assessment.organization,
        "can": can,
        "groups": _score_groups(assessment, scores_form if can_score else None),
        "scores_form": scores_form,
        "total": total,
        "max_total": sum(i.max_points for i in indicators),
        "scored": len(scores),
        "indicator_count": len(indicators),
        "grade_for_total": services.grade_for_score(total, cutoffs),
        "cutoffs": sorted(cutoffs.items(), key=lambda item: -item[1]),
        "propose_errors": list(propose_errors),
        "action": action,
        "action_errors": action_errors,
        "conclude_rows": _score_groups(assessment, action["conclude"])
        if can["conclude_review"]
        else [],
    }
    return render(request, "orgs_registry/grades/detail.html", context)


@login_required
@require_GET
def grade_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assessment = selectors.grade_assessment_get_for_user(request.user, pk)
    return _grade_page(request, assessment)


@login_required
@require_POST
def grade_scores_save(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The assessor saves a draft of the scores (and the conclusion)."""
    assessment = selectors.grade_assessment_get_for_user(request.user, pk)
    form = forms.ScoresForm(
        request.POST,
        indicators=assessment.indicator_set.indicators.all(),
        scores=assessment.scores.all(),
    )
    if form.is_valid():
        try:
            services.grade_scores_save(
                assessment=assessment,
                actor=request.user,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, form.field_map)
        else:
            messages.success(request, _("The scores were saved as a draft."))
            return redirect("orgs_registry:grade_detail", pk=assessment.pk)
    return _grade_page(request, assessment, scores_form=form)


@login_required
@require_POST
def grade_propose(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The assessor submits the saved scores; the total and grade are computed."""
    assessment = selectors.grade_assessment_get_for_user(request.user, pk)
    try:
        assessment = services.grade_propose(assessment=assessment, actor=request.user)
    except ValidationError as exc:
        return _grade_page(request, assessment, propose_errors=exc.messages)
    messages.success(
        request,
        _("The scores were submitted: %(total)s points, proposed grade %(grade)s.")
        % {"total": assessment.total_score, "grade": assessment.proposed_grade or "–"},
    )
    return redirect("orgs_registry:grade_detail", pk=assessment.pk)


def _grade_action(
    request: AuthenticatedRequest,
    pk: int,
    *,
    name: str,
    form_class: Callable[..., Any],
    call: Callable[[GradeAssessment, Any], Any],
    done: str,
    form_kwargs: Callable[[GradeAssessment], dict[str, Any]] | None = None,
) -> HttpResponse:
    """Run one grade service with one form; on error show the form again on the page."""
    assessment = selectors.grade_assessment_get_for_user(request.user, pk)
    extra = form_kwargs(assessment) if form_kwargs else {}
    form = form_class(request.POST, prefix=name, **extra)
    if form.is_valid():
        try:
            call(assessment, form)
        except ValidationError as exc:
            forms.add_service_errors(form, exc, getattr(form, "field_map", None))
        else:
            messages.success(request, done)
            return redirect("orgs_registry:grade_detail", pk=assessment.pk)
    return _grade_page(request, assessment, action_forms={name: form})


def _assessment_indicators(assessment: GradeAssessment) -> dict[str, Any]:
    return {
        "indicators": assessment.indicator_set.indicators.all(),
        "scores": assessment.scores.all(),
    }


@login_required
@require_POST
def grade_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _grade_action(
        request,
        pk,
        name="assign",
        form_class=forms.AssignAssessorForm,
        call=lambda assessment, form: services.grade_assign(
            assessment=assessment, actor=request.user, assessor=form.cleaned_data["assessor"]
        ),
        done=_("The assessor was assigned."),
    )


@login_required
@require_POST
def grade_publicize(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _grade_action(
        request,
        pk,
        name="publicize",
        form_class=forms.PublicizeForm,
        call=lambda assessment, form: services.grade_publicize(
            assessment=assessment, actor=request.user, days=form.cleaned_data["days"]
        ),
        done=_("The result is on public notice."),
    )


@login_required
@require_POST
def grade_review_request(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _grade_action(
        request,
        pk,
        name="review",
        form_class=forms.ReasonForm,
        call=lambda assessment, form: services.grade_review_request(
            assessment=assessment, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("The review was requested; the registry answers it before confirming."),
    )


@login_required
@require_POST
def grade_review_conclude(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _grade_action(
        request,
        pk,
        name="conclude",
        form_class=forms.ReviewConclusionForm,
        form_kwargs=_assessment_indicators,
        call=lambda assessment, form: services.grade_review_conclude(
            assessment=assessment,
            actor=request.user,
            conclusion=form.cleaned_data["conclusion"],
            scores=form.scores() or None,
        ),
        done=_("The review was concluded."),
    )


@login_required
@require_POST
def grade_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assessment = selectors.grade_assessment_get_for_user(request.user, pk)
    try:
        assessment = services.grade_confirm(assessment=assessment, actor=request.user)
    except ValidationError as exc:
        return _grade_page(request, assessment, action_errors=exc.messages)
    messages.success(
        request,
        _("Grade %(grade)s confirmed, valid until %(day)s.")
        % {"grade": assessment.grade or "–", "day": assessment.valid_until},
    )
    return redirect("orgs_registry:grade_detail", pk=assessment.pk)


@login_required
@require_POST
def grade_downgrade(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _grade_action(
        request,
        pk,
        name="downgrade",
        form_class=forms.ReasonForm,
        call=lambda assessment, form: services.grade_downgrade(
            assessment=assessment, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("The grade was lowered one level."),
    )


@login_required
@require_POST
def grade_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _grade_action(
        request,
        pk,
        name="cancel",
        form_class=forms.ReasonForm,
        call=lambda assessment, form: services.grade_cancel(
            assessment=assessment, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("The grade assessment was cancelled."),
    )


# --- The registry ----------------------------------------------------------------------------


def _require_registry(request: AuthenticatedRequest) -> None:
    _require(permissions.is_registry_admin(request.user))


@login_required
@require_GET
def registry_home(request: AuthenticatedRequest) -> HttpResponse:
    """The registry's queue: registrations to verify, and what else waits for a decision."""
    _require_registry(request)
    user = request.user
    page, query = _paginate(request, selectors.pending_registration_list(user), LIST_PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "pending_change_requests": selectors.pending_change_request_count(user),
        "grades_waiting": selectors.grade_assessment_list_for_user(user, status="waiting").count(),
        "active_credit_entries": selectors.credit_entry_list(active_only=True).count(),
        "credit_proposals_waiting": selectors.credit_proposal_waiting_count(user),
    }
    return render(request, "orgs_registry/registry/home.html", context)


@login_required
@require_POST
def organization_verify(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_for_user(request.user, pk)
    services.organization_verify(organization=organization, actor=request.user)
    messages.success(request, _("%(name)s is verified and active.") % {"name": organization.name})
    return redirect("orgs_registry:registry_home")


@login_required
@require_http_methods(["GET", "POST"])
def organization_reject(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = selectors.organization_get_for_user(request.user, pk)
    _require(permissions.can_verify_organization(request.user, organization))
    form = forms.ReasonForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_reject(
                organization=organization, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The registration of %(name)s was rejected; the organization can correct it.")
                % {"name": organization.name},
            )
            return redirect("orgs_registry:registry_home")
    return _form_page(
        request,
        form=form,
        title=_("Reject the registration of %(name)s") % {"name": organization.name},
        intro=_("The organization sees the reason and can correct and resubmit."),
        submit_label=_("Reject the registration"),
        cancel_url=reverse("orgs_registry:registry_home"),
        extra={"registry": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request: AuthenticatedRequest) -> HttpResponse:
    """The registry records an organization it has verified already (created active)."""
    _require(permissions.can_create_verified_organization(request.user))
    form = forms.OrganizationFactsForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(
                actor=request.user, verified=True, **form.facts()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s is registered and active.") % {"name": organization.name}
            )
            return redirect("orgs_registry:manage", pk=organization.pk)
    return _form_page(
        request,
        form=form,
        title=_("Record a verified organization"),
        intro=_(
            "For an organization whose registration the registry has already checked "
            "(for example from its certificate); it is active at once."
        ),
        submit_label=_("Record the organization"),
        cancel_url=reverse("orgs_registry:registry_home"),
        extra={"registry": True},
    )


@login_required
@require_GET
def change_request_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_registry(request)
    status = request.GET.get("status", ChangeRequestStatus.PENDING)
    if status not in ChangeRequestStatus.values:
        status = ""
    change_requests = selectors.change_request_list_for_user(request.user, status=status)
    page, query = _paginate(request, change_requests, LIST_PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "status": status,
        "statuses": ChangeRequestStatus.choices,
    }
    return render(request, "orgs_registry/registry/change_requests.html", context)


def _change_rows(change_request: ChangeRequest) -> list[dict[str, Any]]:
    """Each requested fact with its label, the value before and the value asked for."""
    rows = []
    for field_name, requested in change_request.changes.items():
        previous = change_request.previous.get(field_name, "")
        if field_name == "funding_type":
            previous, requested = (
                FundingType(previous).label if previous in FundingType.values else previous,
                FundingType(requested).label if requested in FundingType.values else requested,
            )
        rows.append(
            {
                "label": capfirst(Organization._meta.get_field(field_name).verbose_name),
                "previous": previous,
                "requested": requested,
            }
        )
    return rows


def _change_request_page(
    request: AuthenticatedRequest, change_request: ChangeRequest, *, form: Any = None
) -> HttpResponse:
    context = {
        "change_request": change_request,
        "organization": change_request.organization,
        "rows": _change_rows(change_request),
        "can_decide": permissions.can_decide_change_request(request.user, change_request)
        and change_request.status == ChangeRequestStatus.PENDING,
        "form": form or forms.ChangeDecisionForm(),
    }
    return render(request, "orgs_registry/registry/change_request.html", context)


@login_required
@require_GET
def change_request_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    change_request = selectors.change_request_get_for_user(request.user, pk)
    return _change_request_page(request, change_request)


@login_required
@require_POST
def change_request_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    change_request = selectors.change_request_get_for_user(request.user, pk)
    form = forms.ChangeDecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.change_request_decide(
                change_request=change_request,
                actor=request.user,
                approve=approve,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The change was approved and applied.")
                if approve
                else _("The change request was rejected."),
            )
            return redirect("orgs_registry:change_requests")
    return _change_request_page(request, change_request, form=form)


def _credit_page(
    request: AuthenticatedRequest,
    organization: Organization,
    *,
    entry_form: Any = None,
    measure_form: Any = None,
    remove_forms: dict[int, Any] | None = None,
) -> HttpResponse:
    record = selectors.organization_record(organization)
    remove_forms = remove_forms or {}
    context = {
        "organization": organization,
        "section": "credit",
        "record": record,
        "entries": [
            (
                entry,
                remove_forms.get(entry.pk) or forms.CreditRemoveForm(prefix=f"remove-{entry.pk}"),
            )
            for entry in record.credit_entries
        ],
        "entry_form": entry_form or forms.CreditEntryForm(prefix="entry"),
        "measure_form": measure_form or forms.CreditMeasureForm(prefix="measure"),
        "can": _org_flags(request.user, organization),
    }
    return render(request, "orgs_registry/registry/credit.html", context)


def _credit_organization(request: AuthenticatedRequest, pk: int) -> Organization:
    organization = selectors.organization_get_for_user(request.user, pk)
    _require(permissions.can_manage_credit(request.user, organization))
    return organization


@login_required
@require_GET
def credit_manage(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The registry keeps the organization's credit record: list entries, rewards, penalties."""
    return _credit_page(request, _credit_organization(request, pk))


@login_required
@require_POST
def credit_entry_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = _credit_organization(request, pk)
    form = forms.CreditEntryForm(request.POST, prefix="entry")
    if form.is_valid():
        try:
            services.credit_entry_add(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The organization was put on the list."))
            return redirect("orgs_registry:credit_manage", pk=organization.pk)
    return _credit_page(request, organization, entry_form=form)


@login_required
@require_POST
def credit_measure_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organization = _credit_organization(request, pk)
    form = forms.CreditMeasureForm(request.POST, prefix="measure")
    if form.is_valid():
        try:
            services.credit_measure_add(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The reward or penalty was recorded."))
            return redirect("orgs_registry:credit_manage", pk=organization.pk)
    return _credit_page(request, organization, measure_form=form)


@login_required
@require_POST
def credit_entry_remove(request: AuthenticatedRequest, entry_id: int) -> HttpResponse:
    entry: CreditEntry = selectors.credit_entry_get(entry_id)
    organization = _credit_organization(request, entry.organization_id)
    form = forms.CreditRemoveForm(request.POST, prefix=f"remove-{entry.pk}")
    if form.is_valid():
        try:
            services.credit_entry_remove(entry=entry, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc, form.FIELD_MAP)
        else:
            messages.success(request, _("The entry was removed from the list."))
            return redirect("orgs_registry:credit_manage", pk=organization.pk)
    return _credit_page(request, organization, remove_forms={entry.pk: form})


# --- Credit proposals ------------------------------------------------------------------------


@login_required
@require_GET
def credit_proposal_list(request: AuthenticatedRequest) -> HttpResponse:
    """The registry's queue of proposed credit entries (auditors read it)."""
    _require(permissions.can_view_credit_proposals(request.user))
    status = request.GET.get("status", CreditProposalStatus.PROPOSED)
    if status not in CreditProposalStatus.values:
        status = ""
    proposals = selectors.credit_proposal_list_for_user(request.user, status=status)
    page, query = _paginate(request, proposals, LIST_PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "status": status,
        "statuses": CreditProposalStatus.choices,
    }
    return render(request, "orgs_registry/registry/credit_proposals.html", context)


def _credit_proposal_page(
    request: AuthenticatedRequest, proposal: CreditProposal, *, form: Any = None
) -> HttpResponse:
    context = {
        "proposal": proposal,
        "organization": proposal.organization,
        "can_decide": permissions.can_decide_credit_proposal(request.user, proposal),
        "can_list": permissions.can_view_credit_proposals(request.user),
        "form": form or forms.CreditProposalDecisionForm(),
    }
    return render(request, "orgs_registry/registry/credit_proposal.html", context)


@login_required
@require_GET
def credit_proposal_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    proposal = selectors.credit_proposal_get_for_user(request.user, pk)
    return _credit_proposal_page(request, proposal)


@login_required
@require_POST
def credit_proposal_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    proposal = selectors.credit_proposal_get_for_user(request.user, pk)
    form = forms.CreditProposalDecisionForm(request.POST)
    if form.is_valid():
        confirm = form.cleaned_data["decision"] == "confirm"
        try:
            services.credit_proposal_decide(
                proposal=proposal,
                actor=request.user,
                confirm=confirm,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The organization was put on the list.")
                if confirm
                else _("The proposal was rejected."),
            )
            return redirect("orgs_registry:credit_proposals")
    return _credit_proposal_page(request, proposal, form=form)
