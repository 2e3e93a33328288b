"""Paging of list pages: one helper for every app's lists."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, items: Any, size: int) -> tuple[Page, str]:
    """The requested page of ``items`` (an out-of-range or bad number gives the nearest
    page) and the query string without ``page``, for the page links of
    ``includes/pagination.html``."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
