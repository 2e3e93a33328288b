"""Labels for the codes stored in a flag's evidence (the evidence keeps codes, the page shows
their names in the reader's language)."""

from __future__ import annotations

from typing import Any

from django import template

from orgs_registry.models import PostFunding, PostType

register = template.Library()


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return "" if value is None else str(value)


@register.filter
def post_type_label(value: Any) -> str:
    return _label(PostType, value)


@register.filter
def post_funding_label(value: Any) -> str:
    return _label(PostFunding, value)
