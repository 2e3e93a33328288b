"""Evaluation cards on the dashboards, and the evaluation entries in the navigation.

An assessor (or an official sitting as the purchaser's representative) sees what waits on
their panel seats: declarations, sheets to score, flagged scores. The street office sees the
panels under way and the rankings ready for the award; a bidder, the price justifications
asked of it. No card counts or names a bid before the opening (a panel exists only after).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation import selectors
from evaluation.models import (
    AssessorProfile,
    DeviationStatus,
    JustificationStatus,
    Panel,
    PanelStatus,
    PerformanceEvaluationStatus,
    PriceJustification,
    SheetStatus,
)
from evaluation.selectors import performance as performance_selectors
from marketplace import permissions
from marketplace.dashboard import Card, NavItem, card_provider, nav_item
from marketplace.models import Role, User
from tenders.models import TenderStatus

# Sheets the member can still work on.
SHEETS_TO_SCORE = (SheetStatus.DECLARED, SheetStatus.DRAFT, SheetStatus.REOPENED)

nav_item(
    NavItem(
        _("My assessments"),
        "evaluation:assignments",
        lambda user: permissions.has_role(user, Role.ASSESSOR),
        order=40,
    )
)


@card_provider(order=200)
def _assessor_pool(user: User) -> list[Card]:
    if permissions.has_role(user, Role.ASSESSOR):
        profile = AssessorProfile.objects.filter(user=user).prefetch_related("categories").first()
        names = [c.name for c in profile.categories.all()] if profile else []
        return [
            Card(
                title=_("Your assessment categories"),
                value=len(names),
                description="、".join(names),
                url=reverse("evaluation:profile") if profile else "",
                link_text=_("Your assessor profile"),
                empty_hint=_(
                    "You are not in the assessor pool for any category yet; "
                    "ask the street office to add you."
                ),
            )
        ]
    if permissions.is_official(user) or permissions.has_role(user, Role.AUDITOR):
        return [
            Card(
                title=_("Assessors in the pool"),
                value=AssessorProfile.objects.filter(user__is_active=True).count(),
                description=_("Panels are drawn at random from this pool."),
                empty_hint=_("Add assessors with manage.py add_user --role assessor."),
            )
        ]
    return []


@card_provider(order=190)
def _panel_seats(user: User) -> list[Card]:
    """An assessor's seats (and an official's, sitting as the purchaser's representative)."""
    assessor = permissions.has_role(user, Role.ASSESSOR)
    seats = selectors.my_assignments(user) if assessor or permissions.is_official(user) else []
    if not assessor and not seats:
        return []
    url = reverse("evaluation:assignments")
    to_declare = sum(1 for seat in seats if seat.must_declare)
    to_score = sum(
        count
        for seat in seats
        if seat.panel_status == PanelStatus.SCORING
        for status, count in seat.sheets.items()
        if status in SHEETS_TO_SCORE
    )
    flags = sum(
        1
        for sheet in selectors.scoresheet_list_for_user(user)
        for flag in sheet.flags.all()
        if flag.status == DeviationStatus.OPEN
    )
    return [
        Card(
            title=_("Declarations to sign"),
            value=to_declare,
            tone="attention" if to_declare else "good",
            description=_("Sign it before you can read the bids."),
            url=url,
            link_text=_("Open my assessments"),
            empty_hint=_("No panel seat waits for your declaration."),
        ),
        Card(
            title=_("Score sheets to complete"),
            value=to_score,
            tone="attention" if to_score else "neutral",
            url=url,
            link_text=_("Score the bids"),
            empty_hint=_("No sheet waits for your scores."),
        ),
        Card(
            title=_("Flagged scores to answer"),
            value=flags,
            tone="attention" if flags else "good",
            description=_("Confirm each with a written reason, or revise it."),
            url=url,
            link_text=_("Answer the flags"),
            empty_hint=_("None of your scores is flagged."),
        ),
    ]


