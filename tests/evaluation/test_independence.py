"""Independence (DESIGN 4.4): a member sees nobody else's scores until every sheet is
submitted; "not yours" is a 404 like "missing". Then the panel, officials and auditors see
every member's scores; after the award the public sees a summary of the ranking and each
bidder its own row.

The module builds once (each test rolls back to it) the pool and two opened tenders: one
whose drawn panel has every sheet submitted but the last ("nearly"), and one whose panel of
five other experts (named, so that nobody sits on both) has not declared yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.http import Http404

from evaluation import permissions, selectors
from evaluation.models import SheetStatus
from evaluation.services.sheets import scoresheet_submit
from marketplace.models import Role
from tenders import services as tender_services
from tenders.models import Bid
from tests.conftest import building, make_user, module_database, persona
from tests.evaluation.conftest import declare_all, form_panel
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)
from tests.evaluation.test_sheets_support import (
    NORMAL,
    active_members,
    events,
    fill,
    score_everything,
    sheet,
)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool, the "nearly" tender (every sheet submitted but
    member 5's on bid D, a draft) and the "declaring" tender (its panel undeclared)."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        shared = Shared(pool=build_pool())
        nearly = shared.opened["nearly"] = build_opened(clock)
        panel = shared.panels["nearly"] = declare_all(form_panel(nearly.tender, official))
        score_everything(panel, nearly.bids, NORMAL, skip=[(3, 4)])
        seated = {member.user_id for member in active_members(panel)}
        declaring = shared.opened["declaring"] = build_opened(clock)
        others = [user for user in shared.pool if user.pk not in seated][:5]
        shared.panels["declaring"] = form_panel(declaring.tender, official, members=others)
        yield shared.done(clock)


@pytest.fixture
def anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.fixture
def nearly(_built, db, clock) -> Evaluated:
    """Every sheet submitted but the last one (member 5 on bid D), which is a draft."""
    clock.set(_built.built_until)
    return _built.evaluated("nearly")


@pytest.fixture
def scoring_panel(nearly):
    return nearly.panel


@pytest.fixture
def members(nearly):
    return nearly.members


@pytest.fixture
def declaring(_built, db, clock) -> Evaluated:
    """The other tender: its panel formed, nobody declared, nothing scored."""
    clock.set(_built.built_until)
    return _built.evaluated("declaring")


@pytest.fixture
def declared(declaring) -> Evaluated:
    """The other tender's panel with every member declared: scoring started, no score."""
    declare_all(declaring.panel)
    declaring.members = active_members(declaring.panel)
    return declaring


def submit_last(opened, members):
    scoresheet_submit(sheet=sheet(members[4], opened.bids[3]), actor=members[4].user)


# --- Before every sheet is submitted -------------------------------------------------------------


def test_a_member_lists_only_their_own_sheets(declared):
    opened, members = declared, declared.members
    fill(sheet(members[0], opened.bids[0]), members[0], "41")
    mine = list(selectors.scoresheet_list_for_user(members[0].user, opened.tender))
    assert len(mine) == 4
    assert {s.member_id for s in mine} == {members[0].pk}
    assert list(selectors.scoresheet_list_for_user(members[0].user)) == mine
    own = next(s for s in mine if s.bid_id == opened.bids[0].pk)
    assert [(s.criterion.code, s.score) for s in own.scores.all()] == [("plan", Decimal("41"))]


@pytest.mark.parametrize("persona", ["official", "approver", "auditor", "org_admin", "outsider"])
def test_nobody_else_lists_a_members_sheets(request, declared, persona):
    opened = declared
    user = request.getfixturevalue(persona)
    assert not selectors.scoresheet_list_for_user(user, opened.tender).exists()
    assert not selectors.scoresheet_list_for_user(user).exists()


def test_sheets_are_listed_only_after_the_declaration(declaring):
    opened = declaring
    member = active_members(declaring.panel)[0]
    assert not selectors.scoresheet_list_for_user(member.user, opened.tender).exists()


def test_a_member_reads_their_own_sheet(nearly, members):
    own = sheet(members[0], nearly.bids[0])
    assert selectors.scoresheet_get_for_user(members[0].user, own.pk) == own


@pytest.mark.parametrize("who", ["other_member", "official", "approver", "auditor", "outsider"])
def test_nobody_else_reads_a_sheet_before_every_sheet_is_submitted(request, nearly, members, who):
    user = members[1].user if who == "other_member" else request.getfixturevalue(who)
    target = sheet(members[0], nearly.bids[0])
    assert target.status == SheetStatus.SUBMITTED
    with pytest.raises(Http404):
        selectors.scoresheet_get_for_user(user, target.pk)


def test_a_missing_sheet_is_the_same_404(nearly, members):
    with pytest.raises(Http404):
        selectors.scoresheet_get_for_user(members[0].user, 999_999)
    with pytest.raises(Http404):
        selectors.scoresheet_get_for_user(members[0].user, "not-a-number")


@pytest.mark.parametrize("who", ["member", "official", "auditor"])
def test_nobody_sees_the_panels_scores_before_every_sheet_is_submitted(
    request, nearly, scoring_panel, members, who
):
    user = members[0].user if who == "member" else request.getfixturevalue(who)
    with pytest.raises(Http404):
        selectors.panel_scores(user, scoring_panel)
    assert not permissions.can_view_panel_scores(user, scoring_panel, revealed=False)


def test_the_office_follows_progress_without_any_score(nearly, scoring_panel, official, members):
    assert permissions.can_view_panel_progress(official, scoring_panel)
    assert not permissions.can_view_panel_progress(members[0].user, scoring_panel)
    progress = selectors.panel_progress(scoring_panel)
    assert [p.seat for p in progress] == [m.seat for m in members]
    assert [p.counts for p in progress[:4]] == [{"submitted": 4}] * 4
    assert progress[4].counts == {"submitted": 3, "draft": 1}
    assert all(p.total == 4 and p.declared and p.open_flags == 0 for p in progress)
    assert not {"score", "scores"} & set(vars(progress[0]))  # counts only, no score


