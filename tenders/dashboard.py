"""Tender cards on the dashboards, and the tender entries in the navigation.

The seal holds here too (DESIGN.md 6): no card counts bids, or says whether any were made,
before the opening. Officials count their tenders and questions; an organization counts
its own bids only.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketplace import permissions
from marketplace.dashboard import Card, NavItem, card_provider, nav_item
from marketplace.models import Role, User
from tenders import selectors
from tenders.models import BidStatus, TenderStatus
from tenders.selectors import contracts as contract_selectors
from tenders.selectors import delivery as delivery_selectors

# An organization's bids that still need it (or wait for the opening).
BIDS_IN_PROGRESS = (BidStatus.DRAFT, BidStatus.SUBMITTED, BidStatus.NEEDS_CONFIRMATION)

nav_item(NavItem(_("Tenders"), "tenders:list", lambda user: True, order=15))
nav_item(NavItem(_("Workspace"), "tenders:workspace", permissions.is_official, order=16))
nav_item(NavItem(_("My bids"), "tenders:my_bids", permissions.is_org_user, order=31))


@card_provider(order=50)
def _official_cards(user: User) -> list[Card]:
    if not permissions.is_official(user):
        return []
    workspace = selectors.official_workspace(user)
    url = reverse("tenders:workspace")
    cards = [
        Card(
            title=_("My draft tenders"),
            value=len(workspace.drafts),
            url=reverse("tenders:create") if not workspace.drafts else url,
            link_text=_("Draft a tender") if not workspace.drafts else _("Open the workspace"),
            empty_hint=_("No draft. Draft a tender to start a purchase."),
        ),
    ]
    if permissions.has_role(user, Role.APPROVER):
        waiting = len(workspace.awaiting_my_approval)
        cards.append(
            Card(
                title=_("Tenders waiting for my approval"),
                value=waiting,
                tone="attention" if waiting else "good",
                url=url,
                link_text=_("Approve or return them"),
                empty_hint=_("Nothing waits for your approval."),
            )
        )
    questions = len(workspace.questions)
    to_open = len(workspace.to_open)
    to_review = len(workspace.to_review)
    cards += [
        Card(
            title=_("Questions to answer"),
            value=questions,
            tone="attention" if questions else "good",
            url=url + "#questions",
            link_text=_("Answer them"),
            empty_hint=_("No question waits for an answer."),
        ),
        Card(
            title=_("Tenders waiting for their opening"),
            value=to_open,
            tone="attention" if to_open else "neutral",
            description=_("Two different officials confirm each opening."),
            url=url,
            link_text=_("Confirm openings"),
            empty_hint=_("No deadline has passed without an opening."),
        ),
        Card(
            title=_("Opened tenders with bids to review"),
            value=to_review,
            tone="attention" if to_review else "neutral",
            url=url,
            link_text=_("Review the bids"),
            empty_hint=_("No opened bid waits for its qualification review."),
        ),
    ]
    return cards + _award_cards(user, workspace)


@card_provider(order=105)
def _organization_cards(user: User) -> list[Card]:
    if not permissions.is_org_user(user):
        return []
    open_tenders = selectors.organization_open_tenders(user)
    eligible = [entry for entry in open_tenders if entry.eligible]
    problems = open_tenders[0].problems if open_tenders and not eligible else []
    in_progress = selectors.own_bid_list(user).filter(
        status__in=BIDS_IN_PROGRESS,
        tender__status__in=[TenderStatus.PUBLISHED, TenderStatus.CLOSED],
    )
    waiting = sum(1 for bid in in_progress if bid.status == BidStatus.NEEDS_CONFIRMATION)
    count = len(in_progress)
    url = reverse("tenders:my_bids")
    return [
        *_result_cards(user),
        Card(
            title=_("Tenders you can bid on"),
            value=len(eligible),
            tone="good" if eligible else "neutral",
            url=url,
            link_text=_("See the open tenders"),
            note="; ".join(problems),
            empty_hint=_("No tender is open to your organization now."),
        ),
        Card(
            title=_("Your bids in progress"),
            value=count,
            tone="attention" if waiting else "neutral",
            description=_("%(n)s need your confirmation after an amendment") % {"n": waiting}
            if waiting
            else "",
            url=url,
            link_text=_("Open your bids"),
            empty_hint=_("No bid is being prepared or waiting for its opening."),
        ),
    ]


# --- Award and challenges ---------------------------------------------------------------------


def _award_cards(user: User, workspace: selectors.OfficialWorkspace) -> list[Card]:
    """Approvers: frozen rankings to award, answered challenges to decide; every official:
    challenges to answer, the overdue ones called out."""
    url = reverse("tenders:workspace")
    cards = []
    if permissions.has_role(user, Role.APPROVER):
        to_award = len(workspace.to_award)
        cards.append(
            Card(
                title=_("Rankings waiting for my award"),
                value=to_award,
                tone="attention" if to_award else "neutral",
                description=_("The panel has frozen the ranking; confirm the winner."),
                url=url + "#award",
                link_text=_("Confirm awards"),
                empty_hint=_("No frozen ranking waits for your award."),
            )
        )
    to_answer = len(workspace.challenges_to_answer)
    overdue = workspace.challenges_overdue
    cards.append(
        Card(
            title=_("Challenges to answer"),
            value=to_answer,
            tone="attention" if to_answer else "good",
            description=_("%(n)s past the answer date") % {"n": overdue} if overdue else "",
            note=_("The written answer is due within 7 working days.") if to_answer else "",
            url=url + "#challenges",
            link_text=_("Answer them"),
            empty_hint=_("No challenge waits for an answer."),
        )
    )
    if permissions.has_role(user, Role.APPROVER):
        to_decide = len(workspace.challenges_to_decide)
        cards.append(
            Card(
                title=_("Challenges waiting for my decision"),
                value=to_decide,
                tone="attention" if to_decide else "neutral",
                url=url + "#challenges",
                link_text=_("Decide them"),
                empty_hint=_("No answered challenge waits for your decision."),
            )
        )
    return cards


def _result_cards(user: User) -> list[Card]:
    """An organization's results after awards, and the challenge windows still open."""
    results = selectors.organization_results(user)
    windows = [entry for entry in results if entry.window_open and not entry.won]
    won = sum(1 for entry in results if entry.won)
    url = reverse("tenders:my_bids") + "#results"
    cards = [
        Card(
            title=_("Results of your bids"),
            value=len(results),
            tone="good" if won else "neutral",
            description=_("%(n)s won") % {"n": won} if won else "",
            url=url,
            link_text=_("See your results"),
            empty_hint=_("No tender with your bid has been awarded yet."),
        )
    ]
    if windows:
        first = min(entry.challenge_deadline for entry in windows)
        cards.append(
            Card(
                title=_("Challenge windows open"),
                value=len(windows),
                tone="attention",
                description=_("The earliest closes on %(day)s.") % {"day": first.isoformat()},
                url=url,
                link_text=_("See your results"),
            )
        )
    return cards


