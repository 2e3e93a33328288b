"""Who may do what with tenders and bids: pure predicates ``can_<verb>_<noun>(user, obj)``.

Sealing (DESIGN.md section 6) is decided here: before the opening a bid is the bidding
organization's alone; nobody else may read it, count it or learn who made it.
"""

from __future__ import annotations

from typing import Any

from marketplace.models import Role
from marketplace.permissions import has_role, is_official, is_org_user
from orgs_registry.permissions import is_admin_of, is_member_of
from tenders.models import (
    CANCELLABLE_STATES,
    PUBLIC_TENDER_STATES,
    BidStatus,
    ChallengeStatus,
    Tender,
    TenderStatus,
)

# Tender states after the opening: bids are plain to those who may read them.
OPENED_STATES = frozenset(
    {
        TenderStatus.OPENED,
        TenderStatus.EVALUATING,
        TenderStatus.AWARDED,
        TenderStatus.CONTRACTED,
        TenderStatus.IN_DELIVERY,
        TenderStatus.COMPLETED,
    }
)


def is_opened(tender: Tender) -> bool:
    """Whether the bids of ``tender`` were opened (a failed or cancelled tender may have been)."""
    return tender.opened_at is not None


# --- Tenders ---------------------------------------------------------------------------------


def can_view_tender(user: Any, tender: Tender) -> bool:
    """Published tenders are public; drafts and approvals are the street office's."""
    if tender.status in PUBLIC_TENDER_STATES:
        return True
    return is_official(user) or has_role(user, Role.AUDITOR)


def can_create_tender(user: Any) -> bool:
    return is_official(user)


def can_edit_tender(user: Any, tender: Tender) -> bool:
    """The drafting official edits a draft."""
    return (
        is_official(user)
        and tender.status == TenderStatus.DRAFT
        and tender.created_by_id == getattr(user, "pk", None)
    )


def can_submit_tender(user: Any, tender: Tender) -> bool:
    return can_edit_tender(user, tender)


def can_approve_tender(user: Any, tender: Tender) -> bool:
    """An approver who did not draft it (four eyes)."""
    return (
        has_role(user, Role.APPROVER)
        and tender.status == TenderStatus.PENDING_APPROVAL
        and tender.created_by_id != getattr(user, "pk", None)
    )


def can_return_tender(user: Any, tender: Tender) -> bool:
    """The approver returns it with a note; the drafter may take it back."""
    if tender.status != TenderStatus.PENDING_APPROVAL:
        return False
    return can_approve_tender(user, tender) or (
        is_official(user) and tender.created_by_id == getattr(user, "pk", None)
    )


def can_amend_tender(user: Any, tender: Tender) -> bool:
    return is_official(user) and tender.is_accepting_bids


def can_cancel_tender(user: Any, tender: Tender) -> bool:
    return is_official(user) and tender.status in CANCELLABLE_STATES


def can_open_tender(user: Any, tender: Tender) -> bool:
    """Any official confirms the opening once the deadline passed; two distinct ones open."""
    return (
        is_official(user)
        and tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED)
        and tender.deadline_passed
    )


def can_review_bids(user: Any, tender: Tender) -> bool:
    """Qualification and conformity review, after the opening."""
    return is_official(user) and tender.status == TenderStatus.OPENED


def can_follow_tender(user: Any, tender: Tender) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and tender.status in PUBLIC_TENDER_STATES
    )


# --- Questions ---------------------------------------------------------------------------------


def can_ask_question(user: Any, tender: Tender) -> bool:
    return is_org_user(user) and tender.is_accepting_questions


def can_answer_question(user: Any, question: Any = None) -> bool:
    return is_official(user) and (
        question is None or question.tender.status == TenderStatus.PUBLISHED
    )


def can_see_asker(user: Any) -> bool:
    """Who asked is known to the street office and auditors, never to the public or bidders."""
    return is_official(user) or has_role(user, Role.AUDITOR)


# --- Bids ----------------------------------------------------------------------------------------


