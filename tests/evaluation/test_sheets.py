"""Score sheets: saving a draft with reasons, validation that names the criterion and saves
nothing, submitting, and who may do it.

The module builds once (each test rolls back to it) the pool and an opened tender whose
panel has declared: scoring started, nothing scored. Tests that need another tender (two
subjective criteria, a panel still declaring) build their own on the shared pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from evaluation.models import Score, ScoreSheet, SheetStatus
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.models import AuditAction, Role
from tenders.models import TenderCriterion
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
from tests.evaluation.test_sheets_support import CRITERIA4, active_members, events, fill, sheet

REASON = "服务流程清晰，人员安排合理。"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool and the opened tender whose panel has declared."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        shared = Shared(pool=build_pool())
        opened = shared.opened["scoring"] = build_opened(clock)
        shared.panels["scoring"] = declare_all(form_panel(opened.tender, official))
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The shared tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("scoring")


@pytest.fixture
def scoring_panel(opened):
    return opened.panel


@pytest.fixture
def declaring(make_tender, clock, official, second_official, pool):
    """Another opened tender and its panel, nobody declared (the shared one has declared)."""
    other = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    return other, form_panel(other.tender, official)


@pytest.fixture
def member(scoring_panel):
    return active_members(scoring_panel)[1]


@pytest.fixture
def own_sheet(opened, member):
    return sheet(member, opened.bids[0])


@pytest.fixture
def two_criteria(make_tender, clock, official, second_official, pool):
    """A tender scored on two subjective criteria (plan 40, team 10), its panel declared."""
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        criteria=CRITERIA4,
    )
    panel = declare_all(form_panel(opened.tender, official))
    return opened, panel


def problems(caught) -> list[str]:
    return caught.value.message_dict["scores"]


# --- Saving --------------------------------------------------------------------------------------


def test_a_member_saves_a_score_with_a_reason_as_a_draft(own_sheet, member):
    saved = scoresheet_save(
        sheet=own_sheet,
        actor=member.user,
        scores=[{"criterion": "plan", "score": "41.5", "reason": REASON}],
    )
    assert saved.status == SheetStatus.DRAFT
    score = Score.objects.get(sheet=own_sheet)
    assert (score.criterion.code, score.score, score.reason) == ("plan", Decimal("41.50"), REASON)
    (event,) = events(AuditAction.SCORESHEET_SAVED)
    assert event.actor == member.user
    assert event.object_id == str(own_sheet.pk)
    assert (event.state_before, event.state_after) == ("declared", "draft")
    assert event.details["criteria"] == ["plan"]
    assert event.details["seat"] == member.seat
    # Independence: the event carries no score (auditors read the log before the reveal).
    assert "changes" not in event.details
    assert "41.5" not in str(event.details)


def test_saving_again_changes_the_draft(own_sheet, member):
    fill(own_sheet, member, "30")
    fill(own_sheet, member, "35.25", reason="复核后提高。")
    score = Score.objects.get(sheet=own_sheet)
    assert (score.score, score.reason) == (Decimal("35.25"), "复核后提高。")
    assert len(events(AuditAction.SCORESHEET_SAVED)) == 2


def test_a_criterion_may_be_named_by_its_id(opened, own_sheet, member):
    plan = TenderCriterion.objects.get(tender=opened.tender, code="plan")
    scoresheet_save(
        sheet=own_sheet,
        actor=member.user,
        scores=[{"criterion": plan.pk, "score": 20, "reason": REASON}],
    )
    assert Score.objects.get(sheet=own_sheet).score == Decimal("20")


RANGE = "plan: the score must be between 0 and 50"
NUMBER = "plan: the score must be a number"
NO_REASON = "plan: give a short reason for the score"
SYSTEM = "this criterion is scored by the system, not by the panel"
MISSING = object()
BAD_ITEMS = [
    ("plan", "51", REASON, RANGE),
    ("plan", "-1", REASON, RANGE),
    ("plan", "40.125", REASON, "plan: the score has at most 2 decimal places"),
    ("plan", "很好", REASON, NUMBER),
    ("plan", "NaN", REASON, NUMBER),
    ("plan", None, REASON, NUMBER),
    ("plan", "40", "  ", NO_REASON),
    ("plan", "40", MISSING, NO_REASON),
    ("plan", "40", "长" * 501, "plan: the reason is longer than 500 characters"),
    ("staff", "5", REASON, "staff: not a criterion of this tender"),
    ("grade", "16", REASON, f"grade: {SYSTEM}"),
    ("price", "30", REASON, f"price: {SYSTEM}"),
    (MISSING, "30", REASON, "item 1: the criterion is missing"),
]


@pytest.mark.parametrize(("criterion", "score", "reason", "message"), BAD_ITEMS)
def test_a_bad_score_is_refused_naming_the_criterion(
    own_sheet, member, criterion, score, reason, message
):
    item = {"criterion": criterion, "score": score, "reason": reason}
    item = {key: value for key, value in item.items() if value is not MISSING}
    with pytest.raises(ValidationError) as caught:
        scoresheet_save(sheet=own_sheet, actor=member.user, scores=[item])
    assert problems(caught) == [message]
    own_sheet.refresh_from_db()
    assert own_sheet.status == SheetStatus.DECLARED
    assert not Score.objects.filter(sheet=own_sheet).exists()
    assert not events(AuditAction.SCORESHEET_SAVED)


def test_one_bad_item_saves_nothing_and_every_problem_is_named(two_criteria):
    opened, panel = two_criteria
    member = active_members(panel)[0]
    target = sheet(member, opened.bids[0])
    fill(target, member, "30")
    with pytest.raises(ValidationError) as caught:
        scoresheet_save(
            sheet=target,
            actor=member.user,
            scores=[
                {"criterion": "plan", "score": "35", "reason": REASON},
                {"criterion": "team", "score": "11", "reason": ""},
                {"criterion": "plan", "score": "36", "reason": REASON},
            ],
        )
    assert problems(caught) == [
        "team: the score must be between 0 and 10",
        "team: give a short reason for the score",
        "plan: the criterion is scored twice",
    ]
    # The valid plan item was not saved either: the sheet is as it was.
    assert [(s.criterion.code, s.score) for s in target.scores.all()] == [("plan", Decimal("30"))]


def test_a_draft_may_be_partial_but_a_submission_needs_every_criterion(two_criteria):
    opened, panel = two_criteria
    member = active_members(panel)[0]
    target = sheet(member, opened.bids[0])
    fill(target, member, "30")
    with pytest.raises(ValidationError) as caught:
        scoresheet_submit(sheet=target, actor=member.user)
    assert problems(caught) == ["team: the score is missing"]
    target.refresh_from_db()
    assert target.status == SheetStatus.DRAFT
    scoresheet_save(
        sheet=target,
        actor=member.user,
        scores=[{"criterion": "team", "score": "8", "reason": REASON}],
    )
    submitted = scoresheet_submit(sheet=target, actor=member.user)
    assert submitted.status == SheetStatus.SUBMITTED


# --- Submitting ----------------------------------------------------------------------------------


def test_a_member_submits_a_complete_sheet(own_sheet, member):
    fill(own_sheet, member, "40")
    submitted = scoresheet_submit(sheet=own_sheet, actor=member.user)
    assert submitted.status == SheetStatus.SUBMITTED
    assert submitted.submitted_at is not None
    (event,) = events(AuditAction.SCORESHEET_SUBMITTED)
    assert (event.actor, event.object_id) == (member.user, str(own_sheet.pk))
    assert (event.state_before, event.state_after) == ("draft", "submitted")
    # Not the last sheet: nothing is checked or locked yet.
    assert not events(AuditAction.SCORESHEET_LOCKED)
    assert not events(AuditAction.DEVIATION_FLAGGED)


def test_an_empty_sheet_cannot_be_submitted(own_sheet, member):
    with pytest.raises(ValidationError):
        scoresheet_submit(sheet=own_sheet, actor=member.user)
    own_sheet.refresh_from_db()
    assert own_sheet.status == SheetStatus.DECLARED


def test_a_submitted_sheet_cannot_be_saved_or_submitted_again(own_sheet, member):
    fill(own_sheet, member, "40")
    scoresheet_submit(sheet=own_sheet, actor=member.user)
    with pytest.raises(ValidationError):
        fill(own_sheet, member, "10")
    with pytest.raises(ValidationError):
        scoresheet_submit(sheet=own_sheet, actor=member.user)
    assert Score.objects.get(sheet=own_sheet).score == Decimal("40")
    assert len(events(AuditAction.SCORESHEET_SUBMITTED)) == 1


# --- Who may score -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["official", "approver", "auditor", "assessor", "org_admin", "outsider"]
)
def test_nobody_but_the_member_saves_or_submits_a_sheet(request, own_sheet, member, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        scoresheet_save(
            sheet=own_sheet,
            actor=user,
            scores=[{"criterion": "plan", "score": "40", "reason": REASON}],
        )
    fill(own_sheet, member, "40")
    with pytest.raises(PermissionDenied):
        scoresheet_submit(sheet=own_sheet, actor=user)
    own_sheet.refresh_from_db()
    assert own_sheet.status == SheetStatus.DRAFT


def test_another_member_of_the_panel_cannot_touch_my_sheet(scoring_panel, own_sheet, member):
    other = active_members(scoring_panel)[2]
    with pytest.raises(PermissionDenied):
        fill(own_sheet, other, "40")
    fill(own_sheet, member, "40")
    with pytest.raises(PermissionDenied):
        scoresheet_submit(sheet=own_sheet, actor=other.user)


def test_a_member_scores_nothing_before_signing_the_declaration(declaring):
    opened, panel = declaring
    member = active_members(panel)[0]
    target = sheet(member, opened.bids[0])
    assert target.status == SheetStatus.ASSIGNED
    with pytest.raises(PermissionDenied):
        fill(target, member, "40")
    assert not Score.objects.exists()


def test_an_inactive_member_cannot_score(own_sheet, member):
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        fill(own_sheet, member, "40")


def test_every_member_has_one_sheet_per_qualified_bid(opened, scoring_panel):
    members = active_members(scoring_panel)
    assert ScoreSheet.objects.count() == len(members) * len(opened.bids) == 20
    assert set(ScoreSheet.objects.values_list("status", flat=True)) == {SheetStatus.DECLARED}
