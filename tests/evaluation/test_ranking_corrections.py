"""Corrections of a frozen ranking (DESIGN 4.4): only for arithmetic error, a score out of
range, inconsistent objective scores or an abnormally high/low score; by the chair only,
before the award; each recorded with the totals before and after.

The module builds once (each test rolls back to it) the pool and two opened tenders with
declared panels: one ranked from ``NORMAL`` and ``GRADES`` ("ranked"), and one that scored
nothing ("scoring"), whose sheets are therefore counted per panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from evaluation.models import (
    CorrectionReason,
    DeviationFlag,
    DeviationStatus,
    ObjectiveScore,
    PanelStatus,
    Ranking,
    RankingCorrection,
    RankingRow,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services.sheets import (
    deviation_confirm,
    objective_score_correct,
    ranking_try_compute,
    scoresheet_reopen,
    scoresheet_save,
    scoresheet_submit,
)
from marketplace.models import AuditAction, Role
from tenders import services as tender_services
from tenders.models import BidStatus
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
    NORMAL,
    events,
    fill,
    score_everything,
    set_objective,
    sheet,
    with_bid_a,
)

GRADES = ["16", "12", "20", "12"]
# The totals of NORMAL with GRADES (hand-computed in test_ranking.py).
BEFORE = ["85.48", "79.77", "85.30", "84.50"]
EXPLANATION = "第1位评委对A的服务方案评分时漏计一项得分，合计应为46分。"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool, the "ranked" tender (grades ``GRADES``, every
    sheet ``NORMAL``, the members reading English) and the "scoring" one."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        shared = Shared(pool=build_pool())
        for name in ("ranked", "scoring"):
            opened = shared.opened[name] = build_opened(clock)
            shared.panels[name] = declare_all(form_panel(opened.tender, official))
        ranked = shared.opened["ranked"]
        for bid, grade in zip(ranked.bids, GRADES, strict=True):
            set_objective(bid, "grade", grade)
        members = score_everything(shared.panels["ranked"], ranked.bids, NORMAL)
        for member in members:
            member.user.language = "en"
            member.user.save(update_fields=["language"])
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
def ranked(_built, db, clock):
    """The "ranked" tender re-read for this test, its panel and active members."""
    clock.set(_built.built_until)
    opened = _built.evaluated("ranked")
    return opened, opened.panel, opened.members


def totals(ranking: Ranking) -> dict[str, str]:
    return {
        str(row.bid_id): str(row.total)
        for row in RankingRow.objects.filter(ranking=ranking).order_by("position")
    }


def test_the_chair_reopens_a_sheet_and_the_ranking_is_unfrozen(
    ranked, django_capture_on_commit_callbacks
):
    opened, panel, members = ranked
    chair = panel.chair
    assert chair == members[0].user
    target = sheet(members[0], opened.bids[0])
    with django_capture_on_commit_callbacks(execute=True):
        correction = scoresheet_reopen(
            sheet=target,
            actor=chair,
            reason=CorrectionReason.ARITHMETIC_ERROR,
            explanation=EXPLANATION,
        )
    ranking = Ranking.objects.get(tender=opened.tender)
    assert correction.ranking == ranking
    assert correction.reason == CorrectionReason.ARITHMETIC_ERROR
    assert correction.explanation == EXPLANATION
    assert correction.sheet == target
    assert correction.requested_by == chair
    assert correction.before == {str(b.pk): t for b, t in zip(opened.bids, BEFORE, strict=True)}
    assert correction.after == {}
    assert correction.applied_at is None
    target.refresh_from_db()
    assert target.status == SheetStatus.REOPENED
    panel.refresh_from_db()
    assert panel.status == PanelStatus.SCORING
    assert {b.status for b in opened.tender.bids.all()} == {BidStatus.QUALIFIED}
    (event,) = events(AuditAction.SCORESHEET_REOPENED)
    assert (event.actor, event.object_id) == (chair, str(target.pk))
    assert event.details["reason"] == "arithmetic_error"
    assert event.details["explanation"] == EXPLANATION
    assert sorted(event.details["bids_unranked"]) == sorted(str(b.pk) for b in opened.bids)
    told = [m for m in mail.outbox if "reopened for correction" in m.subject]
    assert [m.to for m in told] == [[members[0].user.email]]
    # The frozen rows stay until the correction is applied; nothing recomputes meanwhile.
    assert RankingRow.objects.filter(ranking=ranking).count() == 4
    assert ranking_try_compute(panel=panel, actor=chair) is None


def test_the_corrected_sheet_locks_on_submission_and_the_ranking_gets_a_new_version(ranked):
    """A, member 1: 41 → 46. Plan mean (213 + 5) / 5 = 43.6;
    total 26.875 + 43.6 + 16 = 86.475 → 86.48 (was 85.48)."""
    opened, panel, members = ranked
    a = opened.bids[0]
    target = sheet(members[0], a)
    correction = scoresheet_reopen(
        sheet=target,
        actor=panel.chair,
        reason=CorrectionReason.ARITHMETIC_ERROR,
        explanation=EXPLANATION,
    )
    fill(target, members[0], "46", reason="漏计的一项已补上。")
    (saved,) = [e for e in events(AuditAction.SCORESHEET_SAVED) if e.details.get("correction")]
    assert saved.details["correction"] == correction.pk
    assert saved.details["changes"] == {"plan": {"before": "41.00", "after": "46.00"}}
    scoresheet_submit(sheet=target, actor=members[0].user)

    target.refresh_from_db()
    assert target.status == SheetStatus.LOCKED
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.version == 2
    expected = dict(zip((str(b.pk) for b in opened.bids), BEFORE, strict=True))
    expected[str(a.pk)] = "86.48"
    assert totals(ranking) == expected
    correction.refresh_from_db()
    assert correction.after == expected
    assert correction.applied_at is not None
    panel.refresh_from_db()
    assert panel.status == PanelStatus.RANKED
    assert {b.status for b in opened.tender.bids.all()} == {BidStatus.RANKED}
    (event,) = events(AuditAction.RANKING_CORRECTED)
    assert event.details["version"] == 2
    assert event.details["corrections"] == [
        {
            "correction": correction.pk,
            "reason": "arithmetic_error",
            "sheet": target.pk,
            "before": correction.before,
            "after": expected,
        }
    ]
    assert len(events(AuditAction.RANKING_COMPUTED)) == 1


def test_a_corrected_score_goes_through_no_new_deviation_check(ranked):
    """Correcting A's member 1 to 10 (mean 36.4, deviation −26.4): the chair's correction is
    the answer to the abnormal score; no flag is raised again."""
    opened, panel, members = ranked
    target = sheet(members[0], opened.bids[0])
    scoresheet_reopen(
        sheet=target,
        actor=panel.chair,
        reason=CorrectionReason.ABNORMAL_SCORE,
        explanation="评委确认原分数录入时多按一位。",
    )
    fill(target, members[0], "10")
    scoresheet_submit(sheet=target, actor=members[0].user)
    assert not DeviationFlag.objects.exists()
    assert Ranking.objects.get(tender=opened.tender).version == 2


def test_two_sheets_reopened_are_applied_by_one_recomputation(ranked):
    opened, panel, members = ranked
    first = sheet(members[0], opened.bids[0])
    second = sheet(members[1], opened.bids[1])
    for target in (first, second):
        scoresheet_reopen(
            sheet=target,
            actor=panel.chair,
            reason=CorrectionReason.OUT_OF_RANGE,
            explanation="按评分细则本项得分不得高于40分。",
        )
    fill(first, members[0], "40")
    scoresheet_submit(sheet=first, actor=members[0].user)
    assert Ranking.objects.get(tender=opened.tender).version == 1  # the second is still open
    fill(second, members[1], "39")
    scoresheet_submit(sheet=second, actor=members[1].user)
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.version == 2
    assert set(RankingCorrection.objects.values_list("applied_at", flat=True)) != {None}
    assert not RankingCorrection.objects.filter(applied_at__isnull=True).exists()
    assert len(events(AuditAction.RANKING_CORRECTED)) == 1


@pytest.mark.parametrize("reason", ["typo", "bidder_complained", ""])
def test_a_correction_needs_one_of_the_four_reasons(ranked, reason):
    opened, panel, members = ranked
    target = sheet(members[0], opened.bids[0])
    with pytest.raises(ValidationError) as caught:
        scoresheet_reopen(sheet=target, actor=panel.chair, reason=reason, explanation=EXPLANATION)
    assert "reason" in caught.value.message_dict
    target.refresh_from_db()
    assert target.status == SheetStatus.LOCKED
    assert not RankingCorrection.objects.exists()


def test_a_correction_needs_an_explanation(ranked):
    opened, panel, members = ranked
    with pytest.raises(ValidationError) as caught:
        scoresheet_reopen(
            sheet=sheet(members[0], opened.bids[0]),
            actor=panel.chair,
            reason=CorrectionReason.ARITHMETIC_ERROR,
            explanation="  ",
        )
    assert "explanation" in caught.value.message_dict


def test_an_objective_score_is_not_corrected_through_a_sheet(ranked):
    opened, panel, members = ranked
    with pytest.raises(ValidationError):
        scoresheet_reopen(
            sheet=sheet(members[0], opened.bids[0]),
            actor=panel.chair,
            reason=CorrectionReason.INCONSISTENT_OBJECTIVE,
            explanation=EXPLANATION,
        )


@pytest.mark.parametrize("persona", ["official", "approver", "auditor", "assessor", "org_admin"])
def test_only_the_chair_reopens_a_sheet(request, ranked, persona):
    opened, _panel, members = ranked
    with pytest.raises(PermissionDenied):
        scoresheet_reopen(
            sheet=sheet(members[0], opened.bids[0]),
            actor=request.getfixturevalue(persona),
            reason=CorrectionReason.ARITHMETIC_ERROR,
            explanation=EXPLANATION,
        )
    assert not RankingCorrection.objects.exists()


def test_a_member_who_is_not_the_chair_cannot_reopen_even_their_own_sheet(ranked):
    opened, _panel, members = ranked
    with pytest.raises(PermissionDenied):
        scoresheet_reopen(
            sheet=sheet(members[2], opened.bids[0]),
            actor=members[2].user,
            reason=CorrectionReason.ARITHMETIC_ERROR,
            explanation=EXPLANATION,
        )


def test_nothing_is_reopened_before_the_ranking(opened, scoring_panel):
    members = score_everything(scoring_panel, opened.bids, NORMAL, skip=[(3, 4)])
    with pytest.raises(ValidationError):
        scoresheet_reopen(
            sheet=sheet(members[0], opened.bids[0]),
            actor=scoring_panel.chair,
            reason=CorrectionReason.ARITHMETIC_ERROR,
            explanation=EXPLANATION,
        )


def test_a_reopened_sheet_cannot_be_reopened_twice(ranked):
    opened, panel, members = ranked
    target = sheet(members[0], opened.bids[0])
    scoresheet_reopen(
        sheet=target, actor=panel.chair, reason="arithmetic_error", explanation=EXPLANATION
    )
    with pytest.raises(ValidationError):
        scoresheet_reopen(
            sheet=target, actor=panel.chair, reason="arithmetic_error", explanation=EXPLANATION
        )
    assert RankingCorrection.objects.count() == 1


def test_no_correction_after_the_award(ranked, approver):
    opened, panel, members = ranked
    first = RankingRow.objects.get(ranking__tender=opened.tender, position=1)
    tender_services.award_confirm(tender=opened.tender, actor=approver, bid=first.bid)
    with pytest.raises(PermissionDenied):
        scoresheet_reopen(
            sheet=sheet(members[0], opened.bids[0]),
            actor=panel.chair,
            reason=CorrectionReason.ARITHMETIC_ERROR,
            explanation=EXPLANATION,
        )
    with pytest.raises(PermissionDenied):
        objective_score_correct(
            score=ObjectiveScore.objects.get(bid=opened.bids[1], criterion__code="grade"),
            actor=panel.chair,
            value="16",
            explanation="等级证书核对有误。",
        )


def test_a_member_saves_nothing_else_while_correcting(ranked):
    """Only the reopened sheet may change; the member's other sheets stay locked."""
    opened, panel, members = ranked
    scoresheet_reopen(
        sheet=sheet(members[0], opened.bids[0]),
        actor=panel.chair,
        reason=CorrectionReason.ARITHMETIC_ERROR,
        explanation=EXPLANATION,
    )
    with pytest.raises(ValidationError):
        scoresheet_save(
            sheet=sheet(members[0], opened.bids[1]),
            actor=members[0].user,
            scores=[{"criterion": "plan", "score": "20", "reason": "顺便改一下。"}],
        )


