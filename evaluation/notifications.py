"""E-mail about panels, price justifications, score sheets and the ranking.

Each message is rendered in its recipient's language and queued after the transaction
commits (``marketplace.notifications.email_user``). No message carries bid content, a
score, or who else sits on the panel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings

from evaluation.models import (
    DeviationFlag,
    PanelMember,
    PerformanceEvaluation,
    PriceJustification,
    Ranking,
    RankingCorrection,
    ScoreSheet,
)
from marketplace.models import Role, User
from marketplace.notifications import email_user


def _send(users: Iterable[User], template: str, context: dict[str, Any]) -> int:
    count = 0
    for user in users:
        if not user.is_active or not user.email:
            continue
        email_user(
            to=user.email,
            language=user.language,
            subject_template=f"evaluation/email/{template}_subject.txt",
            body_template=f"evaluation/email/{template}.txt",
            context={"user": user, "office": settings.STREET_OFFICE["name"], **context},
        )
        count += 1
    return count


def _send_one(user: User, template: str, context: dict[str, Any]) -> int:
    return _send([user], template, context)


def _bidder_admins(justification: PriceJustification) -> Iterable[User]:
    return User.objects.filter(
        organization_id=justification.bid.organization_id, role=Role.ORG_ADMIN, is_active=True
    ).exclude(email="")


def panel_member_drawn(member: PanelMember) -> int:
    """A seat on a new panel: which tender, which seat, and that the declaration comes first."""
    return _send(
        [member.user],
        "panel_drawn",
        {
            "member": member,
            "tender": member.panel.tender,
            "is_chair": member.user_id == member.panel.chair_id,
        },
    )


def panel_member_replacement(member: PanelMember) -> int:
    """Drawn to take the seat of a member who declared a conflict."""
    return _send(
        [member.user], "panel_replacement", {"member": member, "tender": member.panel.tender}
    )


def justification_requested(justification: PriceJustification) -> int:
    """Ask the bidder's administrators to justify an abnormally low price (87号令 Art. 60)."""
    return _send(
        _bidder_admins(justification),
        "justification_requested",
        {
            "justification": justification,
            "tender": justification.bid.tender,
            "percent": f"{Decimal(justification.ratio) * 100:.0f}",
        },
    )


def justification_submitted(justification: PriceJustification, chair: User | None) -> int:
    """Tell the panel's chair that a justification is waiting for the panel's decision."""
    return _send(
        [chair] if chair is not None else [],
        "justification_submitted",
        {"justification": justification, "tender": justification.bid.tender},
    )


def justification_decided(justification: PriceJustification) -> int:
    """Tell the bidder's administrators what the panel decided, and why."""
    return _send(
        _bidder_admins(justification),
        "justification_decided",
        {"justification": justification, "tender": justification.bid.tender},
    )


def deviations_flagged(flags: Sequence[DeviationFlag]) -> int:
    """Tell one member which of their scores were flagged (all ``flags`` are theirs)."""
    if not flags:
        return 0
    sheet = flags[0].sheet
    tender = sheet.member.panel.tender
    lines = [
        {
            "organization": flag.sheet.bid.organization.name,
            "criterion": flag.criterion.name,
            "code": flag.criterion.code,
            "points": flag.criterion.points,
            "score": flag.score,
            "mean": flag.panel_mean,
            "threshold": flag.threshold,
        }
        for flag in flags
    ]
    return _send_one(sheet.member.user, "sheet_deviation", {"tender": tender, "lines": lines})


def sheet_reopened(sheet: ScoreSheet, correction: RankingCorrection) -> int:
    """Tell the member that the chair reopened their sheet, and why."""
    return _send_one(
        sheet.member.user,
        "sheet_reopened",
        {
            "tender": sheet.member.panel.tender,
            "organization": sheet.bid.organization.name,
            "reason": correction.get_reason_display(),
            "explanation": correction.explanation,
        },
    )


def ranking_ready(ranking: Ranking, *, corrected: bool) -> int:
    """Tell the drafting official that the ranking is frozen (or was corrected)."""
    tender = ranking.tender
    return _send_one(
        tender.created_by,
        "ranking_corrected" if corrected else "ranking_ready",
        {"tender": tender, "ranking": ranking},
    )


# --- Third-party performance evaluation (DESIGN 4.5) -------------------------------------------


def _supplier_admins(evaluation: PerformanceEvaluation) -> Iterable[User]:
    return User.objects.filter(
        organization_id=evaluation.contract.organization_id, role=Role.ORG_ADMIN, is_active=True
    ).exclude(email="")


def _performance_context(evaluation: PerformanceEvaluation) -> dict[str, Any]:
    return {"evaluation": evaluation, "contract": evaluation.contract}


def performance_assigned(evaluation: PerformanceEvaluation) -> int:
    """Ask the assessor for the evaluation: which contract, when it is due, and that the
    independence declaration comes first."""
    return _send_one(evaluation.assessor, "performance_assigned", _performance_context(evaluation))


def performance_withdrawn(evaluation: PerformanceEvaluation) -> int:
    """Tell the assessor the evaluation was taken back, and why."""
    return _send_one(evaluation.assessor, "performance_withdrawn", _performance_context(evaluation))


def performance_submitted(evaluation: PerformanceEvaluation) -> int:
    """Tell the supplier's administrators and the assigning official the grade and what it
    means for the payment tied to it."""
    recipients = [*_supplier_admins(evaluation), evaluation.assigned_by]
    return _send(recipients, "performance_submitted", _performance_context(evaluation))


def performance_replied(evaluation: PerformanceEvaluation) -> int:
    """Tell the assessor and the assigning official that the organization replied."""
    return _send(
        [evaluation.assessor, evaluation.assigned_by],
        "performance_replied",
        _performance_context(evaluation),
    )
