"""Tender pages: the public list and tender pages; the street office's workspace (drafts,
approval, questions, amendments, the opening, the qualification review); an
organization's bids and their receipts.

Views parse input, call one service or selector and render. Bids are reached only through
``tenders.selectors``, which keep the seal (DESIGN.md 6): before the opening nobody but
the bidding organization learns that a bid exists, let alone what it says. The street
office asking for the bids then gets ``PermissionDenied``, which these pages show as
"sealed until the opening", never as a count. Writes go through ``tenders.services``,
which check the permission again and raise ``PermissionDenied`` (403) or
``ValidationError`` (shown on the form, nothing saved).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time
from typing import Any
from urllib.parse import quote
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed

from evaluation import selectors as evaluation_selectors
from marketplace.models import Role, User
from marketplace.pagination import paginate as _paginate
from marketplace.permissions import has_role, is_official, is_org_user
from marketplace.ratelimits import limit_questions
from orgs_registry import selectors as registry_selectors
from orgs_registry.models import Organization
from tenders import forms, permissions, rules, selectors, services
from tenders.models import (
    Amendment,
    Bid,
    BidDocumentKind,
    BidStatus,
    Challenge,
    ChallengeStatus,
    Tender,
    TenderStatus,
)
from tenders.page_cache import cache_public_page, expires_by

LIST_PAGE_SIZE = 30
# Empty rows offered below the scoring scheme and the staffing plan (the pages need no script).
NEW_CRITERIA_ROWS = 5
MORE_CRITERIA_ROWS = 3
MORE_STAFF_ROWS = 3


# --- Helpers ---------------------------------------------------------------------------------


class AuthenticatedRequest(HttpRequest):
    """A request behind ``login_required``: its user is a signed-in account."""

    user: User


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _posted(request: HttpRequest) -> Any:
    """Form data when the request is a POST, else None (an unbound form)."""
    return request.POST if request.method == "POST" else None


def _files(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    """A download, never shown inline whatever its type (the browser may not sniff it)."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    ascii_stem = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;%' else "_" for ch in stem
    ).strip("_ ")
    fallback = (ascii_stem or "document") + (f".{extension}" if extension.isascii() else "")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _own_organization(user: Any) -> Organization:
    """The signed-in member's organization; 403 for anyone who is not an organization's."""
    organization = getattr(user, "organization", None) if is_org_user(user) else None
    if organization is None:
        raise PermissionDenied
    return organization


def _tender_flags(user: Any, tender: Tender) -> dict[str, bool]:
    """What the user may do with the tender (the templates show only that)."""
    return {
        "official": is_official(user),
        "edit": permissions.can_edit_tender(user, tender),
        "submit": permissions.can_submit_tender(user, tender),
        "approve": permissions.can_approve_tender(user, tender),
        "send_back": permissions.can_return_tender(user, tender),
        "amend": permissions.can_amend_tender(user, tender),
        "cancel": permissions.can_cancel_tender(user, tender),
        "open": permissions.can_open_tender(user, tender),
        "review": permissions.can_review_bids(user, tender),
        "see_bids": permissions.can_see_bids_of(user, tender),
        "follow": permissions.can_follow_tender(user, tender),
        "ask": permissions.can_ask_question(user, tender),
        "see_asker": permissions.can_see_asker(user),
        "bid": is_org_user(user),
        "prepare_bid": permissions.can_prepare_bid(user, tender),
    }


def _tender_page(
    request: HttpRequest,
    template: str,
    tender: Tender,
    *,
    section: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """A page about one tender, under its header and tabs."""
    base = {
        "tender": tender,
        "can": _tender_flags(request.user, tender),
        "section": section,
        "now": timezone.now(),
    }
    return render(request, template, {**base, **(context or {})}, status=status)


def _show(value: Any) -> str:
    """A value recorded in an amendment (JSON), as a person reads it."""
    if value in (None, ""):
        return "–"
    if isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None and timezone.is_aware(moment):
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return day.isoformat()
    return str(value)


def _amendment_rows(amendment: Amendment) -> list[dict[str, str]]:
    """Each changed fact of an amendment with its label, the value before and after."""
    rows = []
    for name, change in amendment.changes.items():
        if name == "criteria":
            rows.append(
                {"label": _("Scoring criteria"), "before": "", "after": _("Replaced; see above.")}
            )
            continue
        try:
            label = capfirst(Tender._meta.get_field(name).verbose_name)
        except LookupError:
            label = name
        before = change.get("before") if isinstance(change, dict) else None
        after = change.get("after") if isinstance(change, dict) else change
        rows.append({"label": str(label), "before": _show(before), "after": _show(after)})
    return rows


# --- Public pages ----------------------------------------------------------------------------


@require_GET
@cache_public_page
def tender_list(request: HttpRequest) -> HttpResponse:
    """Published tenders, filtered; htmx swaps only the results."""
    tenders, filterset = selectors.tender_directory(request.user, filters=request.GET.dict())
    page, query = _paginate(request, tenders, LIST_PAGE_SIZE)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "now": timezone.now(),
        "can_create": permissions.can_create_tender(request.user),
    }
    template = "tenders/_list_results.html" if _is_htmx(request) else "tenders/list.html"
    response = render(request, template, context)
    # The same URL answers a whole page or, for htmx, only the results.
    patch_vary_headers(response, ["HX-Request"])
    # A row says "open" and the time left until its deadline; a stored copy ends there.
    return expires_by(response, (t.bid_deadline for t in page.object_list))