# --- Inconsistent objective scores ---------------------------------------------------------------


def test_the_chair_corrects_an_objective_score_and_the_ranking_is_recomputed(ranked):
    """B's grade 12 → 16: 28.6666… + 39.1 + 16 = 83.7666… → 83.77 (was 79.77)."""
    opened, panel, _members = ranked
    b = opened.bids[1]
    score = ObjectiveScore.objects.get(bid=b, criterion__code="grade")
    correction = objective_score_correct(
        score=score, actor=panel.chair, value="16", explanation="等级证书核对有误，应为4A。"
    )
    assert correction.reason == CorrectionReason.INCONSISTENT_OBJECTIVE
    assert correction.sheet is None
    assert correction.before[str(b.pk)] == "79.77"
    assert correction.after[str(b.pk)] == "83.77"
    assert correction.applied_at is not None
    score.refresh_from_db()
    assert score.score == Decimal("16")
    assert score.basis["corrections"] == [
        {"before": "12.0000", "after": "16.0000", "correction": correction.pk}
    ]
    ranking = Ranking.objects.get(tender=opened.tender)
    assert ranking.version == 2
    assert RankingRow.objects.get(ranking=ranking, bid=b).total == Decimal("83.77")
    panel.refresh_from_db()
    assert panel.status == PanelStatus.RANKED
    (event,) = events(AuditAction.RANKING_CORRECTED)
    assert event.details["objective_score"]["before"] == "12.0000"
    assert event.details["objective_score"]["after"] == "16.0000"


