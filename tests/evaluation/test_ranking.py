"""The frozen ranking: from a formed panel to totals that match the 87号令 arithmetic to the
cent (computed by hand below), the trimmed mean, the wait for price justifications, ties
broken by the tender's rule or a recorded draw, and a ranking nothing changes.

The module builds once (each test rolls back to it) the pool and two opened tenders with
declared panels: one that scored nothing ("scoring"), and one with the grades ``GRADES``
and every ``PLAN`` sheet submitted but member 5's on bid D ("nearly"), which the ``ranked``
fixture submits, so that the ranking is computed (and its mail sent) in the test. Tests on
other prices, sizes or rules build their own tender on the shared pool.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from evaluation import selectors
from evaluation.models import (
    JustificationStatus,
    PanelStatus,
    PriceJustification,
    Ranking,
    RankingRow,
    SheetStatus,
    TieBreak,
)
from evaluation.services.panels import justification_decide, justification_submit
from evaluation.services.sheets import (
    draw_order,
    ranking_try_compute,
    scoresheet_save,
    scoresheet_submit,
)
from marketplace.models import AuditAction, Role
from tenders.models import BidStatus, Tender, TieRule
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import declare_all, form_panel, open_tender
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)
from tests.evaluation.test_sheets_support import (
    active_members,
    events,
    fill,
    score_everything,
    set_objective,
    sheet,
)

# Plan scores (out of 50) of the five members, per bid A, B, C, D (prices 480000, 450000,
# 430000, 470000). Every score is within 15 (30% of 50) of its bid's mean: nothing flagged.
PLAN = {
    0: ["41", "44", "40", "45", "43"],  # Σ 213    mean 42.6
    1: ["38", "40", "39.5", "41", "37"],  # Σ 195.5  mean 39.1
    2: ["35", "36", "34", "38", "33.5"],  # Σ 176.5  mean 35.3
    3: ["45", "46", "44", "47", "43.25"],  # Σ 225.25 mean 45.05
}
GRADES = ["16", "12", "20", "12"]


def D(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool, the "scoring" tender and the "nearly" one."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        shared = Shared(pool=build_pool())
        for name in ("scoring", "nearly"):
            opened = shared.opened[name] = build_opened(clock)
            shared.panels[name] = declare_all(form_panel(opened.tender, official))
        nearly = shared.opened["nearly"]
        for bid, grade in zip(nearly.bids, GRADES, strict=True):
            set_objective(bid, "grade", grade)
        score_everything(shared.panels["nearly"], nearly.bids, PLAN, skip=[(3, 4)])
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The "scoring" tender re-read for this test: its panel declared, nothing scored."""
    clock.set(_built.built_until)
    return _built.evaluated("scoring")


@pytest.fixture
def scoring_panel(opened):
    return opened.panel


@pytest.fixture
def ranked(_built, db, clock, official, django_capture_on_commit_callbacks) -> Evaluated:
    """The "nearly" tender once member 5 submits the last sheet: the ranking is computed."""
    clock.set(_built.built_until)
    nearly = _built.evaluated("nearly")
    official.language = "en"
    official.save(update_fields=["language"])
    last = nearly.members[4]
    with django_capture_on_commit_callbacks(execute=True):
        scoresheet_submit(sheet=sheet(last, nearly.bids[3]), actor=last.user)
    return nearly


def test_the_ranking_matches_a_hand_computation_to_the_cent(ranked, official):
    """Base price 430000 (the lowest valid price); price score = 430000 / price × 30.

    A: 430000/480000×30 = 26.875      + 42.6  + 16 = 85.475       → 85.48 (half-up)
    B: 430000/450000×30 = 28.6666…    + 39.1  + 12 = 79.7666…     → 79.77
    C: 30                             + 35.3  + 20 = 85.3         → 85.30
    D: 430000/470000×30 = 27.4468085… + 45.05 + 12 = 84.4968085…  → 84.50
    """
    a, b, c, d = ranked.bids
    ranking = Ranking.objects.get(tender=ranked.tender)
    assert ranking.version == 1
    assert ranking.base_price == D("430000.00")
    assert ranking.trim_extremes is False
    assert ranking.tie_break == TieBreak.NONE
    assert ranking.tie_seed == ""
    rows = list(RankingRow.objects.filter(ranking=ranking).order_by("position"))
    assert [(r.bid_id, r.position, r.rank, r.tied) for r in rows] == [
        (a.pk, 1, 1, False),
        (c.pk, 2, 2, False),
        (d.pk, 3, 3, False),
        (b.pk, 4, 4, False),
    ]
    assert [r.total for r in rows] == [D("85.48"), D("85.30"), D("84.50"), D("79.77")]
    assert [r.price_score for r in rows] == [D("26.88"), D("30.00"), D("27.45"), D("28.67")]
    assert [r.criterion_scores for r in rows] == [
        {"plan": "42.60", "grade": "16.00"},
        {"plan": "35.30", "grade": "20.00"},
        {"plan": "45.05", "grade": "12.00"},
        {"plan": "39.10", "grade": "12.00"},
    ]
    assert [r.price for r in rows] == [D("480000"), D("430000"), D("470000"), D("450000")]