@card_provider(order=60)
def _office_panels(user: User) -> list[Card]:
    """The street office's panels under way and the rankings ready for the award."""
    if not (permissions.is_official(user) or permissions.has_role(user, Role.AUDITOR)):
        return []
    in_progress = list(
        Panel.objects.filter(status__in=[PanelStatus.DECLARING, PanelStatus.SCORING])
        .select_related("tender")
        .order_by("formed_at")
    )
    ready = list(
        Panel.objects.filter(status=PanelStatus.RANKED, tender__status=TenderStatus.EVALUATING)
        .select_related("tender")
        .order_by("ranked_at")
    )
    first = in_progress[0].tender_id if in_progress else None
    first_ready = ready[0].tender_id if ready else None
    cards = [
        Card(
            title=_("Panels under way"),
            value=len(in_progress),
            description=_("Members declaring conflicts or scoring."),
            url=reverse("evaluation:panel", args=[first]) if first else "",
            link_text=_("Follow the panel") if len(in_progress) == 1 else _("Follow the oldest"),
            empty_hint=_("No panel is declaring or scoring."),
        ),
    ]
    if permissions.has_role(user, Role.APPROVER):
        # Approvers have the award's own card ("Rankings waiting for my award", tenders).
        return cards
    cards.append(
        Card(
            title=_("Rankings ready for the award"),
            value=len(ready),
            tone="attention" if ready else "neutral",
            url=reverse("evaluation:ranking", args=[first_ready]) if first_ready else "",
            link_text=_("Read the ranking") if len(ready) == 1 else _("Read the oldest"),
            empty_hint=_("No frozen ranking waits for the award."),
        )
    )
    return cards


@card_provider(order=106)
def _price_justifications(user: User) -> list[Card]:
    """A bidder's open requests to justify an abnormally low price (87号令 Art. 60)."""
    if not permissions.is_org_user(user):
        return []
    waiting = list(
        PriceJustification.objects.filter(
            bid__organization_id=user.organization_id,
            status=JustificationStatus.REQUESTED,
        )
        .select_related("bid__tender")
        .order_by("due_at")
    )
    if not waiting:
        return []
    first = waiting[0]
    return [
        Card(
            title=_("Price justifications requested"),
            value=len(waiting),
            tone="attention",
            description=_("Your price is abnormally low; explain it in writing by %(due)s.")
            % {"due": timezone.localtime(first.due_at).strftime("%Y-%m-%d %H:%M")},
            url=reverse("evaluation:justification", args=[first.pk]),
            link_text=_("Write the justification"),
        )
    ]


# --- Third-party performance evaluation (DESIGN 4.5) -------------------------------------------


@card_provider(order=195)
def _performance_to_do(user: User) -> list[Card]:
    """An assessor's performance evaluations not yet submitted."""
    if not permissions.has_role(user, Role.ASSESSOR):
        return []
    waiting = [
        evaluation
        for evaluation in performance_selectors.my_performance_evaluations(user)
        if evaluation.status == PerformanceEvaluationStatus.ASSIGNED
    ]
    first = waiting[0] if waiting else None
    return [
        Card(
            title=_("Performance evaluations to do"),
            value=len(waiting),
            tone="attention" if waiting else "good",
            description=_("The first is due on %(day)s.") % {"day": first.due_date.isoformat()}
            if first
            else "",
            url=reverse("evaluation:performance_list"),
            link_text=_("Open my performance evaluations"),
            empty_hint=_("No performance evaluation waits for you."),
        )
    ]


@card_provider(order=65)
def _performance_due(user: User) -> list[Card]:
    """The street office's evaluations assigned and not yet submitted, earliest due first."""
    if not (permissions.is_official(user) or permissions.has_role(user, Role.AUDITOR)):
        return []
    due = list(performance_selectors.performance_evaluations_due(user))
    today = timezone.localdate()
    overdue = sum(1 for evaluation in due if evaluation.due_date < today)
    return [
        Card(
            title=_("Performance evaluations due"),
            value=len(due),
            tone="attention" if overdue else "neutral",
            description=_("%(count)s past the due date.") % {"count": overdue} if overdue else "",
            url=reverse("evaluation:performance_list") + "?status=assigned",
            link_text=_("Follow the evaluations"),
            empty_hint=_("No performance evaluation is under way."),
        )
    ]


@card_provider(order=107)
def _performance_replies(user: User) -> list[Card]:
    """An organization's administrator: evaluation results waiting for its reply."""
    if not permissions.has_role(user, Role.ORG_ADMIN):
        return []
    waiting = [
        evaluation
        for evaluation in performance_selectors.performance_evaluation_list_for_user(user)
        if evaluation.status == PerformanceEvaluationStatus.SUBMITTED
        and evaluation.contract.organization_id == user.organization_id
    ]
    if not waiting:
        return []
    return [
        Card(
            title=_("Evaluation results to answer"),
            value=len(waiting),
            tone="attention",
            description=_("You may reply to each conclusion once; the reply is published."),
            url=reverse("evaluation:performance_detail", args=[waiting[0].pk]),
            link_text=_("Read the result"),
        )
    ]


from evaluation import dashboard_integrity  # noqa: E402, F401  (the integrity queue's card)
