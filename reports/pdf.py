"""The one way PDFs are made: a Django template rendered by WeasyPrint (STYLE.md example 7).

Every document extends ``reports/base_pdf.html``, which sets the page, the CJK font
stack (Noto Sans/Serif CJK SC from fonts-noto-cjk, embedded as subsets) and a simple
block layout that WeasyPrint lays out fast. Resources come only from the apps' static
folders: rendering never touches the network.
"""

from __future__ import annotations

import gc
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative and root-relative URLs in the templates resolve against this base.
BASE_URL = "https://static.invalid/"


class StaticFilesFetcher(URLFetcher):
    """Serve ``/static/...`` from the static finders and refuse every other URL."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.netloc == "static.invalid" and parts.path.startswith(settings.STATIC_URL):
            found = finders.find(parts.path.removeprefix(settings.STATIC_URL))
            if isinstance(found, str):
                path = Path(found)
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, path.read_bytes(), headers={"Content-Type": content_type}
                )
        raise ValueError(f"PDF resources must be local static files, not {url}")


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render ``template_name`` with ``context`` to PDF bytes."""
    html = render_to_string(
        template_name, {"street_office_name": settings.STREET_OFFICE["name"], **context}
    )
    # WeasyPrint makes hundreds of thousands of short-lived objects: the cyclic garbage
    # collector's passes over them cost a third of the time of a 30-page document
    # (tests/bench/bench_reports.py). It is paused while the PDF is made and catches up after.
    paused = gc.isenabled()
    gc.disable()
    try:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher())
        pdf: bytes = document.write_pdf()
    finally:
        if paused:
            gc.enable()
    return pdf