def test_the_frozen_ranking_ranks_the_bids_and_the_panel_and_tells_the_drafter(ranked, official):
    tender = ranked.tender
    panel = tender.panel
    panel.refresh_from_db()
    assert panel.status == PanelStatus.RANKED
    assert panel.ranked_at is not None
    for bid in ranked.bids:
        bid.refresh_from_db()
        assert bid.status == BidStatus.RANKED
    assert set(panel.members.values_list("sheets__status", flat=True)) == {SheetStatus.LOCKED}
    (computed,) = events(AuditAction.RANKING_COMPUTED)
    assert computed.details["version"] == 1
    assert sorted(computed.details["bids_ranked"]) == sorted(str(b.pk) for b in ranked.bids)
    assert [row["total"] for row in computed.details["rows"]] == [
        "85.48",
        "85.30",
        "84.50",
        "79.77",
    ]
    assert computed.details["panel"] == {"before": "scoring", "after": "ranked"}
    assert len(events(AuditAction.SCORESHEET_LOCKED)) == 20
    ready = [m for m in mail.outbox if official.email in m.to and "Ranking computed" in m.subject]
    assert len(ready) == 1
    assert tender.reference in ready[0].subject
    assert tender.title in ready[0].body


def test_a_second_computation_changes_nothing(ranked, official):
    ranking = Ranking.objects.get(tender=ranked.tender)
    before = list(RankingRow.objects.filter(ranking=ranking).values_list("pk", "total"))
    again = ranking_try_compute(panel=ranked.tender.panel, actor=official)
    assert again == ranking
    again.refresh_from_db()
    assert again.version == 1
    assert again.computed_at == ranking.computed_at
    assert list(RankingRow.objects.filter(ranking=ranking).values_list("pk", "total")) == before
    assert len(events(AuditAction.RANKING_COMPUTED)) == 1


def test_a_locked_sheet_cannot_be_saved(ranked):
    member = active_members(ranked.tender.panel)[0]
    target = sheet(member, ranked.bids[0])
    with pytest.raises(ValidationError):
        scoresheet_save(
            sheet=target,
            actor=member.user,
            scores=[{"criterion": "plan", "score": "10", "reason": "改主意了"}],
        )
    target.refresh_from_db()
    assert target.status == SheetStatus.LOCKED
    assert target.scores.get().score == D("41")


def test_nothing_is_ranked_while_a_sheet_is_missing(opened, scoring_panel, official):
    score_everything(scoring_panel, opened.bids, PLAN, skip=[(3, 4)])
    assert ranking_try_compute(panel=scoring_panel, actor=official) is None
    assert not Ranking.objects.exists()
    scoring_panel.refresh_from_db()
    assert scoring_panel.status == PanelStatus.SCORING
    # Nothing locks before the last sheet is in (the deviation check needs them all).
    assert not scoring_panel.members.filter(sheets__status=SheetStatus.LOCKED).exists()


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "registry_admin", "outsider"])
def test_only_the_office_or_the_panel_asks_for_the_ranking(request, scoring_panel, persona):
    with pytest.raises(PermissionDenied):
        ranking_try_compute(panel=scoring_panel, actor=request.getfixturevalue(persona))


# --- Trimmed mean ------------------------------------------------------------------------------

PLAN7 = {
    0: ["41", "44", "40", "45", "43", "30", "48"],  # trimmed: drop 48 and 30 → 213/5 = 42.6
    1: ["38", "40", "39", "41", "37", "39", "39"],  # trimmed: drop 41 and 37 → 195/5 = 39
    2: ["35", "36", "34", "38", "33", "35", "35"],  # trimmed: drop 38 and 33 → 175/5 = 35
    3: ["45", "46", "44", "47", "43", "45", "45"],  # trimmed: drop 47 and 43 → 225/5 = 45
}


