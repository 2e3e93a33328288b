"""The "grade assessments assigned to me" section of the assessor's workspace page."""

from __future__ import annotations

from typing import Any

from django import template

from evaluation.selectors import grades as selectors
from marketplace.models import Role
from marketplace.permissions import has_role

register = template.Library()


@register.inclusion_tag("evaluation/grades/_assigned.html", takes_context=True)
def grade_assessments_assigned(context: template.Context) -> dict[str, Any]:
    """The assessor's grade assessments (nothing for an official sitting on a panel)."""
    user = context.get("user")
    if user is None or not has_role(user, Role.ASSESSOR):
        return {"show": False}
    return {"show": True, "assessments": list(selectors.grade_workspace_list(user))}