def _detail_page(
    request: HttpRequest,
    tender: Tender,
    *,
    question_form: Any = None,
    return_form: Any = None,
    action_errors: Iterable[str] = (),
) -> HttpResponse:
    user = request.user
    can = _tender_flags(user, tender)
    organization = getattr(user, "organization", None) if is_org_user(user) else None
    confirmations = list(selectors.opening_confirmations(tender)) if can["open"] else []
    context = {
        "criteria": tender.criteria.all(),
        "documents": tender.documents.all(),
        "questions": selectors.question_list_for_user(user, tender),
        "amendments": [(a, _amendment_rows(a)) for a in selectors.amendment_list(tender)],
        # Public once the bids are opened (开标记录); there is none before.
        "opening": selectors.opening_record(tender)
        if permissions.can_see_opening_record(user, tender)
        else None,
        # Who confirmed the opening: officials' names, nothing about the bids.
        "confirmations": confirmations,
        "confirmed_by_me": any(c.official_id == user.pk for c in confirmations),
        "following": selectors.is_following(user, tender),
        "own_bid": selectors.own_bid(user, tender),
        "eligibility": registry_selectors.org_eligibility(organization, tender)
        if organization is not None
        else None,
        "hints": rules.negative_list_hints(tender.title, tender.description)
        if can["approve"] or can["submit"]
        else [],
        "question_form": question_form or forms.QuestionForm(prefix="question"),
        "return_form": return_form or forms.ReturnForm(prefix="return"),
        "action_errors": list(action_errors),
    }
    # The award notice, challenges and the bidder's result links (the award section below).
    own = context["own_bid"]
    context.update(_award_context(user, tender, own if isinstance(own, Bid) else None))
    response = _tender_page(
        request, "tenders/detail.html", tender, section="detail", context=context
    )
    # What the page offers changes at the deadlines (questions, bids) and at the end of
    # the challenge period; a stored copy ends there.
    notice = context["award_notice"]
    challenges_end = (
        timezone.make_aware(datetime.combine(notice.challenge_deadline, time.max))
        if notice is not None
        else None
    )
    return expires_by(response, (tender.question_deadline, tender.bid_deadline, challenges_end))


@require_GET
@cache_public_page
def tender_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A tender's facts, scheme, documents, answers, amendments and, once opened, the record."""
    return _detail_page(request, selectors.tender_get_for_user(request.user, pk))