def can_prepare_bid(user: Any, tender: Tender) -> bool:
    """An organization's admin or member prepares its bid while the tender accepts bids."""
    return is_org_user(user) and tender.is_accepting_bids


def is_bid_owner(user: Any, bid: Any) -> bool:
    return is_member_of(user, bid)


def can_edit_bid(user: Any, bid: Any) -> bool:
    return (
        is_bid_owner(user, bid) and bid.status == BidStatus.DRAFT and bid.tender.is_accepting_bids
    )


def can_submit_bid(user: Any, bid: Any) -> bool:
    """The organization's administrator signs and submits (members prepare)."""
    return is_admin_of(user, bid.organization) and bid.tender.status == TenderStatus.PUBLISHED


def can_withdraw_bid(user: Any, bid: Any) -> bool:
    return is_admin_of(user, bid.organization) and bid.tender.status == TenderStatus.PUBLISHED


def _is_declared_assessor(user: Any, tender: Tender) -> bool:
    """An assessor reads a tender's bids only as a member of its panel who signed the
    conflict declaration (DESIGN 4.4: the declaration comes before seeing the bids)."""
    if not has_role(user, Role.ASSESSOR):
        return False
    # Imported here: evaluation.permissions builds on this module.
    from evaluation.permissions import can_view_panel_bids

    return can_view_panel_bids(user, tender)


def can_read_bid(user: Any, bid: Any) -> bool:
    """Sealing: the owner always; after the opening, the street office and auditors, and
    the assessors who sit on the tender's panel and have declared no conflict."""
    if is_bid_owner(user, bid):
        return True
    if not is_opened(bid.tender) or bid.opened_at is None:
        return False
    return (
        is_official(user) or has_role(user, Role.AUDITOR) or _is_declared_assessor(user, bid.tender)
    )


def can_see_bids_of(user: Any, tender: Tender) -> bool:
    """Who may list (or count) a tender's bids: only after the opening, never before."""
    if not is_opened(tender):
        return False
    return is_official(user) or has_role(user, Role.AUDITOR) or _is_declared_assessor(user, tender)


def can_see_opening_record(user: Any, tender: Tender) -> bool:
    """The opening record (开标记录) is published: every bidder and the public read it."""
    return is_opened(tender)


# --- Award and challenges ----------------------------------------------------------------------


def is_approver(user: Any) -> bool:
    return has_role(user, Role.APPROVER)


def can_confirm_award(user: Any, tender: Tender) -> bool:
    """An approver confirms the winner of a tender under evaluation; not the official who
    drafted the tender (four eyes). Whether the ranking is ready is the service's check."""
    return (
        is_approver(user)
        and tender.status == TenderStatus.EVALUATING
        and tender.created_by_id != getattr(user, "pk", None)
    )


def can_file_challenge(user: Any, tender: Tender) -> bool:
    """Bidders challenge (质疑) an award: an organization's admin or member. Whether the
    organization bid and the window is open are the service's checks, with their messages."""
    return is_org_user(user) and is_opened(tender)


def can_view_challenge(user: Any, challenge: Any) -> bool:
    """The whole challenge, with who filed it: the street office, auditors and the
    challenging organization. Other bidders see answered ones without the challenger."""
    return is_official(user) or has_role(user, Role.AUDITOR) or is_member_of(user, challenge)


def can_see_challenger(user: Any, challenge: Any) -> bool:
    return can_view_challenge(user, challenge)


def can_answer_challenge(user: Any, challenge: Any) -> bool:
    """An official answers a filed challenge in writing."""
    return is_official(user) and challenge.status == ChallengeStatus.FILED


def can_decide_challenge(user: Any, challenge: Any) -> bool:
    """An approver who did not write the answer decides it (four eyes)."""
    return (
        is_approver(user)
        and challenge.status == ChallengeStatus.ANSWERED
        and challenge.answered_by_id != getattr(user, "pk", None)
    )


def can_close_challenge(user: Any, challenge: Any) -> bool:
    """An official closes a decided challenge once its remedy is done."""
    return is_official(user) and challenge.status in (
        ChallengeStatus.ACCEPTED,
        ChallengeStatus.REJECTED,
    )
