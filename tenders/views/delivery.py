"""Delivery pages: a contract's milestones and delivery reports (filed by the supplier,
reviewed by an official), its survey sites with their QR codes and posters, the
satisfaction results, and the public survey page (no sign-in).

Views parse input, call one service or selector and render. A contract whose delivery the
user may not read is a 404, like a missing one; the services check the permission again
under their row locks.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marketplace.permissions import is_official
from marketplace.ratelimits import limit_survey_answers
from tenders.forms import delivery as forms
from tenders.models import Contract, DeliveryReport, MilestoneStatus, SurveySite
from tenders.permissions import delivery as permissions
from tenders.selectors import delivery as selectors
from tenders.services import delivery as services
from tenders.services import surveys as survey_services
from tenders.views import AuthenticatedRequest, _attachment, _files, _form_errors, _posted

# The answer refusals of the public survey and the status each page answers with.
SURVEY_REFUSAL_STATUS = {
    "already_answered": 409,
    "rate_limited": 429,
    "closed": 403,
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _contract_context(user: Any, contract: Contract) -> dict[str, Any]:
    return {
        "contract": contract,
        "tender": contract.tender,
        "delivery_can": {
            "file": permissions.can_file_report(user, contract),
            "sites": permissions.can_manage_survey_sites(user, contract),
            "print": permissions.can_print_survey_code(user, contract),
            "review": is_official(user),
        },
    }


# --- The contract's delivery -------------------------------------------------------------------


@login_required
@require_GET
def delivery(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A contract's milestones with their reports, for the parties, auditors and the
    contract's assessors."""
    contract = selectors.delivery_contract_get_for_user(request.user, pk)
    context = _contract_context(request.user, contract)
    context.update(
        {
            "milestones": selectors.milestone_list(contract),
            "planned": MilestoneStatus.PLANNED,
            "satisfaction": selectors.contract_satisfaction(contract),
        }
    )
    return render(request, "tenders/delivery/delivery.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def report_file(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The supplier files the delivery report of a planned milestone."""
    milestone = selectors.milestone_get_for_user(request.user, pk)
    contract = milestone.contract
    _require(permissions.can_file_report(request.user, contract))
    form = forms.DeliveryReportForm(_posted(request), _files(request))
    spending = forms.SpendingFormSet(_posted(request), prefix="spending")
    if request.method == "POST" and form.is_valid() and spending.is_valid():
        try:
            report = services.delivery_report_file(
                milestone=milestone,
                actor=request.user,
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                activities=form.cleaned_data["activities"],
                people_served=form.cleaned_data["people_served"],
                service_sessions=form.cleaned_data["service_sessions"] or 0,
                spending=forms.spending_rows(spending),
                uploads=form.cleaned_data["uploads"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The report is filed; the street office reviews it."))
            return redirect("tenders:delivery_report", pk=report.pk)
    context = _contract_context(request.user, contract)
    context.update(
        {
            "milestone": milestone,
            "form": form,
            "spending": spending,
            # A milestone whose report is filed (or that is settled) takes none now: the
            # page says so instead of offering a form that would be refused.
            "takes_report": milestone.status == MilestoneStatus.PLANNED,
        }
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "tenders/delivery/report_form.html", context, status=status)


@login_required
@require_GET
def reports_waiting(request: AuthenticatedRequest) -> HttpResponse:
    """The street office's queue: delivery reports waiting for review, oldest first."""
    _require(is_official(request.user))
    reports = selectors.reports_waiting_for_review(request.user)
    return render(request, "tenders/delivery/reports_waiting.html", {"reports": reports})


def _report_page(
    request: AuthenticatedRequest,
    report: DeliveryReport,
    *,
    review_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_review = permissions.can_see_review_forms(user, report)
    context = _contract_context(user, report.contract)
    context.update(
        {
            "report": report,
            "milestone": report.milestone,
            "documents": list(report.documents.all()),
            "can_review": can_review,
            "review_form": review_form or forms.ReviewForm(),
            "action_errors": [] if can_review else _form_errors(review_form),
        }
    )
    return render(request, "tenders/delivery/report.html", context, status=status)


@login_required
@require_GET
def report_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _report_page(request, selectors.report_get_for_user(request.user, pk))


def _review(request: AuthenticatedRequest, pk: int, *, accept: bool) -> HttpResponse:
    report = selectors.report_get_for_user(request.user, pk)
    _require(is_official(request.user))
    form = forms.ReviewForm(request.POST)
    if form.is_valid():
        try:
            if accept:
                services.delivery_report_accept(
                    report=report, actor=request.user, comment=form.cleaned_data["comment"]
                )
            else:
                services.delivery_report_return(
                    report=report, actor=request.user, comment=form.cleaned_data["comment"]
                )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The report is accepted.")
                if accept
                else _("The report is returned to the organization with your comments."),
            )
            return redirect("tenders:delivery_report", pk=report.pk)
    report = selectors.report_get_for_user(request.user, pk)
    return _report_page(request, report, review_form=form, status=400)


@login_required
@require_POST
def report_accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _review(request, pk, accept=True)


@login_required
@require_POST
def report_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _review(request, pk, accept=False)


@login_required
@require_GET
def delivery_document_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """A report's photo or document, always as a download."""
    document, name, data = selectors.delivery_document_for_download(request.user, pk)
    return _attachment(HttpResponse(data, content_type=document.content_type), name)


# --- Survey sites ------------------------------------------------------------------------------


def _sites_page(
    request: AuthenticatedRequest, contract: Contract, *, form: Any = None, status: int = 200
) -> HttpResponse:
    context = _contract_context(request.user, contract)
    context.update(
        {
            "sites": selectors.survey_site_list(contract),
            "form": form or forms.SurveySiteForm(),
        }
    )
    return render(request, "tenders/delivery/survey_sites.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def survey_sites(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A contract's survey sites; an official or the supplier's administrator adds one."""
    contract = selectors.delivery_contract_get_for_user(request.user, pk)
    if request.method == "GET":
        return _sites_page(request, contract)
    _require(permissions.can_manage_survey_sites(request.user, contract))
    form = forms.SurveySiteForm(request.POST)
    if form.is_valid():
        try:
            site = survey_services.survey_site_add(
                contract=contract, actor=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The site “%(name)s” is added; print its poster.") % {"name": site.name}
            )
            return redirect("tenders:survey_sites", pk=contract.pk)
    return _sites_page(request, contract, form=form, status=400)


def _site_switch(request: AuthenticatedRequest, pk: int, *, is_open: bool) -> HttpResponse:
    site = selectors.survey_site_get_for_user(request.user, pk)
    _require(permissions.can_manage_survey_sites(request.user, site.contract))
    try:
        if is_open:
            survey_services.survey_site_open(site=site, actor=request.user)
        else:
            survey_services.survey_site_close(site=site, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The site takes answers again.") if is_open else _("The site takes no more answers."),
        )
    return redirect("tenders:survey_sites", pk=site.contract_id)


@login_required
@require_POST
def survey_site_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _site_switch(request, pk, is_open=False)


@login_required
@require_POST
def survey_site_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _site_switch(request, pk, is_open=True)


def _survey_link(request: HttpRequest, site: SurveySite) -> str:
    return request.build_absolute_uri(site.get_absolute_url())


def _qr_svg(link: str, *, scale: int = 6) -> str:
    qr = segno.make(link, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


@login_required
@require_GET
def survey_qr(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The site's QR code as SVG, for the street office and the supplier."""
    site = selectors.survey_site_get_for_user(request.user, pk)
    _require(permissions.can_print_survey_code(request.user, site.contract))
    response = HttpResponse(_qr_svg(_survey_link(request, site)), content_type="image/svg+xml")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="survey-{site.pk}.svg"'
    return response


@login_required
@require_GET
def survey_poster(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A printable poster: the QR code, the link, and what the survey is about."""
    site = selectors.survey_site_get_for_user(request.user, pk)
    _require(permissions.can_print_survey_code(request.user, site.contract))
    link = _survey_link(request, site)
    context = _contract_context(request.user, site.contract)
    context.update({"site": site, "link": link, "qr": _qr_svg(link, scale=8)})
    return render(request, "tenders/delivery/poster.html", context)


@login_required
@require_GET
def satisfaction(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The survey results: per period, the distribution of ratings, the newest comments."""
    contract = selectors.delivery_contract_get_for_user(request.user, pk)
    context = _contract_context(request.user, contract)
    context["results"] = selectors.satisfaction_results(request.user, contract)
    return render(request, "tenders/delivery/satisfaction.html", context)


# --- The public survey -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@limit_survey_answers
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The public survey of a service site: no sign-in, works without script."""
    site = selectors.survey_site_for_answer(token)
    context: dict[str, Any] = {"site": site, "contract": site.contract}
    if not permissions.survey_accepts_answers(site):
        return render(request, "tenders/delivery/survey_closed.html", context, status=403)
    form = forms.SurveyAnswerForm(
        _posted(request), initial={"started": survey_services.survey_form_token(site)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            survey_services.survey_answer(
                site=site,
                phone=form.cleaned_data["phone"],
                overall=form.cleaned_data["overall"],
                quality=form.cleaned_data["quality"],
                attitude=form.cleaned_data["attitude"],
                timeliness=form.cleaned_data["timeliness"],
                comment=form.cleaned_data["comment"],
                address=get_client_ip_address(request) or "",
                started_at=form.cleaned_data["started"],
                honeypot=form.cleaned_data["website"],
            )
        except ValidationError as exc:
            code = getattr(exc, "code", None)
            if code in SURVEY_REFUSAL_STATUS or code in ("bot",):
                context["refusal"] = code
                context["message"] = exc.messages[0]
                return render(
                    request,
                    "tenders/delivery/survey_done.html",
                    context,
                    status=SURVEY_REFUSAL_STATUS.get(code, 400),
                )
            forms.add_service_errors(form, exc)
            # A fresh start time: the refused form is sent again after corrections.
            form.data = form.data.copy()
            form.data["started"] = survey_services.survey_form_token(site)
        else:
            return render(request, "tenders/delivery/survey_done.html", context)
    context["form"] = form
    status = 400 if request.method == "POST" else 200
    return render(request, "tenders/delivery/survey.html", context, status=status)
