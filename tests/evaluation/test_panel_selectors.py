"""Scoped reads of panels: nobody reads bid content before declaring, exclusions are the
office's, a seat or a panel that is not yours is a 404.

The module builds once (each test rolls back to it) the pool and two opened tenders: one
with its panel formed, nobody declared, and one without a panel ("bare").
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.http import Http404

from evaluation import permissions
from evaluation.models import MemberStatus, PanelDraw, SheetStatus
from evaluation.selectors import (
    assessor_profile_for_user,
    assessor_profile_get_for_user,
    member_get_for_user,
    my_assignments,
    objective_scores_for_user,
    panel_bid_content_for_user,
    panel_bid_list_for_user,
    panel_detail,
    panel_get_for_user,
    past_performance_means,
)
from evaluation.services.panels import panel_declare
from marketplace.models import Role
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import active_members, form_panel
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool, the "declaring" tender with its panel formed and
    the "bare" tender without a panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        opened = shared.opened["declaring"] = build_opened(clock)
        shared.panels["declaring"] = form_panel(opened.tender, persona("official", Role.OFFICIAL))
        shared.opened["bare"] = build_opened(clock)
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The "declaring" tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("declaring")


@pytest.fixture
def panel(opened):
    """The shared tender's panel: five members drawn from the pool, nobody declared."""
    return opened.panel


@pytest.fixture
def bare(_built, db, clock) -> Evaluated:
    """The "bare" tender re-read for this test: opened, four qualified bids, no panel."""
    clock.set(_built.built_until)
    return _built.evaluated("bare")


def declare(member, conflict=False):
    return panel_declare(
        member=member, actor=member.user, conflict=conflict, statement="利害关系说明。"
    )


def not_seated(panel, pool):
    seated = {m.user_id for m in panel.members.all()}
    return next(u for u in pool if u.pk not in seated)


# --- Bid content and the declaration ---------------------------------------------------------


def test_an_undeclared_member_reads_no_bid_content(panel, opened):
    member = active_members(panel)[0]
    assert not permissions.can_view_panel_bids(member.user, opened.tender)
    with pytest.raises(Http404):
        panel_bid_list_for_user(member.user, opened.tender)
    with pytest.raises(Http404):
        panel_bid_content_for_user(member.user, opened.bids[0])
    with pytest.raises(Http404):
        objective_scores_for_user(member.user, opened.tender)


def test_a_declared_member_reads_the_bids_and_objective_scores(panel, opened):
    member = declare(active_members(panel)[0])

    bids = list(panel_bid_list_for_user(member.user, opened.tender))
    assert {b.pk for b in bids} == {b.pk for b in opened.bids}
    content = panel_bid_content_for_user(member.user, opened.bids[0])
    assert content.price == opened.bids[0].price
    assert not content.sealed
    scores = list(objective_scores_for_user(member.user, opened.tender))
    assert len(scores) == 4  # one objective criterion × four bids
    assert permissions.can_view_panel_bids(member.user, opened.tender, member)


def test_a_member_who_declared_a_conflict_never_reads_the_bids(panel, opened):
    member = active_members(panel)[0]
    declare(member, conflict=True)
    member.refresh_from_db()
    assert member.status == MemberStatus.REPLACED
    with pytest.raises(Http404):
        panel_bid_list_for_user(member.user, opened.tender)
    with pytest.raises(Http404):
        panel_get_for_user(member.user, opened.tender)


def test_an_assessor_off_the_panel_reads_no_bid_of_it(panel, opened, pool):
    other = not_seated(panel, pool)
    with pytest.raises(Http404):
        panel_bid_list_for_user(other, opened.tender)
    with pytest.raises(Http404):
        panel_bid_content_for_user(other, opened.bids[1])


def test_the_office_and_auditors_read_the_bids_under_evaluation(panel, opened, official, auditor):
    for user in (official, auditor):
        assert panel_bid_list_for_user(user, opened.tender).count() == 4


@pytest.mark.parametrize("persona", ["org_admin", "outsider", "registry_admin"])
def test_others_read_no_panel_bids(panel, opened, persona, request):
    with pytest.raises(Http404):
        panel_bid_list_for_user(request.getfixturevalue(persona), opened.tender)


def test_a_bidder_reads_no_other_bid_through_the_panel(panel, opened):
    with pytest.raises(Http404):
        panel_bid_content_for_user(opened.bidders[0].admin, opened.bids[1])


def test_nothing_is_readable_before_the_opening(make_tender, official):
    tender = make_tender()
    assert not permissions.can_view_panel_bids(official, tender)


# --- The panel and its draws ------------------------------------------------------------------


