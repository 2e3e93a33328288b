"""Who may do what with third-party performance evaluations (第三方绩效评价, DESIGN 4.5):
pure predicates ``can_<verb>_<noun>(user, obj)``.

The assessor's draft scores are theirs alone until they submit: neither the organization
nor the street office nor another assessor reads a half-done evaluation, so that the
result is the assessor's own (the same independence as panel sheets, DESIGN 4.4).
"""

from __future__ import annotations

from typing import Any

from evaluation.models import (
    PERFORMANCE_RESULT_STATES,
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
)
from evaluation.permissions import is_office_or_auditor
from marketplace.models import Role
from marketplace.permissions import has_role, is_official
from orgs_registry.permissions import is_admin_of, is_member_of
from tenders.models import Contract, ContractStatus, EvaluationKind


def _user_id(user: Any) -> int | None:
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


def is_evaluation_assessor(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """The evaluation's own assessor, signed in, active and still an assessor."""
    return has_role(user, Role.ASSESSOR) and evaluation.assessor_id == _user_id(user)


def can_assign_performance_evaluation(user: Any, contract: Contract) -> bool:
    """An official, while the contract is being delivered."""
    return is_official(user) and contract.status == ContractStatus.ACTIVE


def can_withdraw_performance_evaluation(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """An official, before the assessor submits."""
    return is_official(user) and evaluation.status == PerformanceEvaluationStatus.ASSIGNED


def can_declare_performance(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """The assessor, once, before scoring."""
    return (
        is_evaluation_assessor(user, evaluation)
        and evaluation.status == PerformanceEvaluationStatus.ASSIGNED
        and evaluation.declared_at is None
    )


def can_score_performance(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """The assessor, after the declaration and until the submission."""
    return (
        is_evaluation_assessor(user, evaluation)
        and evaluation.status == PerformanceEvaluationStatus.ASSIGNED
        and evaluation.declared_at is not None
    )


def can_submit_performance_evaluation(user: Any, evaluation: PerformanceEvaluation) -> bool:
    return can_score_performance(user, evaluation)


def is_admin_of_supplier(user: Any, evaluation: PerformanceEvaluation) -> bool:
    return is_admin_of(user, evaluation.contract)


def can_reply_performance_evaluation(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """The supplier's administrator, once, after the submission."""
    return evaluation.status == PerformanceEvaluationStatus.SUBMITTED and is_admin_of_supplier(
        user, evaluation
    )


def is_public_performance_evaluation(evaluation: PerformanceEvaluation) -> bool:
    """A final evaluation with a result is part of the organization's public record."""
    return evaluation.kind == EvaluationKind.FINAL and evaluation.status in (
        PERFORMANCE_RESULT_STATES
    )


def can_view_performance_evaluation(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """The assessor; the street office and auditors; the supplier's people once there is a
    result; everybody for a final evaluation with a result."""
    if is_evaluation_assessor(user, evaluation) or is_office_or_auditor(user):
        return True
    if evaluation.status in PERFORMANCE_RESULT_STATES and is_member_of(user, evaluation.contract):
        return True
    return is_public_performance_evaluation(evaluation)


def can_view_performance_scores(user: Any, evaluation: PerformanceEvaluation) -> bool:
    """Scores before the submission are the assessor's own draft; afterwards they are read
    by whoever may read the evaluation."""
    if evaluation.status == PerformanceEvaluationStatus.ASSIGNED:
        return is_evaluation_assessor(user, evaluation)
    if evaluation.status == PerformanceEvaluationStatus.WITHDRAWN:
        return is_evaluation_assessor(user, evaluation) or is_office_or_auditor(user)
    return can_view_performance_evaluation(user, evaluation)
