"""Who may do what in evaluation: pure predicates ``can_<verb>_<noun>(user, obj)``.

Independence and the seal carry on here (DESIGN 4.4, 6): an assessor drawn onto a panel
reads no bid content until they have signed the conflict-of-interest declaration, and the
draw's exclusions (who was in conflict, and why) are the street office's and auditors' only.
"""

from __future__ import annotations

from typing import Any

from evaluation.models import (
    JustificationStatus,
    MemberStatus,
    Panel,
    PanelMember,
    PanelStatus,
    PriceJustification,
)
from marketplace.models import Role
from marketplace.permissions import has_role, is_official
from orgs_registry.permissions import is_admin_of, is_member_of
from tenders.models import Tender, TenderStatus
from tenders.permissions import is_opened

# --- Panels ------------------------------------------------------------------------------------


def _user_id(user: Any) -> int | None:
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


def is_office_or_auditor(user: Any) -> bool:
    """The street office and auditors oversee every panel."""
    return is_official(user) or has_role(user, Role.AUDITOR)


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def panel_seat(user: Any, panel: Panel | None) -> PanelMember | None:
    """The user's active seat on ``panel`` (not one given up for a conflict), or None."""
    user_id = _user_id(user)
    if panel is None or user_id is None or not _active(user):
        return None
    return (
        PanelMember.objects.filter(panel=panel, user_id=user_id)
        .exclude(status=MemberStatus.REPLACED)
        .first()
    )


def is_declared_member(user: Any, panel: Panel | None, member: PanelMember | None = None) -> bool:
    """Whether the user sits on ``panel`` and signed the declaration (no conflict)."""
    if panel is None:
        return False
    if member is None:
        member = panel_seat(user, panel)
    return (
        member is not None
        and _active(user)
        and member.user_id == _user_id(user)
        and member.panel_id == panel.pk
        and member.status == MemberStatus.DECLARED
    )


def can_form_panel(user: Any, tender: Tender) -> bool:
    """An official, once the bids are opened (every bid reviewed is checked by the service)."""
    return is_official(user) and tender.status == TenderStatus.OPENED


def can_declare(user: Any, member: PanelMember) -> bool:
    """The member themself, while the seat waits for the declaration and the panel declares."""
    return (
        _active(user)
        and member.user_id == _user_id(user)
        and member.status == MemberStatus.ASSIGNED
        and member.panel.status == PanelStatus.DECLARING
    )


def can_view_panel(user: Any, panel: Panel) -> bool:
    """The street office, auditors, and the panel's own active members."""
    return is_office_or_auditor(user) or panel_seat(user, panel) is not None


def can_view_exclusions(user: Any) -> bool:
    """Who was excluded from a draw, and why, is the street office's and auditors' only."""
    return is_office_or_auditor(user)


def can_view_panel_bids(user: Any, tender: Tender, member: PanelMember | None = None) -> bool:
    """Bid content for evaluation: the street office and auditors after the opening; a panel
    member only after signing the declaration (DESIGN 4.4: "before seeing the bids")."""
    if not is_opened(tender):
        return False
    if is_office_or_auditor(user):
        return True
    if member is not None:
        return member.panel.tender_id == tender.pk and is_declared_member(
            user, member.panel, member
        )
    panel = Panel.objects.filter(tender=tender).first()
    return is_declared_member(user, panel)


def can_edit_assessor_profile(user: Any, profile: Any) -> bool:
    """The assessor themself (while an assessor), or the street office."""
    if is_official(user):
        return True
    return has_role(user, Role.ASSESSOR) and profile.user_id == _user_id(user)


def can_submit_justification(user: Any, justification: PriceJustification) -> bool:
    """The bidding organization's administrator, while the justification is requested and the
    tender is being evaluated (the due time is checked by the service, with its message)."""
    bid = justification.bid
    return (
        is_admin_of(user, bid.organization)
        and justification.status == JustificationStatus.REQUESTED
        and bid.tender.status == TenderStatus.EVALUATING
    )