def _seven(make_tender, clock, official, second_official, pool, *, trim):
    opened = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    if trim:
        Tender.objects.filter(pk=opened.tender.pk).update(trim_extremes=True)
    panel = declare_all(form_panel(opened.tender, official, size=7))
    score_everything(panel, opened.bids, PLAN7)
    return opened


def test_a_panel_of_seven_drops_the_highest_and_lowest_score_when_the_tender_says_so(
    make_tender, clock, official, second_official, pool
):
    """A: 26.875 + (41+44+40+45+43)/5 = 26.875 + 42.6 = 69.475 → 69.48 (grade 0)."""
    opened = _seven(make_tender, clock, official, second_official, pool, trim=True)
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.trim_extremes is True
    row = RankingRow.objects.get(ranking=ranking, bid=opened.bids[0])
    assert row.criterion_scores["plan"] == "42.60"
    assert row.total == D("69.48")


def test_a_panel_of_seven_uses_the_plain_mean_when_the_tender_does_not_trim(
    make_tender, clock, official, second_official, pool
):
    """A: 26.875 + 291/7 = 26.875 + 41.571428… = 68.446428… → 68.45."""
    opened = _seven(make_tender, clock, official, second_official, pool, trim=False)
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.trim_extremes is False
    row = RankingRow.objects.get(ranking=ranking, bid=opened.bids[0])
    assert row.criterion_scores["plan"] == "41.57"
    assert row.total == D("68.45")


def test_a_panel_of_five_never_trims(make_tender, clock, official, second_official, pool):
    opened = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    Tender.objects.filter(pk=opened.tender.pk).update(trim_extremes=True)
    panel = declare_all(form_panel(opened.tender, official))
    score_everything(panel, opened.bids, PLAN)
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.trim_extremes is False
    assert RankingRow.objects.get(ranking=ranking, bid=opened.bids[0]).total == D("69.48")


# --- Abnormally low prices ---------------------------------------------------------------------


def test_the_ranking_waits_for_a_pending_price_justification(
    make_tender, clock, official, second_official, pool
):
    # 300000 < 80% of the mean of the others (466666.67 × 0.8 = 373333.33): flagged.
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        prices=["480000", "450000", "300000", "470000"],
    )
    panel = declare_all(form_panel(opened.tender, official))
    justification = PriceJustification.objects.get(bid=opened.bids[2])
    score_everything(panel, opened.bids, PLAN)
    assert not Ranking.objects.exists()
    assert set(panel.members.values_list("sheets__status", flat=True)) == {SheetStatus.LOCKED}

    justification_submit(
        justification=justification,
        actor=opened.bidders[2].admin,
        text="我们的人员成本由本机构志愿者体系分担，报价可以覆盖全部服务成本。",
    )
    chair = panel.chair
    justification_decide(
        justification=justification, actor=chair, accept=True, note="说明合理，成本可覆盖。"
    )
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.ACCEPTED
    ranking = Ranking.objects.get(tender=opened.tender)
    assert RankingRow.objects.filter(ranking=ranking).count() == 4
    assert ranking.base_price == D("300000.00")


def test_a_rejected_justification_leaves_the_bid_out_of_the_ranking(
    make_tender, clock, official, second_official, pool
):
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        prices=["480000", "450000", "300000", "470000"],
    )
    panel = declare_all(form_panel(opened.tender, official))
    justification = PriceJustification.objects.get(bid=opened.bids[2])
    score_everything(panel, opened.bids, PLAN)
    justification_submit(
        justification=justification, actor=opened.bidders[2].admin, text="成本说明。"
    )
    justification_decide(
        justification=justification, actor=panel.chair, accept=False, note="无法覆盖人员成本。"
    )
    ranking = Ranking.objects.get(tender=opened.tender)
    rows = list(RankingRow.objects.filter(ranking=ranking).order_by("position"))
    assert opened.bids[2].pk not in {r.bid_id for r in rows}
    # The base is now the lowest *valid* price, 450000: B gets the full 30 points.
    assert ranking.base_price == D("450000.00")
    b_row = next(r for r in rows if r.bid_id == opened.bids[1].pk)
    assert b_row.price_score == D("30.00")
    assert b_row.total == D("69.10")  # 30 + 39.1 + 0


