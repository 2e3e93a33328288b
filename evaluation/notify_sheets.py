"""E-mail about score sheets and the ranking: abnormal deviations to confirm or revise, a
sheet reopened for correction, the ranking ready (or corrected) for the drafting official.

Each message is rendered in its recipient's language and queued after the transaction
commits (``marketplace.notifications.email_user``). A message to a member names only that
member's own scores and the panel's mean, never another member's score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from evaluation.models import DeviationFlag, Ranking, RankingCorrection, ScoreSheet
from marketplace.models import User
from marketplace.notifications import email_user


def _send(user: User, template: str, context: dict[str, Any]) -> int:
    if not user.is_active or not user.email:
        return 0
    email_user(
        to=user.email,
        language=user.language,
        subject_template=f"evaluation/email/{template}_subject.txt",
        body_template=f"evaluation/email/{template}.txt",
        context={"user": user, "office": settings.STREET_OFFICE["name"], **context},
    )
    return 1


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
    return _send(sheet.member.user, "sheet_deviation", {"tender": tender, "lines": lines})


def sheet_reopened(sheet: ScoreSheet, correction: RankingCorrection) -> int:
    """Tell the member that the chair reopened their sheet, and why."""
    return _send(
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
    return _send(
        tender.created_by,
        "ranking_corrected" if corrected else "ranking_ready",
        {"tender": tender, "ranking": ranking},
    )