@require_GET
def tender_document_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A public tender document, as a download."""
    document = selectors.tender_document_get_for_user(request.user, pk)
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    return _attachment(response, document.original_name)


@login_required
@require_POST
def tender_follow(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get_for_user(request.user, pk)
    services.tender_follow(tender=tender, user=request.user)
    messages.success(
        request,
        _("You follow this tender: answers, amendments and the outcome come by e-mail."),
    )
    return redirect(tender)


@login_required
@require_POST
@limit_questions
def question_ask(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get_for_user(request.user, pk)
    form = forms.QuestionForm(request.POST, prefix="question")
    if form.is_valid():
        try:
            services.question_ask(tender=tender, actor=request.user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your question was sent; the answer will be published on this page."),
            )
            return redirect(reverse("tenders:detail", args=[tender.pk]) + "#questions")
    return _detail_page(request, tender, question_form=form)


# --- The street office's workspace -----------------------------------------------------------


def _workspace_page(
    request: AuthenticatedRequest, *, answer_forms: dict[int, Any] | None = None
) -> HttpResponse:
    workspace = selectors.official_workspace(request.user)
    bound = answer_forms or {}
    listed = {question.pk for question in workspace.questions}
    # A refused answer whose question is no longer listed (answered meanwhile) still says why.
    action_errors = [
        str(error)
        for pk, form in bound.items()
        if pk not in listed
        for error in form.non_field_errors()
    ]
    context = {
        "workspace": workspace,
        "questions": [
            (question, bound.get(question.pk) or forms.AnswerForm(prefix=f"answer-{question.pk}"))
            for question in workspace.questions
        ],
        "is_approver": has_role(request.user, Role.APPROVER),
        "action_errors": action_errors,
    }
    return render(request, "tenders/workspace.html", context)


@login_required
@require_GET
def workspace(request: AuthenticatedRequest) -> HttpResponse:
    """What waits for an official: drafts, approvals, questions, openings, reviews."""
    return _workspace_page(request)


@login_required
@require_POST
def question_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    question = selectors.question_get_for_user(request.user, pk)
    form = forms.AnswerForm(request.POST, prefix=f"answer-{question.pk}")
    if form.is_valid():
        try:
            services.question_answer(
                question=question, actor=request.user, answer=form.cleaned_data["answer"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The answer is published on the tender's page."))
            return redirect("tenders:workspace")
    return _workspace_page(request, answer_forms={question.pk: form})


def _tender_form_page(
    request: AuthenticatedRequest,
    *,
    form: Any,
    criteria: Any,
    title: str,
    submit_label: str,
    tender: Tender | None = None,
    templates: Any = (),
    template: Any = None,
) -> HttpResponse:
    context = {
        "templates": templates,
        "template": template,
        "form": form,
        "criteria": criteria,
        "title": title,
        "submit_label": submit_label,
        "cancel_url": tender.get_absolute_url() if tender else reverse("tenders:workspace"),
    }
    if tender is None:
        return render(request, "tenders/tender_form.html", context)
    return _tender_page(
        request, "tenders/tender_form.html", tender, section="edit", context=context
    )


@login_required
@require_http_methods(["GET", "POST"])
def tender_create(request: AuthenticatedRequest) -> HttpResponse:
    """Draft a tender with its scoring scheme."""
    _require(permissions.can_create_tender(request.user))
    templates = selectors.scheme_template_list()
    template = _chosen_template(request, templates)
    initial: dict[str, Any] = {}
    template_rows: list[dict[str, Any]] = []
    if template is not None:
        initial = {"scheme_template": template.pk, "category": template.category_id}
        template_rows = services.template_criteria(template)
    form = forms.TenderForm(_posted(request), initial=initial)
    criteria = forms.criteria_formset(
        _posted(request), criteria=template_rows, extra=NEW_CRITERIA_ROWS
    )
    if request.method == "POST" and form.is_valid() and criteria.is_valid():
        facts = form.facts()
        try:
            tender = services.tender_create(
                actor=request.user,
                criteria=criteria.rows(),
                communities=form.cleaned_data["communities"],
                scheme_template=form.cleaned_data.get("scheme_template"),
                **facts,
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, formsets={"criteria": criteria})
        else:
            messages.success(
                request,
                _("The draft is saved. Add the tender documents, then send it for approval."),
            )
            return redirect(tender)
    return _tender_form_page(
        request,
        form=form,
        criteria=criteria,
        title=_("Draft a tender"),
        submit_label=_("Save the draft"),
        templates=templates,
        template=template,
    )


def _chosen_template(request: AuthenticatedRequest, templates: Any) -> Any:
    """The scheme template named by ``?template=`` (None when absent or unknown)."""
    raw = request.GET.get("template", "")
    if not raw.isdigit():
        return None
    return next((t for t in templates if t.pk == int(raw)), None)


@login_required
@require_http_methods(["GET", "POST"])
def tender_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Change a draft (its drafter only)."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _require(permissions.can_edit_tender(request.user, tender))
    current = list(tender.criteria.all())
    form = forms.TenderForm(_posted(request), initial=forms.TenderForm.initial_for(tender))
    criteria = forms.criteria_formset(_posted(request), criteria=current, extra=MORE_CRITERIA_ROWS)
    if request.method == "POST" and form.is_valid() and criteria.is_valid():
        try:
            services.tender_update(
                tender=tender,
                actor=request.user,
                criteria=criteria.rows() if criteria.differs_from(current) else None,
                communities=form.cleaned_data["communities"],
                **form.changed_facts(tender),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, formsets={"criteria": criteria})
        else:
            messages.success(request, _("The draft is saved."))
            return redirect(tender)
    return _tender_form_page(
        request,
        form=form,
        criteria=criteria,
        title=_("Edit the draft"),
        submit_label=_("Save the draft"),
        tender=tender,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tender_documents(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The draft's public documents: upload and remove (later ones come by amendment)."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _require(permissions.can_edit_tender(request.user, tender))
    form = forms.TenderDocumentForm(_posted(request), _files(request))
    if request.method == "POST" and form.is_valid():
        try:
            document = services.tender_document_add(
                tender=tender,
                actor=request.user,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("“%(title)s” was added.") % {"title": document.title})
            return redirect("tenders:documents", pk=tender.pk)
    context = {"form": form, "documents": selectors.tender_documents(tender)}
    return _tender_page(
        request, "tenders/documents.html", tender, section="documents", context=context
    )


@login_required
@require_POST
def tender_document_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    document = selectors.tender_document_get_for_user(request.user, pk)
    services.tender_document_remove(document=document, actor=request.user)
    messages.success(request, _("“%(title)s” was removed.") % {"title": document.title})
    return redirect("tenders:documents", pk=document.tender_id)


@login_required
@require_POST
def tender_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The drafter sends the draft for approval; an approver publishes it (one service)."""
    tender = selectors.tender_get_for_user(request.user, pk)
    try:
        tender = services.tender_publish(tender=tender, actor=request.user)
    except ValidationError as exc:
        return _detail_page(request, tender, action_errors=exc.messages)
    if tender.status == TenderStatus.PUBLISHED:
        messages.success(
            request,
            _("The tender is published as %(reference)s; bids are accepted until %(deadline)s.")
            % {
                "reference": tender.reference,
                "deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M"),
            },
        )
    else:
        messages.success(request, _("The tender was sent for approval; an approver publishes it."))
    return redirect(tender)


