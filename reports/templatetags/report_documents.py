"""Template helpers for the documents' download links (``reports/includes/pdf_links.html``).

``{% latest_document "integrity_report" as run %}`` gives the most recent object that has the
document (a page that shows the links for the newest one); ``assessment|has_grade_certificate``
says whether a grade assessment gave a grade to print. The pages only use them where their
reader may read the document.
"""

from __future__ import annotations

from typing import Any

from django import template

from reports import documents
from reports.documents_registry import has_certificate

register = template.Library()


@register.simple_tag
def latest_document(kind: str) -> Any:
    """The most recent object with the document ``kind``, or None."""
    try:
        return documents.document_for(kind).latest()
    except LookupError:
        return None


@register.filter
def has_grade_certificate(assessment: Any) -> bool:
    return assessment is not None and has_certificate(assessment)