def test_the_sheets_of_a_bid_invalidated_during_scoring_are_ignored(
    make_tender, clock, official, second_official, pool
):
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        prices=["480000", "450000", "300000", "470000"],
    )
    panel = declare_all(form_panel(opened.tender, official))
    members = active_members(panel)
    # Everyone scores A, B and D; C's sheets (the abnormally low price) are left alone.
    for b in (0, 1, 3):
        for m, member in enumerate(members):
            target = fill(sheet(member, opened.bids[b]), member, PLAN[b][m])
            scoresheet_submit(sheet=target, actor=member.user)
    assert not Ranking.objects.exists()
    justification = PriceJustification.objects.get(bid=opened.bids[2])
    justification_submit(
        justification=justification, actor=opened.bidders[2].admin, text="成本说明。"
    )
    justification_decide(
        justification=justification, actor=panel.chair, accept=False, note="无法覆盖人员成本。"
    )
    ranking = Ranking.objects.get(tender=opened.tender)
    assert RankingRow.objects.filter(ranking=ranking).count() == 3
    assert not RankingRow.objects.filter(bid=opened.bids[2]).exists()
    assert set(
        panel.members.filter(sheets__bid=opened.bids[2]).values_list("sheets__status", flat=True)
    ) == {SheetStatus.DECLARED}
    assert (
        not selectors.scoresheet_list_for_user(members[0].user).filter(bid=opened.bids[2]).exists()
    )


# --- Ties ----------------------------------------------------------------------------------------

TIE_PLAN = {
    0: ["40", "40", "40", "40", "40"],
    1: ["40", "40", "40", "40", "40"],
    2: ["30", "30", "30", "30", "30"],
    3: ["30", "30", "30", "30", "30"],
}


def _tied(make_tender, clock, official, second_official, *, rule, plan):
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        prices=["440000", "440000", "450000", "460000"],
    )
    Tender.objects.filter(pk=opened.tender.pk).update(tie_rule=rule)
    panel = declare_all(form_panel(opened.tender, official))
    score_everything(panel, opened.bids, plan)
    return opened


def test_a_tie_is_broken_by_a_recorded_draw_that_the_seed_reproduces(
    make_tender, clock, official, second_official, pool
):
    opened = _tied(make_tender, clock, official, second_official, rule=TieRule.DRAW, plan=TIE_PLAN)
    a, b = opened.bids[0], opened.bids[1]
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.tie_break == TieBreak.DRAW
    assert len(ranking.tie_seed) == 32
    rows = list(RankingRow.objects.filter(ranking=ranking).order_by("position"))
    top = rows[:2]
    assert {r.bid_id for r in top} == {a.pk, b.pk}
    assert [(r.rank, r.tied) for r in top] == [(1, True), (1, True)]
    assert [r.position for r in rows] == [1, 2, 3, 4]
    # Anyone can replay the draw from the recorded seed.
    keys = sorted([str(a.pk), str(b.pk)])
    random.Random(ranking.tie_seed).shuffle(keys)
    assert [str(r.bid_id) for r in top] == keys
    assert draw_order(ranking.tie_seed, [[str(a.pk), str(b.pk)]]) == [keys]
    (drawn,) = events(AuditAction.RANKING_TIE_DRAWN)
    assert drawn.details["seed"] == ranking.tie_seed
    assert drawn.details["draws"] == [{"rank": 1, "tied": sorted(keys), "order": keys}]


def test_the_technical_rule_puts_the_higher_non_price_score_first(
    make_tender, clock, official, second_official, pool
):
    """A: 30 + 40.002 = 70.002 → 70.00; B: 30 + 40 = 70.00: equal total and price, tied.
    The technical rule compares the exact non-price scores: A (40.002) before B (40)."""
    plan = dict(TIE_PLAN)
    plan[0] = ["40", "40", "40", "40", "40.01"]
    opened = _tied(make_tender, clock, official, second_official, rule=TieRule.TECHNICAL, plan=plan)
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.tie_break == TieBreak.RULE
    assert ranking.tie_seed == ""
    rows = list(RankingRow.objects.filter(ranking=ranking).order_by("position"))
    assert [r.bid_id for r in rows[:2]] == [opened.bids[0].pk, opened.bids[1].pk]
    assert [(r.total, r.rank, r.tied) for r in rows[:2]] == [
        (D("70.00"), 1, True),
        (D("70.00"), 1, True),
    ]
    assert not events(AuditAction.RANKING_TIE_DRAWN)


def test_the_technical_rule_still_tied_falls_back_to_a_draw(
    make_tender, clock, official, second_official, pool
):
    opened = _tied(
        make_tender, clock, official, second_official, rule=TieRule.TECHNICAL, plan=TIE_PLAN
    )
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.tie_break == TieBreak.DRAW
    assert ranking.tie_seed
    (drawn,) = events(AuditAction.RANKING_TIE_DRAWN)
    assert drawn.details["rule"] == TieRule.TECHNICAL
