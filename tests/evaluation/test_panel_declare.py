"""Conflict-of-interest declarations: signing before the bids, replacement by a new draw,
scoring once every member has declared.

The module builds once (each test rolls back to it) the pool and the opened tender with its
panel formed, nobody declared. The tests that need a pool of their own make it for a
tender of another category (the shared pool is for elderly care).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from evaluation.models import (
    MemberKind,
    MemberStatus,
    PanelDraw,
    PanelDrawKind,
    PanelMember,
    PanelStatus,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services.panels import panel_declare, shuffled
from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry.models import ServiceCategory
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import (
    active_members,
    declare_all,
    form_panel,
    make_assessor,
    open_tender,
)
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)
from tests.tenders.conftest import publish_tender


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool and the opened tender with its panel formed."""
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
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The shared tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("declaring")


@pytest.fixture
def panel(opened):
    """The shared tender's panel: five members drawn from the pool, nobody declared."""
    return opened.panel


@pytest.fixture
def other_category(db):
    """A category nobody in the pool assesses."""
    return ServiceCategory.objects.get(code="child_youth")


@pytest.fixture
def opened_elsewhere(opened, clock, official, approver, second_official, other_category):
    """An opened tender of ``other_category``: its pool is empty until a test fills it."""
    return open_tender(
        make_tender=partial(
            publish_tender, official=official, approver=approver, category=other_category
        ),
        clock=clock,
        official=official,
        second_official=second_official,
    )


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def declare(member, *, conflict=False, statement="本人与各投标人无利害关系。"):
    return panel_declare(member=member, actor=member.user, conflict=conflict, statement=statement)


# --- No conflict ------------------------------------------------------------------------------


def test_declaring_no_conflict_opens_the_members_sheets(panel):
    member = active_members(panel)[0]

    declared = declare(member)

    assert declared.status == MemberStatus.DECLARED
    assert declared.statement == "本人与各投标人无利害关系。"
    assert declared.declared_at is not None
    assert not declared.conflict
    assert set(ScoreSheet.objects.filter(member=member).values_list("status", flat=True)) == {
        SheetStatus.DECLARED
    }
    others = ScoreSheet.objects.filter(member__panel=panel).exclude(member=member)
    assert set(others.values_list("status", flat=True)) == {SheetStatus.ASSIGNED}
    (event,) = events(AuditAction.PANEL_DECLARED)
    assert event.actor == member.user
    assert event.state_before == MemberStatus.ASSIGNED
    assert event.state_after == MemberStatus.DECLARED
    assert event.details["sheets"] == 4
    panel.refresh_from_db()
    assert panel.status == PanelStatus.DECLARING
    assert not events(AuditAction.PANEL_SCORING_STARTED)


def test_a_statement_is_optional_without_a_conflict(panel):
    member = active_members(panel)[0]
    assert declare(member, statement="").status == MemberStatus.DECLARED


def test_scoring_starts_when_the_last_member_declares(panel):
    members = active_members(panel)
    for member in members[:-1]:
        declare(member)
        panel.refresh_from_db()
        assert panel.status == PanelStatus.DECLARING

    declare(members[-1])

    panel.refresh_from_db()
    assert panel.status == PanelStatus.SCORING
    assert panel.scoring_started_at is not None
    (event,) = events(AuditAction.PANEL_SCORING_STARTED)
    assert event.actor == members[-1].user
    assert event.details["members"] == 5
    assert event.state_after == PanelStatus.SCORING


# --- Conflict and replacement --------------------------------------------------------------


def test_a_declared_conflict_needs_a_statement_and_changes_nothing_without_one(panel):
    member = active_members(panel)[1]
    with pytest.raises(ValidationError) as caught:
        declare(member, conflict=True, statement="  ")
    assert caught.value.message_dict["statement"]
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED
    assert PanelDraw.objects.filter(panel=panel).count() == 1


def test_a_conflict_replaces_the_member_by_a_new_draw_in_the_same_seat(panel, pool):
    member = active_members(panel)[2]
    ever_before = set(PanelMember.objects.filter(panel=panel).values_list("user_id", flat=True))

    result = declare(member, conflict=True, statement="三年前曾在投标机构兼职。")

    result.refresh_from_db()
    assert result.status == MemberStatus.REPLACED
    assert result.conflict
    assert result.statement == "三年前曾在投标机构兼职。"
    replacement = result.replaced_by
    assert replacement is not None
    assert replacement.seat == member.seat
    assert replacement.kind == MemberKind.EXPERT
    assert replacement.status == MemberStatus.ASSIGNED
    assert replacement.user_id not in ever_before
    # The leaving member's sheets are gone; the newcomer has one per qualified bid.
    assert not ScoreSheet.objects.filter(member=member).exists()
    assert ScoreSheet.objects.filter(member=replacement).count() == 4
    assert set(ScoreSheet.objects.filter(member=replacement).values_list("status", flat=True)) == {
        SheetStatus.ASSIGNED
    }
    # A new draw with its own seed, from the pool less everyone who was ever on the panel.
    draw = replacement.draw
    initial = PanelDraw.objects.get(panel=panel, kind=PanelDrawKind.INITIAL)
    assert draw.kind == PanelDrawKind.REPLACEMENT
    assert draw.seed != initial.seed
    assert draw.requested == 1
    assert draw.drawn == [replacement.user_id]
    assert draw.pool_size == len(pool) - 5
    (event,) = events(AuditAction.PANEL_CONFLICT_DECLARED)
    assert event.actor == member.user
    assert event.details["draw"]["seed"] == draw.seed
    assert event.details["replacement"]["user"] == replacement.user_id
    assert event.details["sheets_deleted"] == 4
    remaining = sorted({u.pk for u in pool} - ever_before)
    assert event.details["draw"]["pool"] == remaining
    assert shuffled(remaining, draw.seed)[0] == replacement.user_id


