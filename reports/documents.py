"""The registry of printable documents (CONTRACTS.md ``render_report``).

Each kind of document is a :class:`Document`: how to find its object for a user (a 404 for
anything the user may not read, exactly as the object's page), for the command (by id, or the
most recent one), the template and the context it is printed from. The download view
(``reports.views.document_pdf``) and ``manage.py render_report`` both go through
:func:`render_document`, so a document is the same bytes whichever way it is asked for.

The documents live in the ``reports.documents_*`` modules, one per area, imported when the
app is ready (``reports.apps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

from reports.pdf import render_pdf

#: The kinds of CONTRACTS.md, in its order.
KINDS = (
    "tender_notice",
    "opening_record",
    "evaluation_report",
    "award_notice",
    "contract",
    "performance_report",
    "grade_certificate",
    "integrity_report",
    "annual_statistics",
)

#: Languages a document is printed in: Chinese first, English available.
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


@dataclass(frozen=True)
class Document:
    """One kind of document.

    ``for_user(user, pk)`` returns the object or raises ``Http404`` (not visible is not
    found); ``by_id(pk)`` returns it for the command (the system reads everything) or raises
    ``LookupError``; ``latest()`` is the most recent object that has the document, or None;
    ``context(obj, user)`` builds the template context (``user`` None is the system: masking
    follows what the user's role may see); ``filename(obj)`` names the file without its
    language and extension.
    """

    kind: str
    label: str | Promise
    template: str
    for_user: Callable[[Any, int], Any]
    by_id: Callable[[int], Any]
    latest: Callable[[], Any | None]
    context: Callable[[Any, Any], dict[str, Any]]
    filename: Callable[[Any], str]


_registry: dict[str, Document] = {}


def register(document: Document) -> Document:
    if document.kind not in KINDS:
        raise ValueError(f"unknown document kind {document.kind!r}; add it to KINDS first")
    _registry[document.kind] = document
    return document


def document_for(kind: str) -> Document:
    """The registered document of ``kind``; ``LookupError`` naming the known kinds."""
    try:
        return _registry[kind]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        raise LookupError(f"no document kind {kind!r} (known: {known})") from None


def registered_kinds() -> list[str]:
    return [kind for kind in KINDS if kind in _registry]


def language_of(requested: str | None) -> str:
    """A supported language code for ``requested`` (``en``, ``zh-hans``), else the current
    one."""
    if requested:
        try:
            code = translation.get_supported_language_variant(requested.lower())
        except LookupError:
            code = ""
        if code in LANGUAGES:
            return code
    return translation.get_language() or settings.LANGUAGE_CODE


def render_document(kind: str, obj: Any, *, user: Any = None, language: str | None = None) -> bytes:
    """The PDF of ``obj`` as the document ``kind``, in ``language``."""
    document = document_for(kind)
    with translation.override(language_of(language)):
        context = document.context(obj, user)
        return render_pdf(document.template, {"document_kind": kind, **context})


def file_name(kind: str, obj: Any, language: str) -> str:
    return f"{document_for(kind).filename(obj)}-{language}.pdf"
