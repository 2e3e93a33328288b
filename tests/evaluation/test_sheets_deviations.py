"""Abnormal deviations (畸高畸低, DESIGN 4.4): a score more than 30% of the criterion maximum
from the panel mean is flagged when the last sheet is in; the member confirms it in
writing or revises it; a sheet locks only when its flags are resolved.

The module builds once (each test rolls back to it) the pool and three opened tenders: one
whose panel has declared and scored nothing ("scoring"), one where member 5 scored bid A
20 against the others' 40 and is flagged ("flagged"), and one scored on two subjective
criteria with two flags on one sheet ("two_criteria"). Flags and their events are therefore
counted per panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from evaluation.models import (
    DeviationFlag,
    DeviationStatus,
    PanelStatus,
    Ranking,
    RankingRow,
    Score,
    SheetStatus,
)
from evaluation.services.sheets import (
    deviation_confirm,
    deviation_revise,
    scoresheet_save,
    scoresheet_submit,
)
from marketplace.models import AuditAction, AuditEvent, Role
from tests.conftest import building, module_database, persona
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
    CRITERIA4,
    NORMAL,
    active_members,
    events,
    score_everything,
    sheet,
    with_bid_a,
)

REASON = "该机构方案缺少应急预案，按评分细则只能给低分。"
# Bid A's plan scores on the "flagged" tender: member 5 is 16 below the mean of 36.
FLAGGED_A = ["40", "40", "40", "40", "20"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def flagged_panel(opened, panel, bid_a_scores):
    """Everyone scores; bid A gets ``bid_a_scores`` (member 5 is the odd one out)."""
    for member in active_members(panel):
        member.user.language = "en"
        member.user.save(update_fields=["language"])
    score_everything(panel, opened.bids, with_bid_a(bid_a_scores))
    return active_members(panel)


def score_two_criteria(opened, panel) -> list:
    """Plan 40 / team 10: member 5 scores bid A 20 on plan (mean 32.8, −12.8 > 12) and 0 on
    team (mean 6.4, −6.4 > 3) where the others give 36 and 8: two flags on one sheet."""
    members = active_members(panel)
    for b, bid in enumerate(opened.bids):
        for m, member in enumerate(members):
            odd = b == 0 and m == 4
            target = scoresheet_save(
                sheet=sheet(member, bid),
                actor=member.user,
                scores=[
                    {"criterion": "plan", "score": "20" if odd else "36", "reason": REASON},
                    {"criterion": "team", "score": "0" if odd else "8", "reason": REASON},
                ],
            )
            scoresheet_submit(sheet=target, actor=member.user)
    return members


def flags(panel):
    """The panel's deviation flags (the module's other shared panels have theirs)."""
    return DeviationFlag.objects.filter(sheet__member__panel=panel)


def flag_events(panel) -> list[AuditEvent]:
    """The panel's "deviation flagged" events."""
    return [e for e in events(AuditAction.DEVIATION_FLAGGED) if e.object_id == str(panel.pk)]


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool and the "scoring", "flagged" and "two_criteria"
    tenders, each with its declared panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        shared = Shared(pool=build_pool())
        for name, overrides in [
            ("scoring", {}),
            ("flagged", {}),
            ("two_criteria", {"criteria": CRITERIA4}),
        ]:
            opened = shared.opened[name] = build_opened(clock, **overrides)
            shared.panels[name] = declare_all(form_panel(opened.tender, official))
        flagged_panel(shared.opened["flagged"], shared.panels["flagged"], FLAGGED_A)
        score_two_criteria(shared.opened["two_criteria"], shared.panels["two_criteria"])
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