@login_required
@require_POST
def tender_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The approver returns the tender with a note; the drafter may take it back."""
    tender = selectors.tender_get_for_user(request.user, pk)
    form = forms.ReturnForm(request.POST, prefix="return")
    if form.is_valid():
        try:
            services.tender_return(
                tender=tender, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The tender is a draft again."))
            return redirect(tender)
    return _detail_page(request, tender, return_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def tender_amend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Publish an amendment (更正公告) to a tender open for bids."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _require(permissions.can_amend_tender(request.user, tender))
    current = list(tender.criteria.all())
    form = forms.AmendmentForm(_posted(request), initial=forms.AmendmentForm.initial_for(tender))
    criteria = forms.criteria_formset(_posted(request), criteria=current, extra=2)
    documents = forms.amendment_documents_formset(_posted(request), _files(request))
    if (
        request.method == "POST"
        and form.is_valid()
        and criteria.is_valid()
        and documents.is_valid()
    ):
        try:
            amendment = services.tender_amend(
                tender=tender,
                actor=request.user,
                summary=form.cleaned_data["summary"],
                changes=form.changes(tender),
                affects_preparation=form.cleaned_data["affects_preparation"],
                criteria=criteria.rows() if criteria.differs_from(current) else None,
                uploads=documents.uploads(),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, formsets={"criteria": criteria})
        else:
            if amendment.deadline_moved:
                messages.success(
                    request,
                    _("Amendment %(number)s is published; the deadline moved to %(deadline)s.")
                    % {
                        "number": amendment.number,
                        "deadline": timezone.localtime(amendment.bid_deadline_after).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                    },
                )
            else:
                messages.success(
                    request,
                    _("Amendment %(number)s is published.") % {"number": amendment.number},
                )
            return redirect(tender)
    context = {"form": form, "criteria": criteria, "documents": documents}
    return _tender_page(request, "tenders/amend.html", tender, section="amend", context=context)


@login_required
@require_http_methods(["GET", "POST"])
def tender_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Cancel before the contract, with a public reason; sealed bids stay sealed."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _require(permissions.can_cancel_tender(request.user, tender))
    form = forms.CancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.tender_cancel(
                tender=tender, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The tender is cancelled; the reason is public."))
            return redirect(tender)
    context = {
        "form": form,
        "title": _("Cancel the tender"),
        "intro": _(
            "The reason is published on the tender's page and sent to everyone who follows "
            "it. Bids stay sealed for good."
        ),
        "submit_label": _("Cancel the tender"),
        "confirm": _("Cancel this tender? This cannot be undone."),
    }
    return _tender_page(
        request, "tenders/form_page.html", tender, section="cancel", context=context
    )


@login_required
@require_POST
def tender_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An official confirms the opening; the second distinct official's confirmation opens."""
    tender = selectors.tender_get_for_user(request.user, pk)
    try:
        result = services.tender_open(tender=tender, actor=request.user)
    except ValidationError as exc:
        return _detail_page(request, tender, action_errors=exc.messages)
    if not result.opened:
        messages.success(
            request,
            _(
                "Your confirmation is recorded. The bids open when a second, different "
                "official confirms."
            ),
        )
    elif result.tender.status == TenderStatus.FAILED:
        messages.warning(
            request,
            _("The bids are opened and the tender failed: %(reason)s")
            % {"reason": result.tender.failed_reason},
        )
    else:
        messages.success(
            request, _("The bids are opened; the opening record is public on this page.")
        )
    return redirect(tender)


# --- Qualification review --------------------------------------------------------------------


def _review_page(
    request: AuthenticatedRequest, tender: Tender, *, review_forms: dict[int, Any] | None = None
) -> HttpResponse:
    try:
        bids = list(selectors.bid_list_for_user(request.user, tender))
    except PermissionDenied:
        # The seal: not a count, not a name, until two officials open the bids.
        return _tender_page(
            request, "tenders/review.html", tender, section="review", context={"sealed": True}
        )
    _require(permissions.can_see_bids_of(request.user, tender))
    contents = selectors.bid_content_list_for_user(request.user, bids)
    bound = review_forms or {}
    can_review = permissions.can_review_bids(request.user, tender)
    rows: list[dict[str, Any]] = [
        {
            "bid": bid,
            "content": contents[bid.pk],
            "form": bound.get(bid.pk) or forms.ReviewForm(prefix=f"review-{bid.pk}"),
            "reviewable": can_review and can_proceed(bid.qualify),
        }
        for bid in bids
    ]
    # A refused decision whose form is no longer shown (reviewed meanwhile) still says why.
    action_errors = [
        str(error)
        for bid in bids
        if bid.pk in bound and not (can_review and can_proceed(bid.qualify))
        for error in bound[bid.pk].non_field_errors()
    ]
    context = {"sealed": False, "rows": rows, "action_errors": action_errors}
    return _tender_page(request, "tenders/review.html", tender, section="review", context=context)


