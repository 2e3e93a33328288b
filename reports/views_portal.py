"""Pages of the public disclosure portal (信息公开), readable without signing in.

The portal's own pages are the ones the other apps do not have: its home page with a search
box, the opening records, the award notices with their ranking summaries, the performance
results and the data page. Tenders, contracts and organizations keep their own public pages;
the portal leads to them. Each page reads through ``reports.selectors_portal`` only, and a
filter that does not parse answers 400 with the form's errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from marketplace.pagination import paginate
from reports import documents, exports
from reports import selectors_portal as selectors
from reports.filters_portal import PortalSearchForm

PAGE_SIZE = 30


def _pdf_kinds() -> set[str]:
    """The printable documents registered so far (their links show only then)."""
    return set(documents.registered_kinds())


def _list_page(
    request: HttpRequest,
    template: str,
    items: Any,
    filterset: Any,
    **extra: Any,
) -> HttpResponse:
    page, query = paginate(request, items, PAGE_SIZE)
    context = {"filter": filterset, "page": page, "query": query, **extra}
    # A filter that does not parse is the visitor's mistake: 400, with the form's errors.
    status = 400 if filterset.is_bound and not filterset.is_valid() else 200
    return render(request, template, context, status=status)


@require_GET
def portal(request: HttpRequest) -> HttpResponse:
    """The portal's home: each kind of disclosure with its count and latest items."""
    context = {
        "section": "home",
        "overview": selectors.portal_overview(),
        "search_form": PortalSearchForm(),
    }
    return render(request, "reports/portal/home.html", context)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """One search box across tenders, contracts and organizations."""
    form = PortalSearchForm(request.GET or None)
    results = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            results = selectors.portal_search(form.cleaned_data["q"])
        else:
            status = 400
    context = {"section": "search", "search_form": form, "results": results}
    return render(request, "reports/portal/search.html", context, status=status)


@require_GET
def opening_list(request: HttpRequest) -> HttpResponse:
    """The opening records published so far, latest opening first, filtered."""
    tenders, filterset = selectors.opening_directory(filters=request.GET.dict())
    return _list_page(
        request, "reports/portal/openings.html", tenders, filterset, section="openings"
    )


@require_GET
def opening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One tender's opening record (开标记录): a 404 before the opening."""
    record = selectors.opening_get(pk)
    context = {
        "section": "openings",
        "record": record,
        "tender": record.tender,
        "has_result": selectors.has_result(record.tender),
        "pdf_kinds": _pdf_kinds(),
    }
    return render(request, "reports/portal/opening.html", context)


@require_GET
def result_list(request: HttpRequest) -> HttpResponse:
    """Award notices in force, newest first, filtered."""
    awards, filterset = selectors.result_directory(filters=request.GET.dict())
    return _list_page(request, "reports/portal/results.html", awards, filterset, section="results")


@require_GET
def result_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One tender's award notice (中标结果公告) with the ranking summary."""
    notice = selectors.result_get(pk)
    context = {
        "section": "results",
        "notice": notice,
        "tender": notice.tender,
        "pdf_kinds": _pdf_kinds(),
    }
    return render(request, "reports/portal/result.html", context)


@require_GET
def performance_list(request: HttpRequest) -> HttpResponse:
    """Final performance evaluations with their score and grade, filtered, with a summary."""
    evaluations, filterset = selectors.performance_directory(filters=request.GET.dict())
    return _list_page(
        request,
        "reports/portal/performance.html",
        evaluations,
        filterset,
        section="performance",
        summary=selectors.performance_summary(evaluations),
    )


def _url_or_empty(name: str, *args: Any) -> str:
    """The address of the route ``name``, or "" while the part that serves it is not built."""
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class Download:
    """A public list downloadable whole, as CSV and as Excel."""

    title: str
    csv: str
    xlsx: str


def _downloads() -> list[Download]:
    """The lists anyone may download (not those needing a sign-in, nor one object's rows)."""
    found = []
    for name in exports.export_names():
        export = exports.export_list(name)
        if export.login_required or export.scoped:
            continue
        csv = _url_or_empty("reports:export", name, "csv")
        xlsx = _url_or_empty("reports:export", name, "xlsx")
        if csv and xlsx:
            found.append(Download(title=str(export.title), csv=csv, xlsx=xlsx))
    return found


@require_GET
def data(request: HttpRequest) -> HttpResponse:
    """Open data: the OCDS feed, the bulk downloads, the statistics, the licence and the
    publication policy."""
    context = {
        "section": "data",
        "ocds_api_url": _url_or_empty("api:ocds-releases"),
        "ocds_bulk_url": _url_or_empty("reports:ocds_bulk"),
        "statistics_url": _url_or_empty("reports:statistics"),
        "downloads": _downloads(),
        "licence_url": getattr(settings, "OCDS_LICENSE_URL", ""),
        "ocid_prefix": getattr(settings, "OCDS_OCID_PREFIX", ""),
        "pdf_kinds": _pdf_kinds(),
    }
    return render(request, "reports/portal/data.html", context)
