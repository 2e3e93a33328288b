"""Evaluation pages. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenders import selectors as tender_selectors

# --- Scoring scheme templates ------------------------------------------------------------------


@require_GET
def scheme_list(request: HttpRequest) -> HttpResponse:
    """The weighted-scoring templates per service category (public: schemes are published
    with every tender anyway)."""
    templates = tender_selectors.scheme_template_list()
    return render(request, "evaluation/scheme_list.html", {"templates": templates})


@require_GET
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One template: its criteria, bands and objective rules."""
    template = next((t for t in tender_selectors.scheme_template_list() if t.pk == pk), None)
    if template is None:
        raise Http404
    return render(request, "evaluation/scheme_detail.html", {"template": template})
