"""Fixtures for evaluation: an assessor pool, an opened tender with reviewed bids, panels.

State is built with the real services (STYLE.md). The tender fixtures of tests/tenders are
re-exported here (pytest only sees a conftest's fixtures below its folder).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from evaluation.models import AssessorProfile, Panel, PanelMember
from marketplace.models import Role, User
from orgs_registry.models import ServiceCategory
from tenders import services as tender_services
from tenders.models import Bid, Tender, TenderCriterion
from tests.conftest import make_user, persona
from tests.tenders import conftest as _tenders
from tests.tenders.conftest import Bidder, Clock, make_bidder, submit_bid, tender_data

# The tenders fixtures this folder uses (a conftest's fixtures are seen only below it).
clock = _tenders.clock
category = _tenders.category
make_tender = _tenders.make_tender

# The four opened tender's prices, all within 80% of the mean of the others (no low price).
PRICES = ["480000", "450000", "430000", "470000"]
POOL_SIZE = 12
# The objective rule the fixture tender's "grade" criterion gets (tender_create stores no
# rules yet; the schemes part of the issue adds them).
GRADE_RULE: dict[str, Any] = {"type": "grade"}


def make_assessor(
    username: str,
    *,
    agency: str,
    categories: Iterable[ServiceCategory] = (),
    **extra: Any,
) -> User:
    """An assessor in the pool for ``categories`` (all when empty) with an agency."""
    user = make_user(username, Role.ASSESSOR, **extra)
    profile = AssessorProfile.objects.get(user=user)
    chosen = list(categories)
    if chosen:
        profile.categories.set(chosen)
    profile.agency = agency
    profile.save(update_fields=["agency"])
    # Fresh, so that ``user.assessor_profile`` is not the copy cached before the agency.
    return User.objects.get(pk=user.pk)


@pytest.fixture
def pool(db, category) -> list[User]:
    """Twelve assessors for the tender's category, each from a distinct agency."""
    return [
        make_assessor(f"expert{i:02d}", agency=f"第{i}评估所", categories=[category])
        for i in range(POOL_SIZE)
    ]


@pytest.fixture
def second_official(db) -> User:
    return persona("second_official", Role.OFFICIAL)


@dataclass
class OpenedTender:
    tender: Tender
    bidders: list[Bidder]
    bids: list[Bid] = field(default_factory=list)


def open_tender(
    *,
    make_tender,
    clock: Clock,
    official: User,
    second_official: User,
    prices: Iterable[str] = PRICES,
    review: bool = True,
    **overrides: Any,
) -> OpenedTender:
    """Publish a tender, bid ``prices`` from distinct bidders, open it, review every bid."""
    tender = make_tender(**overrides)
    TenderCriterion.objects.filter(tender=tender, kind="objective").update(rule=GRADE_RULE)
    bidders = []
    bids = []
    for index, price in enumerate(prices):
        bidder = make_bidder(f"投标机构{index}号")
        bid, _receipt = submit_bid(tender, bidder, price)
        bidders.append(bidder)
        bids.append(bid)
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=official)
    tender_services.tender_open(tender=tender, actor=second_official)
    if review:
        for bid in bids:
            bid.refresh_from_db()
            tender_services.bid_review(bid=bid, actor=official, qualified=True)
    tender.refresh_from_db()
    for bid in bids:
        bid.refresh_from_db()
    return OpenedTender(tender=tender, bidders=bidders, bids=bids)


@pytest.fixture
def opened(make_tender, clock, official, second_official) -> OpenedTender:
    """An opened tender with four qualified bids (prices ``PRICES``) and its bidders."""
    return open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )


@pytest.fixture
def opened_tender(opened) -> Tender:
    return opened.tender


def form_panel(tender: Tender, official: User, **kw: Any) -> Panel:
    """Form the tender's panel through the real service."""
    from evaluation.services.panels import panel_form

    return panel_form(tender=tender, actor=official, **kw)


def active_members(panel: Panel) -> list[PanelMember]:
    return [m for m in panel.members.select_related("user").order_by("seat") if m.is_active]


def declare_all(panel: Panel) -> Panel:
    """Every active, undeclared member declares no conflict; scoring starts."""
    from evaluation.models import MemberStatus
    from evaluation.services.panels import panel_declare

    for member in active_members(panel):
        if member.status == MemberStatus.ASSIGNED:
            panel_declare(
                member=member, actor=member.user, conflict=False, statement="无利害关系。"
            )
    panel.refresh_from_db()
    return panel


@pytest.fixture
def panel(opened_tender, official, pool) -> Panel:
    """The opened tender's panel: five members drawn from the pool, nobody declared."""
    return form_panel(opened_tender, official)


@pytest.fixture
def scoring_panel(panel) -> Panel:
    """The panel with every member declared: scoring started."""
    return declare_all(panel)


__all__ = [
    "GRADE_RULE",
    "POOL_SIZE",
    "PRICES",
    "Bidder",
    "OpenedTender",
    "active_members",
    "declare_all",
    "form_panel",
    "make_assessor",
    "open_tender",
    "tender_data",
]
