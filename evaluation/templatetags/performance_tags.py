"""Performance evaluations as sections of other apps' pages: the assessor's own (the
assignments page lists them under the panel seats) and a contract's evaluations
(``{% contract_performance_evaluations contract request.user %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from evaluation.permissions import performance as permissions
from evaluation.selectors import performance as selectors

register = template.Library()


@register.inclusion_tag("evaluation/performance/_mine.html")
def my_performance_evaluations(user: Any) -> dict[str, Any]:
    return {"evaluations": list(selectors.my_performance_evaluations(user))}


@register.inclusion_tag("evaluation/performance/_contract.html")
def contract_performance_evaluations(contract: Any, user: Any) -> dict[str, Any]:
    """A contract's evaluations the user may read, and the assignment link for an official
    while the contract is in delivery (for the contract's page)."""
    return {
        "contract": contract,
        "evaluations": list(selectors.contract_performance_evaluations(user, contract)),
        "can_assign": permissions.can_assign_performance_evaluation(user, contract),
    }
