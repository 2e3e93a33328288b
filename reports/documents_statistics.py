"""The annual statistics report (统计年报): the figures of the statistics page for one year,
as a document of the street office.

Its ID is the year. A year has a report once a tender was published in it; the latest
report is that of the latest such year. It is public: it carries the public figures only,
whoever prints it (the system, an official or anyone without a login).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from reports import statistics
from reports.documents import Document, register
from reports.statistics import Filters


def _has_report(year: int) -> bool:
    return year in statistics.published_years()


def annual_statistics_for_user(user: Any, pk: int) -> int:
    """Anyone may read the report of a year with published tenders; other years have none."""
    if not _has_report(pk):
        raise Http404
    return pk


def annual_statistics_by_id(pk: int) -> int:
    if not _has_report(pk):
        raise LookupError(f"no tender was published in {pk}: there is no annual report")
    return pk


def annual_statistics_latest() -> int | None:
    years = statistics.published_years()
    return years[-1] if years else None


def number(year: int) -> str:
    """The report's document number, in the series of the tender references."""
    return f"{settings.TENDER_REFERENCE_PREFIX}-{year}-TJ"


def annual_statistics_context(year: int, user: Any) -> dict[str, Any]:
    # Public figures whoever asks: the document may be passed on.
    report = statistics.report_for(filters=Filters(year=year), audience=statistics.PUBLIC)
    return {
        "year": year,
        "number": number(year),
        "report": report,
        "figures": report.figures,
        "issued": timezone.localdate(),
    }


register(
    Document(
        kind="annual_statistics",
        label=gettext_lazy("Annual statistics report"),
        template="reports/documents/annual_statistics.html",
        for_user=annual_statistics_for_user,
        by_id=annual_statistics_by_id,
        latest=annual_statistics_latest,
        context=annual_statistics_context,
        filename=lambda year: f"annual-statistics-{year}",
    )
)
