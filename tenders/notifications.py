"""E-mail to the people who follow a tender: answers, amendments, cancellation, outcome.

Each message is rendered in its recipient's language and queued after the transaction
commits (``marketplace.notifications.email_user``). Nothing sealed is ever in a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from marketplace.models import ORG_ROLES, Role, User
from marketplace.notifications import email_user
from tenders.models import Amendment, Award, Bid, Challenge, Question, Tender, TenderInterest


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


# --- Award and challenges ----------------------------------------------------------------------


def _mail(user: User, tender: Tender, template: str, context: dict[str, Any]) -> None:
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


def _org_users(organization_id: Any) -> Iterable[User]:
    """An organization's admins and members who can receive e-mail."""
    return (
        User.objects.filter(
            organization_id=organization_id, role__in=sorted(ORG_ROLES), is_active=True
        )
        .exclude(email="")
        .order_by("pk")
    )


def _challengers(challenge: Challenge) -> list[User]:
    """Who filed the challenge and the administrators of its organization."""
    users = {
        user.pk: user
        for user in _org_users(challenge.organization_id)
        if user.pk == challenge.filed_by_id or user.role == Role.ORG_ADMIN
    }
    return list(users.values())


def award_published(award: Award, rows: Iterable[Any]) -> int:
    """Every bidder learns the outcome (the winner that it won; the others their own total
    and rank); the tender's other followers get the award notice."""
    tender = award.tender
    by_bid = {row.bid_id: row for row in rows}
    winner = award.bid.organization
    common = {"award": award, "winner": winner, "ranked": len(by_bid)}
    sent: set[int] = set()
    count = 0
    bids = Bid.objects.filter(tender=tender, opened_at__isnull=False).order_by("pk")
    for bid in bids:
        row = by_bid.get(bid.pk)
        if bid.pk == award.bid_id:
            template = "award_won"
        elif row is not None:
            template = "award_lost"
        else:
            template = "award_notice"
        for user in _org_users(bid.organization_id):
            _mail(user, tender, template, {**common, "bid": bid, "row": row})
            sent.add(user.pk)
            count += 1
    for user in _followers(tender):
        if user.pk not in sent:
            _mail(user, tender, "award_notice", common)
            count += 1
    return count


def challenge_filed(challenge: Challenge) -> int:
    """The official who drafted the tender is told a challenge waits for an answer."""
    drafter = challenge.tender.created_by
    if not drafter.is_active or not drafter.email:
        return 0
    _mail(drafter, challenge.tender, "challenge_filed", {"challenge": challenge})
    return 1


def challenge_answered(challenge: Challenge) -> int:
    count = 0
    for user in _challengers(challenge):
        _mail(user, challenge.tender, "challenge_answered", {"challenge": challenge})
        count += 1
    return count


def challenge_decided(challenge: Challenge) -> int:
    """The challenger learns the decision; when it is upheld, every other bidder learns
    what happens next (without the challenger's identity)."""
    tender = challenge.tender
    template = "challenge_upheld" if challenge.upheld else "challenge_rejected"
    count = 0
    sent: set[int] = set()
    for user in _challengers(challenge):
        _mail(user, tender, template, {"challenge": challenge})
        sent.add(user.pk)
        count += 1
    if not challenge.upheld:
        return count
    others = (
        Bid.objects.filter(tender=tender, opened_at__isnull=False)
        .exclude(organization_id=challenge.organization_id)
        .values_list("organization_id", flat=True)
    )
    for organization_id in others:
        for user in _org_users(organization_id):
            if user.pk not in sent:
                _mail(user, tender, "challenge_upheld_bidders", {"challenge": challenge})
                sent.add(user.pk)
                count += 1
    return count


# --- Contracts, team and payments --------------------------------------------------------------


def _supplier_admins(contract: Any) -> list[User]:
    return [user for user in _org_users(contract.organization_id) if user.role == Role.ORG_ADMIN]


def _drafter(contract: Any) -> list[User]:
    user = contract.created_by
    return [user] if user.is_active and user.email else []


def _contract_mail(users: Iterable[User], contract: Any, template: str, **context: Any) -> int:
    count = 0
    for user in users:
        _mail(user, contract.tender, template, {"contract": contract, **context})
        count += 1
    return count


def contract_drafted(contract: Any) -> int:
    """The supplier's administrators are asked to read and sign the draft."""
    return _contract_mail(_supplier_admins(contract), contract, "contract_drafted")


def contract_signature(contract: Any, *, side: str) -> int:
    """One side signed: the other side is asked to sign before the due day."""
    users = _supplier_admins(contract) if side == "purchaser" else _drafter(contract)
    return _contract_mail(users, contract, "contract_signature", side=side)


def contract_sign_reminder(contract: Any, *, sides: list[str], days_before: int) -> int:
    """The side(s) that have not signed are reminded of the signing day."""
    users: dict[int, User] = {}
    if "supplier" in sides:
        users.update((u.pk, u) for u in _supplier_admins(contract))
    if "purchaser" in sides:
        users.update((u.pk, u) for u in _drafter(contract))
    return _contract_mail(
        users.values(), contract, "contract_sign_reminder", days_before=days_before
    )


def contract_signed(contract: Any) -> int:
    users = {u.pk: u for u in [*_supplier_admins(contract), *_drafter(contract)]}
    return _contract_mail(users.values(), contract, "contract_signed")


def contract_terminated(contract: Any) -> int:
    return _contract_mail(_supplier_admins(contract), contract, "contract_terminated")


def contract_completed(contract: Any) -> int:
    return _contract_mail(_supplier_admins(contract), contract, "contract_completed")


def milestone_settled(milestone: Any) -> int:
    """The supplier learns whether a milestone's payment is released or withheld, and why."""
    contract = milestone.contract
    return _contract_mail(
        _supplier_admins(contract), contract, "milestone_settled", milestone=milestone
    )


def milestone_paid(milestone: Any) -> int:
    contract = milestone.contract
    return _contract_mail(
        _supplier_admins(contract), contract, "milestone_paid", milestone=milestone
    )


def team_change_requested(change: Any) -> int:
    contract = change.contract
    return _contract_mail(_drafter(contract), contract, "team_change_requested", change=change)


def team_change_decided(change: Any) -> int:
    contract = change.contract
    return _contract_mail(
        _supplier_admins(contract), contract, "team_change_decided", change=change
    )
