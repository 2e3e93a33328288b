"""E-mail to the people who follow a tender: answers, amendments, cancellation, outcome.

Each message is rendered in its recipient's language and queued after the transaction
commits (``marketplace.notifications.email_user``). Nothing sealed is ever in a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from marketplace.models import User
from marketplace.notifications import email_user
from tenders.models import Amendment, Question, Tender, TenderInterest


def _followers(tender: Tender) -> Iterable[User]:
    user_ids = TenderInterest.objects.filter(tender=tender).values("user")
    return User.objects.filter(pk__in=user_ids, is_active=True).exclude(email="")


def _send(tender: Tender, template: str, context: dict[str, Any]) -> int:
    count = 0
    for user in _followers(tender):
        email_user(
            to=user.email,
            language=user.language,
            subject_template=f"tenders/email/{template}_subject.txt",
            body_template=f"tenders/email/{template}.txt",
            context={
                "tender": tender,
                "user": user,
                "office": settings.STREET_OFFICE["name"],
                **context,
            },
        )
        count += 1
    return count


def answer_published(question: Question) -> int:
    return _send(question.tender, "answer", {"question": question})


def amendment_published(amendment: Amendment) -> int:
    return _send(amendment.tender, "amendment", {"amendment": amendment})


def tender_cancelled(tender: Tender) -> int:
    return _send(tender, "cancelled", {})


def tender_opened(tender: Tender) -> int:
    return _send(tender, "opened", {})


def tender_failed(tender: Tender) -> int:
    return _send(tender, "failed", {})
