"""Template tags of the contract pages: the contract box on the tender's page."""

from __future__ import annotations

from typing import Any

from django import template

from tenders.models import Tender, TenderStatus
from tenders.permissions import contracts as permissions
from tenders.selectors import contracts as selectors
from tenders.services import tender_ready_for_contract

register = template.Library()

# Tender states in which a contract may exist.
CONTRACT_STATES = frozenset(
    {
        TenderStatus.AWARDED,
        TenderStatus.CONTRACTED,
        TenderStatus.IN_DELIVERY,
        TenderStatus.COMPLETED,
        TenderStatus.CANCELLED,
    }
)


@register.inclusion_tag("tenders/contracts/_tender_links.html", takes_context=True)
def tender_contract(context: template.Context, tender: Tender) -> dict[str, Any]:
    """The tender's contract, if the user may read it; for an official, the link that
    draws it up once the challenge window is over."""
    user = context.get("user")
    if tender.status not in CONTRACT_STATES:
        return {"show": False}
    contract = selectors.contract_for_tender(user, tender)
    can_draw_up = (
        contract is None
        and permissions.can_draft_contract(user, tender)
        and tender_ready_for_contract(tender)
    )
    return {
        "show": contract is not None or can_draw_up,
        "tender": tender,
        "contract": contract,
        "can_draw_up": can_draw_up,
    }
