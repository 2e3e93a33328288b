"""Calling django-fsm transitions from services.

A transition that is not allowed in the current state is a user error (a second click,
a stale page, an API call out of order), not a bug: it becomes a ``ValidationError``
that names the current state, which the pages show and the API returns as a 400.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed


def fire(obj: Any, transition: str, *args: Any, field: str = "status", **kwargs: Any) -> Any:
    """Call ``obj.<transition>()``; refuse with a readable error when the state forbids it."""
    try:
        return getattr(obj, transition)(*args, **kwargs)
    except TransitionNotAllowed as exc:
        label_method = getattr(obj, f"get_{field}_display", None)
        state = label_method() if label_method else getattr(obj, field)
        raise ValidationError(
            _("This is not possible while the status is “%(state)s”.") % {"state": state},
            code="invalid_state",
        ) from exc
