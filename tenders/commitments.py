"""Open bids are commitments an organization settles before it deregisters (注销退出)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from orgs_registry.exit import Commitment, commitment_source
from tenders.models import Bid, BidStatus, TenderStatus

# A bid binds its organization while its tender may still be awarded to it.
BINDING_BID_STATES = [
    BidStatus.SUBMITTED,
    BidStatus.NEEDS_CONFIRMATION,
    BidStatus.OPENED,
    BidStatus.QUALIFIED,
    BidStatus.RANKED,
]
LIVE_TENDER_STATES = [
    TenderStatus.PUBLISHED,
    TenderStatus.CLOSED,
    TenderStatus.OPENED,
    TenderStatus.EVALUATING,
]


@commitment_source
def open_bids(organization: Any) -> list[Commitment]:
    bids = Bid.objects.filter(
        organization=organization,
        status__in=BINDING_BID_STATES,
        tender__status__in=LIVE_TENDER_STATES,
    ).select_related("tender")
    return [
        Commitment(
            kind="bid",
            label=_("Bid for “%(title)s” (%(status)s)")
            % {"title": bid.tender.title, "status": bid.get_status_display()},
            url=bid.tender.get_absolute_url(),
        )
        for bid in bids
    ]
