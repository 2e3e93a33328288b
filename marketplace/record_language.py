"""Texts the system writes onto records (reasons, exclusion details) are stored in the
office's language of record (``LANGUAGE_CODE``), whatever language the acting user reads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def record_text(message: str, **params: Any) -> str:
    """``message`` (marked with ``gettext_noop`` so it is in the catalogue) translated into
    the language of record and filled with ``params``."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message) % params if params else gettext(message)


def in_language_of_record(message: Any) -> str:
    """A lazy message rendered in the language of record."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message)
