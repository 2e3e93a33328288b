"""The assessor's performance evaluations as a section of other pages (the assignments page
lists them under the panel seats)."""

from __future__ import annotations

from typing import Any

from django import template

from evaluation.selectors import performance as selectors

register = template.Library()


@register.inclusion_tag("evaluation/performance/_mine.html")
def my_performance_evaluations(user: Any) -> dict[str, Any]:
    return {"evaluations": list(selectors.my_performance_evaluations(user))}