def _evaluated(built: Shared, name: str, clock) -> Evaluated:
    clock.set(built.built_until)
    return built.evaluated(name)


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The "scoring" tender re-read for this test: its panel declared, nothing scored."""
    return _evaluated(_built, "scoring", clock)


@pytest.fixture
def scoring_panel(opened):
    return opened.panel


# --- The threshold -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bid_a",
    [
        # Low: mean (160 + 21.25) / 5 = 36.25, deviation −15 = exactly 30% of 50.
        ["40", "40", "40", "40", "21.25"],
        # High: mean (80 + 38.75) / 5 = 23.75, deviation +15.
        ["20", "20", "20", "20", "38.75"],
    ],
    ids=["low", "high"],
)
def test_a_deviation_of_exactly_30_percent_is_not_flagged(opened, scoring_panel, bid_a):
    flagged_panel(opened, scoring_panel, bid_a)
    assert not flags(scoring_panel).exists()
    assert not flag_events(scoring_panel)
    assert set(scoring_panel.members.values_list("sheets__status", flat=True)) == {
        SheetStatus.LOCKED
    }
    assert Ranking.objects.filter(tender=opened.tender).exists()


@pytest.mark.parametrize(
    ("bid_a", "score", "mean", "deviation"),
    [
        # mean 181.24 / 5 = 36.248; 21.24 − 36.248 = −15.008
        (["40", "40", "40", "40", "21.24"], "21.24", "36.2480", "-15.0080"),
        # mean 118.76 / 5 = 23.752; 38.76 − 23.752 = +15.008
        (["20", "20", "20", "20", "38.76"], "38.76", "23.7520", "15.0080"),
    ],
    ids=["low", "high"],
)
def test_a_deviation_beyond_30_percent_is_flagged_and_holds_the_sheet(
    opened, scoring_panel, bid_a, score, mean, deviation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        members = flagged_panel(opened, scoring_panel, bid_a)
    flag = flags(scoring_panel).get()
    odd = sheet(members[4], opened.bids[0])
    assert flag.sheet == odd
    assert flag.criterion.code == "plan"
    assert flag.status == DeviationStatus.OPEN
    assert flag.score == Decimal(score)
    assert flag.panel_mean == Decimal(mean)
    assert flag.deviation == Decimal(deviation)
    assert flag.threshold == Decimal("15.0000")
    # The flagged sheet waits; every other sheet locked; no ranking yet.
    odd.refresh_from_db()
    assert odd.status == SheetStatus.SUBMITTED
    locked = scoring_panel.members.filter(sheets__status=SheetStatus.LOCKED).count()
    assert locked == 19
    assert not Ranking.objects.exists()
    scoring_panel.refresh_from_db()
    assert scoring_panel.status == PanelStatus.SCORING
    (event,) = flag_events(scoring_panel)
    assert [f["flag"] for f in event.details["flags"]] == [flag.pk]
    assert event.details["flags"][0]["seat"] == members[4].seat
    # The member is told; the others are not.
    told = [m for m in mail.outbox if "Abnormal scores" in m.subject]
    assert [m.to for m in told] == [[members[4].user.email]]
    assert score in told[0].body


def test_the_panel_check_runs_once_over_every_bid_and_criterion(two_criteria_flagged):
    _opened, panel, members = two_criteria_flagged
    raised = list(flags(panel).order_by("criterion__sort_order"))
    assert [(f.sheet.member_id, f.criterion.code) for f in raised] == [
        (members[4].pk, "plan"),
        (members[4].pk, "team"),
    ]
    assert len(flag_events(panel)) == 1


# --- Confirming ----------------------------------------------------------------------------------


@pytest.fixture
def flagged(_built, db, clock):
    """The "flagged" tender re-read for this test: everyone scored, bid A got ``FLAGGED_A``
    (member 5's 20 is flagged, the sheet waits)."""
    opened = _evaluated(_built, "flagged", clock)
    return opened, opened.panel, opened.members, flags(opened.panel).get()


def test_the_member_confirms_with_a_written_reason_and_the_sheet_locks(flagged):
    opened, _panel, members, flag = flagged
    confirmed = deviation_confirm(flag=flag, actor=members[4].user, note=REASON)
    assert confirmed.status == DeviationStatus.CONFIRMED
    assert confirmed.note == REASON
    assert confirmed.resolved_at is not None
    odd = sheet(members[4], opened.bids[0])
    assert odd.status == SheetStatus.LOCKED
    (event,) = events(AuditAction.DEVIATION_CONFIRMED)
    assert (event.actor, event.object_id) == (members[4].user, str(flag.pk))
    assert event.details["note"] == REASON
    # The score stands: A's plan mean is (160 + 20) / 5 = 36.
    ranking = Ranking.objects.get(tender=opened.tender)
    assert RankingRow.objects.get(ranking=ranking, bid=opened.bids[0]).criterion_scores["plan"] == (
        "36.00"
    )


def test_a_confirmation_needs_a_reason(flagged):
    _opened, _panel, members, flag = flagged
    with pytest.raises(ValidationError) as caught:
        deviation_confirm(flag=flag, actor=members[4].user, note="   ")
    assert "note" in caught.value.message_dict
    flag.refresh_from_db()
    assert flag.status == DeviationStatus.OPEN


def test_a_resolved_flag_cannot_be_confirmed_or_revised_again(flagged):
    _opened, _panel, members, flag = flagged
    deviation_confirm(flag=flag, actor=members[4].user, note=REASON)
    with pytest.raises(ValidationError):
        deviation_confirm(flag=flag, actor=members[4].user, note=REASON)
    with pytest.raises(ValidationError):
        deviation_revise(flag=flag, actor=members[4].user, score="30", reason=REASON)


@pytest.mark.parametrize("persona", ["official", "auditor", "assessor", "org_admin"])
def test_only_the_flagged_member_confirms_or_revises(request, flagged, persona):
    _opened, _panel, _members, flag = flagged
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        deviation_confirm(flag=flag, actor=user, note=REASON)
    with pytest.raises(PermissionDenied):
        deviation_revise(flag=flag, actor=user, score="36", reason=REASON)


def test_another_member_of_the_panel_cannot_answer_for_the_flagged_one(flagged):
    _opened, _panel, members, flag = flagged
    with pytest.raises(PermissionDenied):
        deviation_confirm(flag=flag, actor=members[0].user, note=REASON)
    flag.refresh_from_db()
    assert flag.status == DeviationStatus.OPEN


def test_a_flagged_sheet_cannot_be_edited_in_the_ordinary_way(flagged):
    opened, _panel, members, _flag = flagged
    with pytest.raises(ValidationError):
        scoresheet_save(
            sheet=sheet(members[4], opened.bids[0]),
            actor=members[4].user,
            scores=[{"criterion": "plan", "score": "36", "reason": REASON}],
        )


# --- Revising ------------------------------------------------------------------------------------


def test_a_revision_within_the_threshold_resolves_the_flag_and_locks(flagged):
    opened, _panel, members, flag = flagged
    revised = deviation_revise(flag=flag, actor=members[4].user, score="36", reason="复核后调整。")
    assert revised.pk == flag.pk
    assert revised.status == DeviationStatus.REVISED
    assert revised.revised_score == Decimal("36")
    odd = sheet(members[4], opened.bids[0])
    assert Score.objects.get(sheet=odd).score == Decimal("36")
    assert Score.objects.get(sheet=odd).reason == "复核后调整。"
    assert odd.status == SheetStatus.LOCKED
    (event,) = events(AuditAction.DEVIATION_REVISED)
    assert (event.details["before"], event.details["after"]) == ("20.00", "36.00")
    assert event.details["flagged_again"] is None
    # The ranking uses the revised score: (160 + 36) / 5 = 39.2.
    ranking = Ranking.objects.get(tender=opened.tender)
    row = RankingRow.objects.get(ranking=ranking, bid=opened.bids[0])
    assert row.criterion_scores["plan"] == "39.20"


def test_a_revision_still_beyond_the_threshold_is_flagged_again(flagged):
    """Revised to 20.5: mean (160 + 20.5) / 5 = 36.1, deviation −15.6 > 15."""
    opened, _panel, members, flag = flagged
    again = deviation_revise(flag=flag, actor=members[4].user, score="20.5", reason=REASON)
    assert again.pk != flag.pk
    assert again.status == DeviationStatus.OPEN
    assert (again.score, again.panel_mean, again.deviation) == (
        Decimal("20.50"),
        Decimal("36.1000"),
        Decimal("-15.6000"),
    )
    flag.refresh_from_db()
    assert (flag.status, flag.revised_score) == (DeviationStatus.REVISED, Decimal("20.50"))
    odd = sheet(members[4], opened.bids[0])
    assert odd.status == SheetStatus.SUBMITTED
    assert not Ranking.objects.exists()
    (event,) = events(AuditAction.DEVIATION_REVISED)
    assert event.details["flagged_again"]["flag"] == again.pk

    deviation_confirm(flag=again, actor=members[4].user, note=REASON)
    odd.refresh_from_db()
    assert odd.status == SheetStatus.LOCKED
    assert Ranking.objects.filter(tender=opened.tender).exists()


@pytest.mark.parametrize(
    ("score", "reason", "field"),
    [
        ("51", REASON, "score"),
        ("-3", REASON, "score"),
        ("30.001", REASON, "score"),
        ("30", "", "reason"),
    ],
)
def test_a_bad_revision_changes_nothing(flagged, score, reason, field):
    opened, _panel, members, flag = flagged
    with pytest.raises(ValidationError) as caught:
        deviation_revise(flag=flag, actor=members[4].user, score=score, reason=reason)
    assert field in caught.value.message_dict
    flag.refresh_from_db()
    assert flag.status == DeviationStatus.OPEN
    assert Score.objects.get(sheet=sheet(members[4], opened.bids[0])).score == Decimal("20")


# --- Two flags on one sheet ----------------------------------------------------------------------


@pytest.fixture
def two_criteria_flagged(_built, db, clock):
    """The "two_criteria" tender re-read for this test (``score_two_criteria``)."""
    opened = _evaluated(_built, "two_criteria", clock)
    return opened, opened.panel, opened.members


def test_a_sheet_locks_only_when_every_flag_on_it_is_resolved(two_criteria_flagged):
    opened, panel, members = two_criteria_flagged
    plan_flag, team_flag = flags(panel).order_by("criterion__sort_order")
    deviation_confirm(flag=plan_flag, actor=members[4].user, note=REASON)
    odd = sheet(members[4], opened.bids[0])
    assert odd.status == SheetStatus.SUBMITTED
    assert not Ranking.objects.exists()
    deviation_revise(
        flag=team_flag, actor=members[4].user, score="7", reason="补充团队资质后调整。"
    )
    odd.refresh_from_db()
    assert odd.status == SheetStatus.LOCKED
    assert odd.locked_at is not None
    assert Ranking.objects.filter(tender=opened.tender).exists()


def test_the_flags_are_stored_with_their_numbers(two_criteria_flagged):
    _opened, panel, _members = two_criteria_flagged
    plan_flag, team_flag = flags(panel).order_by("criterion__sort_order")
    # plan: mean (4 × 36 + 20) / 5 = 32.8, deviation −12.8, threshold 30% of 40 = 12
    assert (plan_flag.panel_mean, plan_flag.deviation, plan_flag.threshold) == (
        Decimal("32.8000"),
        Decimal("-12.8000"),
        Decimal("12.0000"),
    )
    # team: mean (4 × 8 + 0) / 5 = 6.4, deviation −6.4, threshold 30% of 10 = 3
    assert (team_flag.panel_mean, team_flag.deviation, team_flag.threshold) == (
        Decimal("6.4000"),
        Decimal("-6.4000"),
        Decimal("3.0000"),
    )


def test_normal_scores_raise_no_flag(opened, scoring_panel):
    score_everything(scoring_panel, opened.bids, NORMAL)
    assert not flags(scoring_panel).exists()
