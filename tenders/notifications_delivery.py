"""E-mail about delivery: reports filed (to the street office), reviewed (to the supplier),
and the reminders before and after a milestone's due date (to the supplier's admins).

Kept apart from ``tenders.notifications`` so that the delivery part is one set of files;
the messages are rendered in each recipient's language and queued after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings

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
            subject_template=f"tenders/delivery/email/{template}_subject.txt",
            body_template=f"tenders/delivery/email/{template}.txt",
            context={"user": user, "office": settings.STREET_OFFICE["name"], **context},
        )
        count += 1
    return count


def organization_admins(organization_ids: Iterable[Any]) -> dict[Any, list[User]]:
    """The active administrators with an e-mail address of each organization (one query)."""
    ids = sorted(set(organization_ids))
    found: dict[Any, list[User]] = defaultdict(list)
    if not ids:
        return found
    users = (
        User.objects.filter(organization_id__in=ids, role=Role.ORG_ADMIN, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    for user in users:
        found[user.organization_id].append(user)
    return found


def _officials(contract: Any) -> list[User]:
    """Who looks after the contract at the street office: whoever drew it up and whoever
    drafted its tender."""
    users = {user.pk: user for user in (contract.created_by, contract.tender.created_by)}
    return list(users.values())


def delivery_report_filed(report: Any) -> int:
    contract = report.contract
    return _send(
        _officials(contract),
        "report_filed",
        {"report": report, "contract": contract, "milestone": report.milestone},
    )


def delivery_report_reviewed(report: Any) -> int:
    """The supplier's admins and whoever filed it learn that it was accepted or returned."""
    contract = report.contract
    admins = organization_admins([contract.organization_id]).get(contract.organization_id, [])
    users = {user.pk: user for user in [*admins, report.submitted_by]}
    return _send(
        users.values(),
        "report_reviewed",
        {"report": report, "contract": contract, "milestone": report.milestone},
    )


def milestone_reminder(milestone: Any, admins: Iterable[User], *, days_left: int | None) -> int:
    """``days_left`` None: the report is overdue."""
    return _send(
        admins,
        "milestone_overdue" if days_left is None else "milestone_reminder",
        {"milestone": milestone, "contract": milestone.contract, "days_left": days_left},
    )