def test_no_ranking_is_shown_before_there_is_one(nearly, official):
    with pytest.raises(Http404):
        selectors.ranking_for_user(official, nearly.tender)


def test_save_and_submit_events_carry_no_score(nearly):
    from marketplace.models import AuditAction

    for event in events(AuditAction.SCORESHEET_SAVED) + events(AuditAction.SCORESHEET_SUBMITTED):
        assert "changes" not in event.details
        assert "score" not in event.details


# --- Once every sheet is submitted -------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_member", "official", "approver", "auditor"])
def test_after_every_sheet_is_submitted_the_panel_and_the_office_read_every_sheet(
    request, nearly, members, who
):
    submit_last(nearly, members)
    user = members[1].user if who == "other_member" else request.getfixturevalue(who)
    target = sheet(members[0], nearly.bids[0])
    assert selectors.scoresheet_get_for_user(user, target.pk) == target
    # The list stays the caller's own sheets (CONTRACTS: "the caller's sheets").
    assert not selectors.scoresheet_list_for_user(user).exclude(member__user=user).exists()


@pytest.mark.parametrize("who", ["outsider", "org_admin", "unrelated_assessor"])
def test_after_every_sheet_is_submitted_outsiders_still_read_nothing(request, nearly, members, who):
    submit_last(nearly, members)
    if who == "unrelated_assessor":
        user = make_user("assessor_elsewhere", Role.ASSESSOR)
    else:
        user = request.getfixturevalue(who)
    with pytest.raises(Http404):
        selectors.scoresheet_get_for_user(user, sheet(members[0], nearly.bids[0]).pk)
    with pytest.raises(Http404):
        selectors.panel_scores(user, members[0].panel)


def test_the_score_matrix_shows_every_member_in_seat_order(nearly, scoring_panel, members):
    submit_last(nearly, members)
    matrix = selectors.panel_scores(members[2].user, scoring_panel)
    assert [seat for seat, _name in matrix.members] == [m.seat for m in members]
    assert [c.code for c in matrix.criteria] == ["plan"]
    by_bid = {b.bid.pk: b for b in matrix.bids}
    a = by_bid[nearly.bids[0].pk]
    assert [s.score for s in a.scores["plan"]] == [Decimal(v) for v in NORMAL[0]]
    assert all(s.reason for s in a.scores["plan"])


def test_scores_stay_visible_while_a_sheet_is_reopened_for_correction(
    nearly, scoring_panel, members
):
    from evaluation.models import CorrectionReason
    from evaluation.services.sheets import scoresheet_reopen

    submit_last(nearly, members)
    scoresheet_reopen(
        sheet=sheet(members[1], nearly.bids[0]),
        actor=scoring_panel.chair,
        reason=CorrectionReason.ARITHMETIC_ERROR,
        explanation="合计有误。",
    )
    assert selectors.scores_revealed(scoring_panel)
    assert selectors.panel_scores(members[3].user, scoring_panel).bids


# --- The ranking -------------------------------------------------------------------------------


@pytest.fixture
def ranked(nearly, members):
    submit_last(nearly, members)
    return nearly


@pytest.mark.parametrize("who", ["member", "official", "auditor"])
def test_the_office_and_the_panel_see_the_ranking_with_each_members_scores(
    request, ranked, members, who
):
    user = members[3].user if who == "member" else request.getfixturevalue(who)
    view = selectors.ranking_for_user(user, ranked.tender)
    assert view.full
    assert [line.position for line in view.rows] == [1, 2, 3, 4]
    first = view.rows[0]
    assert first.price_score is not None
    assert first.criterion_scores is not None
    assert first.member_scores is not None
    assert len(first.member_scores["plan"]) == 5


@pytest.mark.parametrize("who", ["bidder", "outsider", "anonymous", "unrelated_assessor"])
def test_nobody_else_sees_the_ranking_before_the_award(request, ranked, who):
    if who == "bidder":
        user = ranked.bidders[0].admin
    elif who == "unrelated_assessor":
        user = make_user("assessor_elsewhere", Role.ASSESSOR)
    else:
        user = request.getfixturevalue(who)
    with pytest.raises(Http404):
        selectors.ranking_for_user(user, ranked.tender)


def test_after_the_award_the_public_sees_a_summary_and_a_bidder_its_own_row(
    ranked, approver, anonymous
):
    tender = ranked.tender
    first = selectors.ranking_for_user(approver, tender).rows[0]
    tender_services.award_confirm(
        tender=tender, actor=approver, bid=Bid.objects.get(pk=first.bid_id)
    )
    public = selectors.ranking_for_user(anonymous, tender)
    assert not public.full
    assert [line.organization for line in public.rows]
    for line in public.rows:
        assert line.price_score is None
        assert line.criterion_scores is None
        assert line.member_scores is None
        assert not line.own
        assert line.total > 0
        assert line.price > 0
        assert line.rank >= 1
    bidder = ranked.bidders[1]
    mine = selectors.ranking_for_user(bidder.admin, tender)
    own = [line for line in mine.rows if line.own]
    assert len(own) == 1
    assert own[0].bid_id == ranked.bids[1].pk
    assert own[0].criterion_scores == {"plan": Decimal("39.10"), "grade": Decimal("0.00")}
    assert own[0].member_scores is None  # never another member's scores to a bidder
    others = [line for line in mine.rows if not line.own]
    assert all(line.criterion_scores is None for line in others)
