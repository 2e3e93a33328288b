"""E-mail about panels and price justifications.

Each message is rendered in its recipient's language and queued after the transaction
commits (``marketplace.notifications.email_user``). No message carries bid content, a
score, or who else sits on the panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings

from evaluation.models import PanelMember, PriceJustification
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