def test_the_panel_is_seen_by_the_office_auditors_and_its_members(
    panel, opened, official, auditor, pool, org_admin
):
    member = active_members(panel)[0]
    for user in (official, auditor, member.user):
        assert panel_get_for_user(user, opened.tender) == panel
    for user in (not_seated(panel, pool), org_admin, opened.bidders[0].admin):
        with pytest.raises(Http404):
            panel_get_for_user(user, opened.tender)


def test_a_tender_without_a_panel_is_a_404(bare, official):
    with pytest.raises(Http404):
        panel_get_for_user(official, bare.tender)


def test_draws_show_their_seeds_to_all_and_exclusions_to_the_office_only(
    bare, official, auditor, pool
):
    panel = form_panel(bare.tender, official)
    # The draw's record as the conflict tests produce it (here: one same-agency exclusion).
    PanelDraw.objects.filter(panel=panel).update(
        excluded=[{"user": 1, "name": "某", "reason": "same_agency", "detail": "同所"}]
    )
    member = active_members(panel)[0]

    for user in (official, auditor):
        detail = panel_detail(panel, user=user)
        assert detail.exclusions_visible
        assert detail.draws[0].excluded[0]["reason"] == "same_agency"
        assert detail.draws[0].excluded_count == 1
    detail = panel_detail(panel, user=member.user)
    assert not detail.exclusions_visible
    assert detail.draws[0].excluded == []
    assert detail.draws[0].excluded_count == 0
    assert detail.draws[0].seed == panel.draws.get().seed
    assert [m.seat for m in detail.members] == [1, 2, 3, 4, 5]
    assert sum(m.is_chair for m in detail.members) == 1
    assert panel_detail(panel).draws[0].excluded == []


def test_panel_detail_lists_replaced_members_with_their_replacement(panel, official):
    member = active_members(panel)[2]
    declare(member, conflict=True)
    detail = panel_detail(panel, user=official)
    replaced = next(m for m in detail.members if m.id == member.pk)
    assert replaced.status == MemberStatus.REPLACED
    assert replaced.conflict
    assert replaced.replaced_by is not None
    assert len(detail.draws) == 2


# --- Assignments and seats ----------------------------------------------------------------------


def test_my_assignments_counts_my_sheets_by_status(panel, opened):
    member = active_members(panel)[0]
    (assignment,) = my_assignments(member.user)
    assert assignment.tender == opened.tender
    assert assignment.status == MemberStatus.ASSIGNED
    assert assignment.sheets == {SheetStatus.ASSIGNED: 4}
    assert assignment.must_declare
    assert assignment.is_chair == (member.user_id == panel.chair_id)

    declare(member)
    (assignment,) = my_assignments(member.user)
    assert assignment.sheets == {SheetStatus.DECLARED: 4}
    assert not assignment.must_declare


def test_an_assessor_without_seats_has_no_assignments(panel, pool, official):
    assert my_assignments(not_seated(panel, pool)) == []
    assert my_assignments(official) == []


def test_a_seat_is_read_by_its_member_and_the_office(panel, official, auditor, pool):
    member = active_members(panel)[0]
    for user in (member.user, official, auditor):
        assert member_get_for_user(user, member.pk) == member
    for user in (active_members(panel)[1].user, not_seated(panel, pool)):
        with pytest.raises(Http404):
            member_get_for_user(user, member.pk)
    with pytest.raises(Http404):
        member_get_for_user(official, 999_999)
    with pytest.raises(Http404):
        member_get_for_user(official, "x")


# --- Profiles --------------------------------------------------------------------------------


def test_an_assessor_reads_their_own_profile(assessor, official, pool):
    assert assessor_profile_for_user(assessor).user == assessor
    with pytest.raises(Http404):
        assessor_profile_for_user(official)
    profile = assessor.assessor_profile
    assert assessor_profile_get_for_user(official, profile.pk) == profile
    with pytest.raises(Http404):
        assessor_profile_get_for_user(pool[0], profile.pk)


def test_past_performance_has_no_source_yet(db):
    from datetime import date

    assert past_performance_means([1, 2], date(2024, 1, 1)) == {}


# --- The predicates as a table -------------------------------------------------------------------


def test_permission_table_for_a_declaring_panel(panel, official, approver, auditor, org_admin):
    member = active_members(panel)[0]
    tender = panel.tender
    table = {
        official: (True, True, False),
        approver: (True, True, False),
        auditor: (True, True, False),
        member.user: (True, False, True),
        org_admin: (False, False, False),
    }
    for user, (view_panel, exclusions, declare_own) in table.items():
        assert permissions.can_view_panel(user, panel) is view_panel, user
        assert permissions.can_view_exclusions(user) is exclusions, user
        # The tender is evaluating now: nobody forms a second panel.
        assert permissions.can_form_panel(user, tender) is False, user
        assert permissions.can_declare(user, member) is declare_own, user