def test_the_replacement_declares_and_scoring_then_starts(panel):
    members = active_members(panel)
    leaving = members[0]
    declare(leaving, conflict=True, statement="配偶为投标机构理事。")
    for member in members[1:]:
        declare(member)
    panel.refresh_from_db()
    assert panel.status == PanelStatus.DECLARING

    leaving.refresh_from_db()
    declare(leaving.replaced_by)

    panel.refresh_from_db()
    assert panel.status == PanelStatus.SCORING
    assert len(active_members(panel)) == 5


def test_a_chair_in_conflict_hands_the_chair_to_the_replacement(panel):
    chair_seat = next(m for m in active_members(panel) if m.user_id == panel.chair_id)
    declare(chair_seat, conflict=True, statement="曾任投标机构顾问。")
    chair_seat.refresh_from_db()
    panel.refresh_from_db()
    assert panel.chair_id == chair_seat.replaced_by.user_id


def test_the_replacement_draw_keeps_the_same_agency_rule(
    opened_elsewhere, official, other_category
):
    opened, category = opened_elsewhere, other_category
    for i in range(5):
        make_assessor(f"seat{i}", agency=f"评估所{i}", categories=[category])
    panel = form_panel(opened.tender, official)
    # The only assessor left shares an agency with a member who stays.
    staying = active_members(panel)[0]
    make_assessor("spare", agency=staying.user.assessor_profile.agency, categories=[category])
    leaving = active_members(panel)[1]

    with pytest.raises(ValidationError) as caught:
        declare(leaving, conflict=True, statement="利害关系。")

    assert "No eligible assessor" in caught.value.message_dict["conflict"][0]
    leaving.refresh_from_db()
    assert leaving.status == MemberStatus.ASSIGNED
    assert ScoreSheet.objects.filter(member=leaving).count() == 4
    assert PanelDraw.objects.filter(panel=panel).count() == 1
    assert not events(AuditAction.PANEL_CONFLICT_DECLARED)


def test_a_spare_from_the_leaving_members_agency_may_replace_them(
    opened_elsewhere, official, other_category
):
    opened, category = opened_elsewhere, other_category
    for i in range(5):
        make_assessor(f"seat{i}", agency=f"评估所{i}", categories=[category])
    panel = form_panel(opened.tender, official)
    leaving = active_members(panel)[1]
    spare = make_assessor(
        "spare", agency=leaving.user.assessor_profile.agency, categories=[category]
    )

    declare(leaving, conflict=True, statement="利害关系。")

    leaving.refresh_from_db()
    assert leaving.replaced_by.user == spare


def test_the_newcomer_is_emailed(panel, mailoutbox, django_capture_on_commit_callbacks):
    member = active_members(panel)[0]
    with django_capture_on_commit_callbacks(execute=True):
        declare(member, conflict=True, statement="利害关系。")
    member.refresh_from_db()
    assert [m.to for m in mailoutbox] == [[member.replaced_by.user.email]]
    assert panel.tender.reference in mailoutbox[0].subject


# --- Refusals ------------------------------------------------------------------------------------


def test_nobody_declares_for_someone_else(panel, official, pool):
    member = active_members(panel)[0]
    other = active_members(panel)[1]
    outsider_assessor = next(
        u for u in pool if u.pk not in {m.user_id for m in panel.members.all()}
    )
    for actor in (other.user, official, outsider_assessor):
        with pytest.raises(PermissionDenied):
            panel_declare(member=member, actor=actor, conflict=False, statement="")
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED


def test_a_member_declares_only_once(panel):
    member = active_members(panel)[0]
    declare(member)
    with pytest.raises(PermissionDenied):
        declare(member)
    with pytest.raises(PermissionDenied):
        declare(member, conflict=True, statement="后来发现有利害关系。")
    assert len(events(AuditAction.PANEL_DECLARED)) == 1


def test_a_replaced_member_cannot_declare_again(panel):
    member = active_members(panel)[0]
    declare(member, conflict=True, statement="利害关系。")
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        declare(member)


def test_declaring_after_scoring_started_is_refused(scoring_panel):
    member = active_members(scoring_panel)[0]
    with pytest.raises(PermissionDenied):
        declare(member)


def test_declare_all_helper_moves_the_panel_to_scoring(panel):
    assert declare_all(panel).status == PanelStatus.SCORING
