"""Queueing e-mail after the transaction that caused it commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from marketplace.tasks import send_email


def email_user(
    *, to: str, language: str, subject_template: str, body_template: str, context: dict[str, Any]
) -> None:
    """Render an e-mail in ``language`` now and queue it for after commit."""
    if not to:
        return
    with translation.override(language or None):
        subject = "".join(render_to_string(subject_template, context).splitlines()).strip()
        body = render_to_string(body_template, context)
    transaction.on_commit(lambda: send_email.enqueue(subject=subject, body=body, to=[to]))
