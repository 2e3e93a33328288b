"""Helpers for the score sheet, ranking and independence tests (no tests in here).

The panel comes from the panels fixtures (``tests/evaluation/conftest.py``): an opened
tender with four qualified bids priced ``PRICES`` (480000, 450000, 430000, 470000), the
scheme price 30 / plan 50 (subjective) / grade 20 (objective), and a five-member panel.
Every sheet is filled and submitted through the real services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from evaluation.models import ObjectiveScore, Panel, PanelMember, ScoreSheet
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.models import AuditEvent
from tenders.models import Bid
from tests.evaluation.conftest import active_members

__all__ = [
    "CRITERIA4",
    "NORMAL",
    "active_members",
    "events",
    "fill",
    "score_everything",
    "set_objective",
    "sheet",
    "with_bid_a",
]

# A scheme with two subjective criteria.
CRITERIA4 = [
    {"code": "price", "name": "价格", "kind": "price", "points": "30"},
    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "40"},
    {"code": "team", "name": "团队", "kind": "subjective", "points": "10"},
    {"code": "grade", "name": "等级", "kind": "objective", "points": "20"},
]
# Plan scores (out of 50) of five members on bids A-D, close to each other: nothing flagged.
NORMAL = {
    0: ["41", "44", "40", "45", "43"],
    1: ["38", "40", "39.5", "41", "37"],
    2: ["35", "36", "34", "38", "33.5"],
    3: ["45", "46", "44", "47", "43.25"],
}


def with_bid_a(scores: Sequence[Any]) -> dict[int, Sequence[Any]]:
    """``NORMAL`` with bid A's five scores replaced."""
    return {**NORMAL, 0: list(scores)}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def sheet(member: PanelMember, bid: Bid) -> ScoreSheet:
    return ScoreSheet.objects.get(member=member, bid=bid)


def fill(
    target: ScoreSheet, member: PanelMember, plan: Any, *, reason: str = "方案完整，措施具体。"
) -> ScoreSheet:
    """Save the ``plan`` score on ``target`` as its member."""
    return scoresheet_save(
        sheet=target,
        actor=member.user,
        scores=[{"criterion": "plan", "score": str(plan), "reason": reason}],
    )


def set_objective(bid: Bid, code: str, value: str) -> None:
    """The registry fact behind an objective score, as if the bidder held that grade.

    (The bidders of the fixtures have no grade assessment, so the panel computed 0; the
    hand-computed cases need distinct objective values.)
    """
    updated = ObjectiveScore.objects.filter(bid=bid, criterion__code=code).update(
        score=Decimal(value)
    )
    assert updated == 1


def score_everything(
    panel: Panel,
    bids: Sequence[Bid],
    plan: Mapping[int, Sequence[Any]],
    *,
    submit: bool = True,
    skip: Iterable[tuple[int, int]] = (),
) -> list[PanelMember]:
    """Every active member scores ``plan[bid index][seat index]`` on every bid and submits
    (except the (bid index, seat index) pairs in ``skip``, left as drafts)."""
    members = active_members(panel)
    left = set(skip)
    for b, bid in enumerate(bids):
        for m, member in enumerate(members):
            target = fill(sheet(member, bid), member, plan[b][m])
            if submit and (b, m) not in left:
                scoresheet_submit(sheet=target, actor=member.user)
    return members
