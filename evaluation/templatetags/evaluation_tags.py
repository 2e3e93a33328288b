"""Template tags of the evaluation pages: the evaluation box on the tender's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import Http404

from evaluation import permissions, selectors
from tenders.models import Tender
from tenders.permissions import is_opened

register = template.Library()


@register.inclusion_tag("evaluation/includes/tender_evaluation_links.html", takes_context=True)
def tender_evaluation(context: template.Context, tender: Tender) -> dict[str, Any]:
    """What the user may open of the tender's evaluation: the panel (to form it, to read it),
    their own seat, the ranking, their organization's price justification.

    Nothing before the opening (the seal, DESIGN 6): a panel exists only after it.
    """
    user = context.get("user")
    empty: dict[str, Any] = {"show": False}
    if user is None or not getattr(user, "is_authenticated", False) or not is_opened(tender):
        return empty
    try:
        panel = selectors.panel_get_for_user(user, tender)
    except Http404:
        panel = None
    office = permissions.is_office_or_auditor(user)
    seat = permissions.panel_seat(user, panel) if panel is not None else None
    can_form = panel is None and permissions.can_form_panel(user, tender)
    ranked = panel is not None and panel.ranked_at is not None
    justifications = (
        []
        if office or panel is not None
        else list(selectors.justification_list_for_user(user, tender))
    )
    show = bool(panel is not None or can_form or justifications or (office and tender.opened_at))
    return {
        "show": show,
        "tender": tender,
        "panel": panel,
        "office": office,
        "seat": seat,
        "can_form": can_form,
        "ranked": ranked and (office or permissions.can_view_ranking(user, tender)),
        "justifications": justifications,
    }
