"""Pages of the registries of public funding: the auditors' upload with its progress bar,
the versions (import history), and browsers of the roster and the ledger.

Auditors upload and read full ID numbers; officials read with ID numbers masked; the
pages refuse everyone else (403), and a version they may not see is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from orgs_registry import forms_funding
from orgs_registry import permissions_funding as permissions
from orgs_registry import selectors_funding as selectors
from orgs_registry.forms import add_service_errors
from orgs_registry.funding_import import STAFFING_COLUMNS, SUBSIDY_COLUMNS
from orgs_registry.models import FundingImport, FundingImportKind
from orgs_registry.services_funding import funding_import_start
from orgs_registry.views import (
    LIST_PAGE_SIZE,
    AuthenticatedRequest,
    _paginate,
    _posted,
    _require,
)


def _require_reader(request: AuthenticatedRequest) -> None:
    _require(permissions.can_view_funding_registry(request.user))


@login_required
@require_GET
def funding_imports(request: AuthenticatedRequest) -> HttpResponse:
    """The versions of the roster and the ledger, newest first; the current ones marked."""
    _require_reader(request)
    kind = request.GET.get("kind", "")
    if kind not in FundingImportKind.values:
        kind = ""
    imports = selectors.funding_import_list_for_user(request.user, kind=kind or None)
    page, query = _paginate(request, imports, LIST_PAGE_SIZE)
    return render(
        request,
        "orgs_registry/funding/imports.html",
        {
            "page": page,
            "query": query,
            "kind": kind,
            "kinds": FundingImportKind.choices,
            "current_staffing": selectors.funding_import_current(FundingImportKind.STAFFING),
            "current_subsidy": selectors.funding_import_current(FundingImportKind.SUBSIDY),
            "can_import": permissions.can_import_funding_registry(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def funding_upload(request: AuthenticatedRequest) -> HttpResponse:
    """Upload a roster or a ledger; the import runs in the background (see its page)."""
    _require(permissions.can_import_funding_registry(request.user))
    form = forms_funding.FundingUploadForm(
        _posted(request), request.FILES or None, initial={"kind": request.GET.get("kind")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            funding_import = funding_import_start(
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The file was received; its rows are being checked."))
            return redirect("orgs_registry:funding_import", pk=funding_import.pk)
    return render(
        request,
        "orgs_registry/funding/upload.html",
        {
            "form": form,
            "staffing_columns": STAFFING_COLUMNS,
            "subsidy_columns": SUBSIDY_COLUMNS,
        },
    )


@login_required
@require_GET
def funding_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One version: its status, a progress bar while it runs, every problem if it failed."""
    _require_reader(request)
    item = selectors.funding_import_get_for_user(request.user, pk)
    return render(request, "orgs_registry/funding/import.html", {"item": item})


@login_required
@require_GET
def funding_import_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The progress panel alone, polled by htmx until the import is finished."""
    _require_reader(request)
    item = selectors.funding_import_get_for_user(request.user, pk)
    return render(request, "orgs_registry/funding/_progress.html", {"item": item})


@login_required
@require_GET
def staffing_records(request: AuthenticatedRequest) -> HttpResponse:
    """The roster (the current version unless another is named), filtered."""
    _require_reader(request)
    form = forms_funding.StaffingFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    version = _version(request, filters, FundingImportKind.STAFFING)
    records = selectors.staffing_record_list_for_user(request.user, filters=filters)
    page, query = _paginate(request, records, LIST_PAGE_SIZE)
    return render(
        request,
        "orgs_registry/funding/staffing.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "version": version,
            "full_ids": permissions.can_view_funding_id_numbers(request.user),
        },
    )


@login_required
@require_GET
def subsidies(request: AuthenticatedRequest) -> HttpResponse:
    """The subsidy ledger (the current version unless another is named), filtered."""
    _require_reader(request)
    form = forms_funding.SubsidyFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    version = _version(request, filters, FundingImportKind.SUBSIDY)
    records = selectors.subsidy_list_for_user(request.user, filters=filters)
    page, query = _paginate(request, records, LIST_PAGE_SIZE)
    return render(
        request,
        "orgs_registry/funding/subsidies.html",
        {"form": form, "page": page, "query": query, "version": version},
    )


def _version(
    request: AuthenticatedRequest, filters: dict[str, Any], kind: str
) -> FundingImport | None:
    """The version shown: the one named (404 if not visible or of the other kind) or the
    current one (None when nothing was imported yet)."""
    if "version" not in filters:
        return selectors.funding_import_current(kind)
    item = selectors.funding_import_get_for_user(request.user, filters["version"])
    if item.kind != kind:
        raise Http404
    return item