# --- Contracts and payments --------------------------------------------------------------------

nav_item(NavItem(_("Contracts"), "tenders:contracts", lambda user: True, order=17))


@card_provider(order=55)
def _contract_cards(user: User) -> list[Card]:
    """Officials: drafts to sign, signatures past the 30 days, released payments to record.
    An organization's admin: drafts to sign; its users: the settled payments."""
    url = reverse("tenders:contracts")
    cards: list[Card] = []
    if permissions.is_official(user) or permissions.has_role(user, Role.ORG_ADMIN):
        to_sign = list(contract_selectors.contracts_to_sign_for_user(user)[:20])
        cards.append(
            Card(
                title=_("Contracts waiting for my signature"),
                value=len(to_sign),
                tone="attention" if to_sign else "good",
                url=reverse("tenders:contract_detail", args=[to_sign[0].pk]) if to_sign else url,
                link_text=_("Read and sign") if to_sign else _("See the contracts"),
                note=", ".join(contract.reference for contract in to_sign[:3]),
                empty_hint=_("No contract waits for your signature."),
            )
        )
    if permissions.is_official(user):
        overdue = contract_selectors.overdue_signatures(user).count()
        to_record = list(contract_selectors.payments_due_for_official(user, limit=1))
        to_record_count = contract_selectors.payments_due_count(user)
        reports = delivery_selectors.reports_waiting_for_review(user).count()
        cards += [
            Card(
                title=_("Delivery reports to review"),
                value=reports,
                tone="attention" if reports else "good",
                description=_("Accept a report or return it with comments."),
                url=reverse("tenders:delivery_reports_waiting"),
                link_text=_("Review the reports"),
                empty_hint=_("No delivery report waits for review."),
            ),
            Card(
                title=_("Contracts past their signing day"),
                value=overdue,
                tone="attention" if overdue else "good",
                description=_("Both sides sign within 30 days of the award notice."),
                url=url + "?status=draft",
                link_text=_("See the drafts"),
                empty_hint=_("No contract is late for its signatures."),
            ),
            Card(
                title=_("Released payments to record"),
                value=to_record_count,
                tone="attention" if to_record else "neutral",
                url=(
                    reverse("tenders:contract_detail", args=[to_record[0].contract_id])
                    if to_record
                    else url
                ),
                link_text=_("Record the transfers"),
                empty_hint=_("Every released payment is recorded."),
            ),
        ]
    elif permissions.is_org_user(user):
        settled = list(contract_selectors.payments_for_organization(user, limit=1))
        settled_count, withheld = contract_selectors.payment_counts_for_organization(user)
        cards.append(
            Card(
                title=_("Milestone payments settled"),
                value=settled_count,
                tone="attention" if withheld else "neutral",
                description=(
                    _("%(n)s withheld, with the reason on the contract page") % {"n": withheld}
                    if withheld
                    else ""
                ),
                url=(
                    reverse("tenders:contract_detail", args=[settled[0].contract_id])
                    if settled
                    else url
                ),
                link_text=_("See the payments"),
                empty_hint=_("No milestone payment is settled yet."),
            )
        )
    return cards