@login_required
@require_GET
def bid_review_list(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The opened bids with their content, and the qualification and conformity review."""
    return _review_page(request, selectors.tender_get_for_user(request.user, pk))


@login_required
@require_POST
def bid_review(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    bid = selectors.bid_get_for_user(request.user, bid_pk)
    form = forms.ReviewForm(request.POST, prefix=f"review-{bid.pk}")
    if form.is_valid():
        try:
            services.bid_review(
                bid=bid,
                actor=request.user,
                qualified=form.qualified,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is qualified.") % {"name": bid.organization.name}
                if form.qualified
                else _("%(name)s is disqualified.") % {"name": bid.organization.name},
            )
            return redirect("tenders:review", pk=bid.tender_id)
    tender = selectors.tender_get_for_user(request.user, bid.tender_id)
    return _review_page(request, tender, review_forms={bid.pk: form})


# --- The organization's bids -----------------------------------------------------------------


@login_required
@require_GET
def my_bids(request: AuthenticatedRequest) -> HttpResponse:
    """Tenders the organization may bid on, and its bids with their latest receipts."""
    organization = _own_organization(request.user)
    page, query = _paginate(request, selectors.own_bid_list(request.user), LIST_PAGE_SIZE)
    context = {
        "organization": organization,
        "eligibility": registry_selectors.org_eligibility(organization),
        "open_tenders": selectors.organization_open_tenders(request.user),
        # Results after the award and open challenge windows (the award section below).
        "results": selectors.organization_results(request.user),
        "page": page,
        "query": query,
        "now": timezone.now(),
    }
    return render(request, "tenders/my_bids.html", context)


def _staff_choices(user: Any, organization: Any, plan: Iterable[Any]) -> list[tuple[int, str]]:
    """People on the organization's current roster, and anyone already in the plan."""
    today = timezone.localdate()
    separator = _(", ")
    choices: dict[int, str] = {}
    for employment in registry_selectors.staff_list_for_user(user, organization):
        person = employment.person
        if person.pk in choices or not employment.is_current(today):
            continue
        qualifications = separator.join(
            str(q.get_level_display()) for q in person.qualifications.all()
        )
        choices[person.pk] = " · ".join(
            part
            for part in (
                f"{person.name} ({person.id_number_masked})",
                employment.role,
                qualifications,
            )
            if part
        )
    for line in plan:
        if line.person_id not in choices:
            # Kept so that the plan shows it; saving the bid then says what is wrong.
            choices[line.person_id] = _("%(name)s (not on the current roster)") % {
                "name": line.name
            }
    return list(choices.items())


def _bid_page(
    request: AuthenticatedRequest,
    tender: Tender,
    *,
    form: Any = None,
    staff: Any = None,
    document_form: Any = None,
    action_errors: Iterable[str] = (),
) -> HttpResponse:
    user = request.user
    organization = _own_organization(user)
    bid = selectors.own_bid(user, tender)
    content = selectors.bid_content_for_user(user, bid) if bid is not None else None
    plan = content.staff if content is not None else []
    editable = permissions.can_prepare_bid(user, tender) and (
        bid is None or permissions.can_edit_bid(user, bid)
    )
    if editable and form is None:
        form = forms.BidForm(initial=forms.BidForm.initial_for(content))
    if editable and staff is None:
        staff = forms.staff_formset(
            people=_staff_choices(user, organization, plan), plan=plan, extra=MORE_STAFF_ROWS
        )
    can = {
        "edit": editable,
        "add_document": bid is not None and permissions.can_edit_bid(user, bid),
        "submit": bid is not None
        and permissions.can_submit_bid(user, bid)
        and can_proceed(bid.submit)
        and tender.is_accepting_bids,
        "withdraw": bid is not None
        and permissions.can_withdraw_bid(user, bid)
        and can_proceed(bid.withdraw)
        and tender.is_accepting_bids,
        "reopen": bid is not None
        and permissions.can_withdraw_bid(user, bid)
        and can_proceed(bid.reopen)
        and tender.is_accepting_bids,
        "confirm": bid is not None
        and permissions.can_submit_bid(user, bid)
        and can_proceed(bid.confirm)
        and tender.is_accepting_bids,
        "sign": bid is not None and permissions.can_submit_bid(user, bid),
    }
    # A refusal whose form is no longer shown (the bid moved on meanwhile) still says why.
    action_errors = list(action_errors)
    for shown, bound in ((editable, form), (can["add_document"], document_form)):
        if not shown and bound is not None:
            action_errors.extend(str(error) for error in bound.non_field_errors())
    context = {
        "bid": bid,
        "content": content,
        "receipts": list(selectors.receipt_list_for_user(user, bid)) if bid is not None else [],
        "eligibility": registry_selectors.org_eligibility(organization, tender),
        "organization": organization,
        "form": form,
        "staff": staff,
        "document_form": document_form or forms.BidDocumentForm(prefix="document"),
        "bid_can": can,
        "action_errors": action_errors,
    }
    return _tender_page(request, "tenders/bid.html", tender, section="bid", context=context)


@login_required
@require_http_methods(["GET", "POST"])
def bid_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organization's own bid: prepare the draft (price, staffing plan, proposal)."""
    tender = selectors.tender_get_for_user(request.user, pk)
    organization = _own_organization(request.user)
    if request.method != "POST":
        return _bid_page(request, tender)
    bid = selectors.own_bid(request.user, tender)
    plan = selectors.bid_content_for_user(request.user, bid).staff if bid is not None else []
    form = forms.BidForm(request.POST)
    staff = forms.staff_formset(
        request.POST,
        people=_staff_choices(request.user, organization, plan),
        plan=plan,
        extra=MORE_STAFF_ROWS,
    )
    if form.is_valid() and staff.is_valid():
        try:
            services.bid_prepare(
                tender=tender,
                actor=request.user,
                price=form.cleaned_data["price"],
                staff=staff.rows(),
                proposal=form.cleaned_data["proposal"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, formsets={"staff": staff})
        else:
            messages.success(
                request,
                _("The draft is saved, sealed: only your organization can read it."),
            )
            return redirect("tenders:bid", pk=tender.pk)
    return _bid_page(request, tender, form=form, staff=staff)


def _bid_action(
    request: AuthenticatedRequest,
    bid_pk: UUID,
    *,
    call: Callable[[Bid], Any],
    done: Callable[[Any], HttpResponse],
) -> HttpResponse:
    """Run one service on the user's bid; on a refusal show the bid page with the reason."""
    bid = selectors.bid_get_for_user(request.user, bid_pk)
    try:
        result = call(bid)
    except ValidationError as exc:
        tender = selectors.tender_get_for_user(request.user, bid.tender_id)
        return _bid_page(request, tender, action_errors=exc.messages)
    return done(result)


@login_required
@require_POST
def bid_submit(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    """Seal and submit; the server's clock under the tender lock decides (DESIGN 6)."""

    def done(receipt: Any) -> HttpResponse:
        messages.success(
            request,
            _("Your bid was received at %(time)s. Keep the receipt.")
            % {"time": timezone.localtime(receipt.received_at).strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
        return redirect("tenders:receipt", bid_pk=receipt.bid_id, receipt_pk=receipt.pk)

    return _bid_action(
        request,
        bid_pk,
        call=lambda bid: services.bid_submit(bid=bid, actor=request.user),
        done=done,
    )


@login_required
@require_POST
def bid_confirm(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    """Confirm the bid as it is after an amendment; a new receipt is issued."""

    def done(receipt: Any) -> HttpResponse:
        messages.success(request, _("Your bid is confirmed; a new receipt was issued."))
        return redirect("tenders:receipt", bid_pk=receipt.bid_id, receipt_pk=receipt.pk)

    return _bid_action(
        request,
        bid_pk,
        call=lambda bid: services.bid_confirm(bid=bid, actor=request.user),
        done=done,
    )


@login_required
@require_POST
def bid_withdraw(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    def done(bid: Bid) -> HttpResponse:
        messages.success(
            request,
            _("Your bid is withdrawn. You may reopen it and submit again before the deadline."),
        )
        return redirect("tenders:bid", pk=bid.tender_id)

    return _bid_action(
        request,
        bid_pk,
        call=lambda bid: services.bid_withdraw(bid=bid, actor=request.user),
        done=done,
    )


@login_required
@require_POST
def bid_reopen(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    def done(bid: Bid) -> HttpResponse:
        messages.success(
            request, _("Your bid is a draft again; change it and submit it before the deadline.")
        )
        return redirect("tenders:bid", pk=bid.tender_id)

    return _bid_action(
        request,
        bid_pk,
        call=lambda bid: services.bid_reopen(bid=bid, actor=request.user),
        done=done,
    )


@login_required
@require_POST
def bid_document_add(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    bid = selectors.bid_get_for_user(request.user, bid_pk)
    form = forms.BidDocumentForm(request.POST, request.FILES, prefix="document")
    if form.is_valid():
        try:
            services.bid_document_add(
                bid=bid,
                actor=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The document was added to your bid, sealed."))
            return redirect("tenders:bid", pk=bid.tender_id)
    tender = selectors.tender_get_for_user(request.user, bid.tender_id)
    return _bid_page(request, tender, document_form=form)


@login_required
@require_POST
def bid_document_remove(request: AuthenticatedRequest, pk: UUID) -> HttpResponse:
    document = selectors.bid_document_get_for_user(request.user, pk)
    services.bid_document_remove(document=document, actor=request.user)
    messages.success(request, _("The document was removed from your bid."))
    return redirect("tenders:bid", pk=document.bid.tender_id)


@login_required
@require_GET
def bid_document_download(request: AuthenticatedRequest, pk: UUID) -> HttpResponseBase:
    """A bid document, decrypted for a reader of its bid, as a download."""
    document, name, data = selectors.bid_document_for_download(request.user, pk)
    return _attachment(HttpResponse(data, content_type=document.content_type), name)


# --- Receipts ---------------------------------------------------------------------------------


@login_required
@require_GET
def receipt_list(request: AuthenticatedRequest, bid_pk: UUID) -> HttpResponse:
    bid = selectors.bid_get_for_user(request.user, bid_pk)
    receipts = selectors.receipt_list_for_user(request.user, bid)
    return render(request, "tenders/receipts.html", {"bid": bid, "receipts": receipts})


@login_required
@require_GET
def receipt_detail(request: AuthenticatedRequest, bid_pk: UUID, receipt_pk: UUID) -> HttpResponse:
    """A printable receipt: server time to the microsecond, hashes, audit sequence number."""
    bid = selectors.bid_get_for_user(request.user, bid_pk)
    receipt = next(
        (r for r in selectors.receipt_list_for_user(request.user, bid) if r.pk == receipt_pk),
        None,
    )
    if receipt is None:
        raise Http404
    kinds = dict(BidDocumentKind.choices)
    documents = [
        {"number": number, "sha256": d.get("sha256", ""), "kind": kinds.get(d.get("kind"), "")}
        for number, d in enumerate(receipt.documents, start=1)
    ]
    context = {"bid": bid, "receipt": receipt, "documents": documents}
    return render(request, "tenders/receipt.html", context)


# --- Award and challenges ----------------------------------------------------------------------

# Bid states with an award in force: the bidder's result page exists.
RESULT_BID_STATES = (BidStatus.WON, BidStatus.LOST)


def _award_context(user: Any, tender: Tender, own_bid: Bid | None) -> dict[str, Any]:
    """The tender page's award part: the public award notice (中标公告), withdrawn notices,
    the challenges the user may read, and the links the user may follow."""
    notice = selectors.award_notice(tender)
    window_open = (
        notice is not None
        and tender.status == TenderStatus.AWARDED
        and timezone.localdate() <= notice.challenge_deadline
    )
    opened_bid = own_bid is not None and own_bid.opened_at is not None
    return {
        "award_notice": notice,
        "withdrawn_awards": selectors.withdrawn_awards(tender),
        "tender_challenges": selectors.challenge_list_for_user(user, tender),
        "award_can": {
            "confirm": permissions.can_confirm_award(user, tender),
            "see": _may_see_award_page(user),
            "result": own_bid is not None and own_bid.status in RESULT_BID_STATES,
            "challenge": window_open
            and opened_bid
            and permissions.can_file_challenge(user, tender),
        },
    }


def _may_see_award_page(user: Any) -> bool:
    """The award page (the full ranking and the award record) is the street office's and
    the auditors'; bidders read the public notice and their own result."""
    return is_official(user) or has_role(user, Role.AUDITOR)


def _ranking(user: Any, tender: Tender) -> Any:
    """The frozen ranking as the user may see it, or None while there is none."""
    try:
        return evaluation_selectors.ranking_for_user(user, tender)
    except Http404:
        return None


def _form_errors(form: Any) -> list[str]:
    """Every error of a form that is not shown (its reason must still be read)."""
    if form is None or not form.is_bound:
        return []
    return [str(error) for errors in form.errors.values() for error in errors]


def _award_page(request: AuthenticatedRequest, tender: Tender, *, form: Any = None) -> HttpResponse:
    user = request.user
    _require(_may_see_award_page(user))
    ranking = _ranking(user, tender)
    award = selectors.active_award(tender)
    pending = [c for c in ranking.corrections if c.applied_at is None] if ranking else []
    can_award = (
        permissions.can_confirm_award(user, tender)
        and ranking is not None
        and not pending
        and award is None
    )
    shown = form if can_award else None
    if can_award and shown is None:
        shown = forms.AwardForm(rows=ranking.rows)
    context = {
        "ranking": ranking,
        "award": award,
        "withdrawn_awards": selectors.withdrawn_awards(tender),
        "pending_corrections": pending,
        "form": shown,
        "drafted_by_me": permissions.is_approver(user) and tender.created_by_id == user.pk,
        "action_errors": _form_errors(form) if shown is None else [],
    }
    return _tender_page(request, "tenders/award.html", tender, section="award", context=context)


@login_required
@require_http_methods(["GET", "POST"])
def award(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The frozen ranking and the approver's confirmation of the winner; afterwards the
    award record (who confirmed, when, the notice and challenge windows)."""
    tender = selectors.tender_get_for_user(request.user, pk)
    if request.method != "POST":
        return _award_page(request, tender)
    _require(_may_see_award_page(request.user))
    ranking = _ranking(request.user, tender)
    form = forms.AwardForm(request.POST, rows=ranking.rows if ranking else [])
    if form.is_valid():
        bid = selectors.bid_get_for_user(request.user, form.cleaned_data["bid"])
        try:
            confirmed = services.award_confirm(
                tender=tender,
                actor=request.user,
                bid=bid,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The award is confirmed and the award notice is published; challenges "
                    "are accepted until %(day)s."
                )
                % {"day": confirmed.challenge_deadline.isoformat()},
            )
            return redirect("tenders:award", pk=tender.pk)
    return _award_page(request, tender, form=form)


@login_required
@require_GET
def bid_result(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organization's own result after the award: its scores, rank and position, and
    the public ranking summary; nothing more of the other bidders."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _own_organization(request.user)
    result = selectors.bid_result_for_user(request.user, tender)
    if result is None:
        raise Http404
    context = _award_context(request.user, tender, result.bid)
    context.update(
        {
            "result": result,
            "own_challenges": [c for c in context["tender_challenges"] if c.own],
        }
    )
    return _tender_page(request, "tenders/result.html", tender, section="result", context=context)


@login_required
@require_http_methods(["GET", "POST"])
def challenge_file(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A bidder challenges (质疑) the award within the window, with its documents."""
    tender = selectors.tender_get_for_user(request.user, pk)
    _require(permissions.can_file_challenge(request.user, tender))
    own_bid = selectors.own_bid(request.user, tender)
    if own_bid is None or own_bid.opened_at is None:
        raise Http404  # only a bidder whose bid was opened has anything to challenge
    form = forms.ChallengeForm(_posted(request), _files(request))
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.challenge_file(
                tender=tender,
                actor=request.user,
                subject=form.cleaned_data["subject"],
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["documents"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your challenge is filed; the street office answers it in writing by %(day)s.")
                % {"day": challenge.answer_due.isoformat()},
            )
            return redirect("tenders:challenge", pk=challenge.pk)
    context = _award_context(request.user, tender, own_bid)
    context["form"] = form
    return _tender_page(
        request, "tenders/challenge_form.html", tender, section="challenge", context=context
    )


@login_required
@require_GET
def challenge_list(request: AuthenticatedRequest) -> HttpResponse:
    """Challenges the user may read: all for the street office and auditors; an
    organization's own, and the answered ones of tenders it bid in (without the challenger)."""
    user = request.user
    _require(is_official(user) or has_role(user, Role.AUDITOR) or is_org_user(user))
    filter_form = forms.ChallengeFilterForm(request.GET or None)
    status = filter_form.cleaned_data["status"] if filter_form.is_valid() else ""
    challenges = selectors.challenge_list_for_user(user)
    if status == "overdue":
        challenges = [c for c in challenges if c.overdue]
    elif status:
        challenges = [c for c in challenges if c.status == status]
    page, query = _paginate(request, challenges, LIST_PAGE_SIZE)
    context = {"filter_form": filter_form, "page": page, "query": query, "status": status}
    return render(request, "tenders/challenge_list.html", context)


def _challenge_page(
    request: AuthenticatedRequest,
    challenge: Challenge,
    *,
    answer_form: Any = None,
    decision_form: Any = None,
    action_errors: Iterable[str] = (),
) -> HttpResponse:
    user = request.user
    can = {
        "answer": permissions.can_answer_challenge(user, challenge),
        "decide": permissions.can_decide_challenge(user, challenge),
        "close": permissions.can_close_challenge(user, challenge),
    }
    # A refusal whose form is no longer shown (the challenge moved on) still says why.
    errors = list(action_errors)
    if not can["answer"]:
        errors.extend(_form_errors(answer_form))
    if not can["decide"]:
        errors.extend(_form_errors(decision_form))
    context = {
        "challenge": challenge,
        "documents": selectors.challenge_documents(challenge),
        "overdue": challenge.status == ChallengeStatus.FILED
        and challenge.answer_due < timezone.localdate(),
        "challenge_can": can,
        "answered_by_me": challenge.answered_by_id == user.pk,
        "is_approver": permissions.is_approver(user),
        "answer_form": answer_form or forms.ChallengeAnswerForm(prefix="answer"),
        "decision_form": decision_form or forms.ChallengeDecisionForm(prefix="decision"),
        "action_errors": errors,
    }
    return _tender_page(
        request, "tenders/challenge.html", challenge.tender, section="challenges", context=context
    )


@login_required
@require_GET
def challenge_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One challenge in full (the street office, auditors, the challenger): its grounds,
    documents, answer and decision, with the forms the user may use."""
    return _challenge_page(request, selectors.challenge_get_for_user(request.user, pk))


@login_required
@require_POST
def challenge_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_get_for_user(request.user, pk)
    form = forms.ChallengeAnswerForm(request.POST, prefix="answer")
    if form.is_valid():
        try:
            services.challenge_answer(
                challenge=challenge,
                actor=request.user,
                answer=form.cleaned_data["answer"],
                upheld=form.is_upheld,
                remedy=form.cleaned_data["remedy"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The answer is sent to the challenger; an approver decides the challenge."),
            )
            return redirect("tenders:challenge", pk=challenge.pk)
    return _challenge_page(request, challenge, answer_form=form)


@login_required
@require_POST
def challenge_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_get_for_user(request.user, pk)
    form = forms.ChallengeDecisionForm(request.POST, prefix="decision")
    if form.is_valid():
        try:
            decided = services.challenge_decide(
                challenge=challenge, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            if decided.status == ChallengeStatus.ACCEPTED:
                messages.success(
                    request,
                    _("The challenge is upheld: %(remedy)s. The award is withdrawn.")
                    % {"remedy": decided.get_remedy_display()},
                )
            else:
                messages.success(request, _("The challenge is not upheld; the award stands."))
            return redirect("tenders:challenge", pk=challenge.pk)
    return _challenge_page(request, challenge, decision_form=form)


@login_required
@require_POST
def challenge_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_get_for_user(request.user, pk)
    try:
        services.challenge_close(challenge=challenge, actor=request.user)
    except ValidationError as exc:
        return _challenge_page(request, challenge, action_errors=exc.messages)
    messages.success(request, _("The challenge is closed."))
    return redirect("tenders:challenge", pk=challenge.pk)


@login_required
@require_GET
def challenge_document_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """A challenge document for a reader of the whole challenge, always as a download."""
    document, name, data = selectors.challenge_document_for_download(request.user, pk)
    return _attachment(HttpResponse(data, content_type=document.content_type), name)