@pytest.mark.parametrize(("value", "explanation"), [("21", "超出。"), ("-1", "负数。"), ("16", "")])
def test_a_bad_objective_correction_changes_nothing(ranked, value, explanation):
    opened, panel, _members = ranked
    score = ObjectiveScore.objects.get(bid=opened.bids[1], criterion__code="grade")
    with pytest.raises(ValidationError):
        objective_score_correct(
            score=score, actor=panel.chair, value=value, explanation=explanation
        )
    score.refresh_from_db()
    assert score.score == Decimal("12")
    assert not RankingCorrection.objects.exists()
    assert Ranking.objects.get(tender=opened.tender).version == 1


@pytest.mark.parametrize("persona", ["official", "approver", "auditor", "assessor"])
def test_only_the_chair_corrects_an_objective_score(request, ranked, persona):
    opened, _panel, _members = ranked
    with pytest.raises(PermissionDenied):
        objective_score_correct(
            score=ObjectiveScore.objects.get(bid=opened.bids[1], criterion__code="grade"),
            actor=request.getfixturevalue(persona),
            value="16",
            explanation="等级证书核对有误。",
        )


# --- A new round after an upheld challenge ------------------------------------------------------


def test_after_an_upheld_challenge_the_new_round_is_checked_afresh(
    opened, scoring_panel, official, approver
):
    members = score_everything(
        scoring_panel, opened.bids, with_bid_a(["40", "40", "40", "40", "20"])
    )
    deviation_confirm(flag=DeviationFlag.objects.get(), actor=members[4].user, note=EXPLANATION)
    first = RankingRow.objects.get(ranking__tender=opened.tender, position=1)
    tender_services.award_confirm(tender=opened.tender, actor=approver, bid=first.bid)
    challenge = tender_services.challenge_file(
        tender=opened.tender,
        actor=opened.bidders[1].member,
        subject="评分有误",
        text="第5位评委对A的评分明显偏低。",
    )
    tender_services.challenge_answer(
        challenge=challenge,
        actor=official,
        answer="经复核，质疑事项属实。",
        upheld=True,
        remedy="reopen_evaluation",
    )
    tender_services.challenge_decide(challenge=challenge, actor=approver, note="重新评审。")
    sheets = ScoreSheet.objects.filter(member__panel=scoring_panel)
    assert set(sheets.values_list("status", flat=True)) == {SheetStatus.REOPENED}

    # Every member scores again; the last submission runs the panel check once more.
    score_everything(scoring_panel, opened.bids, with_bid_a(["40", "40", "40", "40", "20"]))
    again = DeviationFlag.objects.get(status=DeviationStatus.OPEN)
    assert again.sheet == sheet(members[4], opened.bids[0])
    assert not Ranking.objects.filter(tender=opened.tender).exists()
    assert sheets.filter(status=SheetStatus.LOCKED).count() == 19

    deviation_confirm(flag=again, actor=members[4].user, note=EXPLANATION)
    ranking = Ranking.objects.get(tender=opened.tender)
    assert RankingRow.objects.filter(ranking=ranking).count() == 4
    scoring_panel.refresh_from_db()
    assert scoring_panel.status == PanelStatus.RANKED