def can_decide_justification(user: Any, justification: PriceJustification, panel: Panel) -> bool:
    """The panel's chair, while the panel scores (87号令 Art. 60: the panel decides)."""
    return (
        _active(user)
        and panel.chair_id is not None
        and panel.chair_id == _user_id(user)
        and panel.status == PanelStatus.SCORING
        and panel.tender_id == justification.bid.tender_id
        and justification.status in (JustificationStatus.REQUESTED, JustificationStatus.SUBMITTED)
        and is_declared_member(user, panel)
    )


def can_view_justification(user: Any, justification: PriceJustification) -> bool:
    """The bidding organization's people, the street office, auditors, and the panel's
    declared members."""
    bid = justification.bid
    if is_member_of(user, bid.organization) or is_office_or_auditor(user):
        return True
    panel = Panel.objects.filter(tender_id=bid.tender_id).first()
    return is_declared_member(user, panel)


# --- Score sheets and ranking ---
# Independence (DESIGN 4.4): a member sees nobody else's scores until every sheet is
# submitted. ``revealed`` says whether that moment has come (``sheets.scores_revealed``);
# the selectors compute it, so that these predicates stay small.

# Tender states after the award: the ranking's summary is public, each bidder sees its row.
AWARDED_TENDER_STATES = frozenset(
    {
        TenderStatus.AWARDED,
        TenderStatus.CONTRACTED,
        TenderStatus.IN_DELIVERY,
        TenderStatus.COMPLETED,
    }
)


def _own_seat(user: Any, member: PanelMember) -> bool:
    """The member themself, signed in, after the declaration."""
    return (
        _active(user)
        and member.user_id == _user_id(user)
        and member.status == MemberStatus.DECLARED
    )


def can_score_sheet(user: Any, sheet: Any) -> bool:
    """The sheet's own member, after the declaration, scores it; nobody else, ever."""
    return _own_seat(user, sheet.member)


def can_view_panel_scores(user: Any, panel: Panel, *, revealed: bool) -> bool:
    """Every member's scores: only once every sheet is submitted (DESIGN 4.4), for the
    street office, auditors and the panel's declared members."""
    if not revealed:
        return False
    return is_office_or_auditor(user) or is_declared_member(user, panel)


def can_view_sheet(user: Any, sheet: Any, *, revealed: bool) -> bool:
    """Its member always; once every sheet is submitted, also those who see the panel's
    scores."""
    if _own_seat(user, sheet.member):
        return True
    return can_view_panel_scores(user, sheet.member.panel, revealed=revealed)


def can_view_panel_progress(user: Any, panel: Panel) -> bool:
    """Counts of sheets by status (no scores): the street office and auditors."""
    return is_office_or_auditor(user)


def can_view_ranking(user: Any, tender: Tender) -> bool:
    """The full ranking with each member's scores: the street office, auditors and the
    panel's declared members."""
    if is_office_or_auditor(user):
        return True
    return is_declared_member(user, Panel.objects.filter(tender_id=tender.pk).first())


def can_view_ranking_summary(user: Any, tender: Tender) -> bool:
    """After the award, the ranking's summary (no member scores) is public."""
    return tender.status in AWARDED_TENDER_STATES


def can_reopen_sheet(user: Any, sheet: Any) -> bool:
    """The panel's chair, while the tender is evaluated and no award confirmed (DESIGN 3)."""
    panel = sheet.member.panel
    return (
        _active(user)
        and panel.chair_id is not None
        and panel.chair_id == _user_id(user)
        and panel.tender.status == TenderStatus.EVALUATING
    )


def can_correct_objective_score(user: Any, panel: Panel) -> bool:
    """The panel's chair corrects an inconsistent objective score, before the award."""
    return (
        _active(user)
        and panel.chair_id is not None
        and panel.chair_id == _user_id(user)
        and panel.tender.status == TenderStatus.EVALUATING
    )


def can_confirm_deviation(user: Any, flag: Any) -> bool:
    """The member whose score was flagged (畸高畸低) confirms or revises it."""
    return _own_seat(user, flag.sheet.member)


def can_compute_ranking(user: Any, panel: Panel) -> bool:
    """Asking for the ranking changes nothing until every sheet is locked: the street
    office or a declared member may ask."""
    return is_official(user) or is_declared_member(user, panel)
