"""API v1 score sheets (CONTRACTS section 3): the caller's own sheets, saving and submitting,
independence (nobody else's sheet before every sheet is in), deviation flags confirmed or
revised, the chair's corrections, objective score corrections and the frozen ranking."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from evaluation.models import (
    DeviationFlag,
    DeviationStatus,
    ObjectiveScore,
    RankingCorrection,
    Score,
    ScoreSheet,
    SheetStatus,
)
from marketplace.models import AuditAction, Role, User
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import declare_all, form_panel, open_tender
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    anonymous,
    api,
    build_opened,
    build_personas,
    build_pool,
    delete,
    is_error,
    patch,
    post,
    put,
)
from tests.evaluation.test_sheets_support import (
    NORMAL,
    active_members,
    fill,
    score_everything,
    sheet,
    with_bid_a,
)

SHEETS = "/api/v1/scoresheets/"
MISSING = 999_999
REASON = "方案完整，措施具体。"
SHEET_FIELDS = {"id", "bid", "status", "scores"}
SCORE_FIELDS = {"criterion", "score", "reason"}
ROW_FIELDS = {
    "bid",
    "organization",
    "price",
    "price_score",
    "criterion_scores",
    "total",
    "rank",
    "tied",
}
# Bid A's plan scores with member 5 far below the others: mean 36, deviation 26 > 15.
OUTLIER = ["41", "44", "40", "45", "10"]
FLAGGED = with_bid_a(OUTLIER)


def sheet_url(target: ScoreSheet | int, action: str = "") -> str:
    pk = target if isinstance(target, int) else target.pk
    return f"{SHEETS}{pk}/" + (f"{action}/" if action else "")


def flag_url(flag: DeviationFlag | int, action: str) -> str:
    pk = flag if isinstance(flag, int) else flag.pk
    return f"/api/v1/deviations/{pk}/{action}/"


def ranking_url(tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/ranking/"


def plan(score: str = "41", reason: str = REASON) -> dict:
    return {"scores": [{"criterion": "plan", "score": score, "reason": reason}]}


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the pool of twelve experts
    and three opened tenders with four qualified bids each and a panel of five, every member
    declared: "scoring" with nothing scored, "ranked" with every sheet submitted (nothing
    flagged, the ranking frozen), "flagged" with every sheet submitted and member 5's plan
    score on bid A flagged."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        official = persona("official", Role.OFFICIAL)
        for name, plans in [("scoring", None), ("ranked", NORMAL), ("flagged", FLAGGED)]:
            opened = shared.opened[name] = build_opened(clock)
            panel = shared.panels[name] = declare_all(form_panel(opened.tender, official))
            if plans:
                score_everything(panel, opened.bids, plans)
        yield shared.done(clock)


def _fresh(shared: Shared, clock, name: str) -> Evaluated:
    clock.set(shared.built_until)
    return shared.evaluated(name)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The tender whose panel has declared, nothing scored; the clock where the build left
    it."""
    return _fresh(_built, clock, "scoring")


@pytest.fixture
def members(opened):
    return opened.members


@pytest.fixture
def ranked(_built, db, clock) -> Evaluated:
    """Every sheet submitted; nothing flagged, every sheet locked, the ranking frozen."""
    return _fresh(_built, clock, "ranked")


@pytest.fixture
def flagging(_built, db, clock) -> Evaluated:
    """Every sheet submitted; member 5's plan score on bid A is flagged."""
    return _fresh(_built, clock, "flagged")


@pytest.fixture
def flagged(flagging) -> DeviationFlag:
    return DeviationFlag.objects.get(sheet__bid__tender=flagging.tender)


@pytest.fixture
def undeclared(make_tender, clock, official, second_official, pool):
    """Built for its one test: another opened tender with a drawn panel, nobody declared."""
    other = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    return other, form_panel(other.tender, official)


def chair_of(panel, members):
    return next(member for member in members if member.user_id == panel.chair_id)


# --- The caller's own sheets -------------------------------------------------------------------


def test_a_member_lists_their_own_sheets_in_the_contract_shape(opened, members):
    response = api(members[0].user).get(SHEETS, {"tender": opened.tender.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    # Lists are paginated like every other list of the API.
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4
    own = set(ScoreSheet.objects.filter(member=members[0]).values_list("pk", flat=True))
    assert {row["id"] for row in body["results"]} == own
    for row in body["results"]:
        assert set(row) >= SHEET_FIELDS
        assert (row["status"], row["scores"]) == ("declared", [])
    assert {row["bid"] for row in body["results"]} == {str(bid.pk) for bid in opened.bids}


def test_the_list_holds_only_the_callers_sheets_even_once_every_sheet_is_in(ranked):
    caller = ranked.members[1].user
    body = api(caller).get(SHEETS).json()

    # The caller's sheets on every panel they sit on (the shared experts sit on several).
    own = set(ScoreSheet.objects.filter(member__user=caller).values_list("pk", flat=True))
    assert {row["id"] for row in body["results"]} == own


@pytest.mark.parametrize("persona", ["official", "auditor", "org_admin"])
def test_others_have_no_sheets_to_list(request, opened, members, persona):
    body = api(request.getfixturevalue(persona)).get(SHEETS, {"tender": opened.tender.pk}).json()
    assert body["count"] == 0


def test_an_undeclared_member_lists_no_sheet(undeclared):
    other, panel = undeclared
    member = active_members(panel)[0]
    assert api(member.user).get(SHEETS, {"tender": other.tender.pk}).json()["count"] == 0


def test_a_malformed_tender_filter_is_named(members):
    assert is_error(api(members[0].user).get(SHEETS, {"tender": "abc"}), 400, "tender")


def test_listing_sheets_needs_a_signed_in_caller():
    assert is_error(anonymous().get(SHEETS), 401)


def test_before_every_sheet_is_submitted_another_members_sheet_is_a_404(opened, members):
    others = sheet(members[1], opened.bids[0])
    client = api(members[0].user)

    response = client.get(sheet_url(others))
    missing = client.get(sheet_url(MISSING))

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    own = client.get(sheet_url(sheet(members[0], opened.bids[0])))
    assert own.status_code == 200
    assert set(own.json()) >= SHEET_FIELDS


# --- Saving and submitting ---------------------------------------------------------------------


def test_a_member_saves_scores_with_put(opened, members):
    target = sheet(members[0], opened.bids[0])

    response = put(api(members[0].user), sheet_url(target), plan("41.5"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft"
    (line,) = body["scores"]
    assert set(line) >= SCORE_FIELDS
    assert (line["criterion"], line["score"], line["reason"]) == ("plan", "41.50", REASON)
    assert Score.objects.get(sheet=target).score == Decimal("41.5")
    (saved,) = opened.events(AuditAction.SCORESHEET_SAVED)
    assert saved.actor_id == members[0].user_id
    # The audit event names the criteria, never the scores (independence).
    assert "41.5" not in str(saved.details)


@pytest.mark.parametrize(
    "data",
    [
        plan("60"),
        plan("41", reason=""),
        plan("41.555"),
        {"scores": [{"criterion": "grade", "score": "10", "reason": REASON}]},
        {"scores": [{"criterion": "nope", "score": "10", "reason": REASON}]},
        {"scores": "plan=41"},
        {},
    ],
    ids=["beyond_points", "no_reason", "three_places", "objective", "unknown", "text", "empty"],
)
def test_bad_scores_are_named_under_scores_and_nothing_is_saved(opened, members, data):
    target = sheet(members[0], opened.bids[0])

    response = put(api(members[0].user), sheet_url(target), data)

    assert is_error(response, 400, "scores"), response.content
    assert not Score.objects.filter(sheet=target).exists()
    target.refresh_from_db()
    assert target.status == SheetStatus.DECLARED
    assert opened.events(AuditAction.SCORESHEET_SAVED) == []


def test_a_bad_score_message_names_the_criterion(opened, members):
    response = put(api(members[0].user), sheet_url(sheet(members[0], opened.bids[0])), plan("60"))
    assert "plan" in response.json()["fields"]["scores"][0]


def test_an_unknown_field_is_refused(opened, members):
    response = put(
        api(members[0].user),
        sheet_url(sheet(members[0], opened.bids[0])),
        {**plan(), "status": "locked"},
    )
    assert is_error(response, 400, "status")
    assert not Score.objects.filter(sheet__bid__tender=opened.tender).exists()


def test_a_member_submits_a_complete_sheet(opened, members):
    target = sheet(members[0], opened.bids[0])
    client = api(members[0].user)
    put(client, sheet_url(target), plan())

    response = post(client, sheet_url(target, "submit"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    (submitted,) = opened.events(AuditAction.SCORESHEET_SUBMITTED)
    assert submitted.actor_id == members[0].user_id


def test_an_unscored_sheet_is_not_submitted(opened, members):
    target = sheet(members[0], opened.bids[0])

    response = post(api(members[0].user), sheet_url(target, "submit"))

    assert is_error(response, 400)
    target.refresh_from_db()
    assert target.status == SheetStatus.DECLARED
    assert opened.events(AuditAction.SCORESHEET_SUBMITTED) == []


def test_nobody_else_saves_or_submits_a_sheet_a_404_before_every_sheet_is_in(opened, members):
    target = sheet(members[1], opened.bids[0])
    fill(target, members[1], "40")
    client = api(members[0].user)

    for response in (
        put(client, sheet_url(target), plan("10")),
        post(client, sheet_url(target, "submit")),
    ):
        assert is_error(response, 404)
    assert Score.objects.get(sheet=target).score == Decimal("40")
    assert len(opened.events(AuditAction.SCORESHEET_SAVED)) == 1


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_after_every_sheet_is_in_the_office_reads_a_sheet_but_never_scores_it(
    request, ranked, persona
):
    target = sheet(ranked.members[1], ranked.bids[0])
    client = api(request.getfixturevalue(persona))

    assert client.get(sheet_url(target)).status_code == 200
    assert is_error(put(client, sheet_url(target), plan("10")), 403)
    assert is_error(post(client, sheet_url(target, "submit")), 403)
    assert Score.objects.get(sheet=target).score == Decimal(NORMAL[0][1])


def test_after_every_sheet_is_in_another_member_reads_but_never_scores_it(ranked):
    target = sheet(ranked.members[1], ranked.bids[0])
    client = api(ranked.members[0].user)

    body = client.get(sheet_url(target)).json()
    assert body["scores"][0]["score"] == "44.00"
    assert is_error(put(client, sheet_url(target), plan("10")), 403)


def test_sheets_need_a_signed_in_caller(opened, members):
    target = sheet(members[0], opened.bids[0])
    client = anonymous()
    assert is_error(client.get(sheet_url(target)), 401)
    assert is_error(put(client, sheet_url(target), plan()), 401)
    assert is_error(post(client, sheet_url(target, "submit")), 401)
    assert not Score.objects.filter(sheet__bid__tender=opened.tender).exists()


def test_sheets_are_not_patched_deleted_or_created(opened, members):
    target = sheet(members[0], opened.bids[0])
    client = api(members[0].user)
    assert patch(client, sheet_url(target), plan()).status_code == 405
    assert delete(client, sheet_url(target)).status_code == 405
    assert post(client, SHEETS, plan()).status_code == 405
    assert client.get(sheet_url(target, "submit")).status_code == 405
    assert ScoreSheet.objects.filter(pk=target.pk).exists()


# --- Deviations (畸高畸低) ------------------------------------------------------------------------


def test_a_flag_is_listed_in_its_sheet(flagged, flagging):
    body = api(flagging.members[4].user).get(sheet_url(flagged.sheet)).json()

    assert body["status"] == "submitted"
    (flag,) = body["flags"]
    assert set(flag) >= {"id", "criterion", "score", "panel_mean", "deviation", "status"}
    assert (flag["id"], flag["criterion"], flag["status"]) == (flagged.pk, "plan", "open")
    assert (flag["score"], flag["panel_mean"]) == ("10.00", "36.0000")


def test_the_member_confirms_the_flagged_score_and_the_sheet_locks(flagged, flagging):
    response = post(
        api(flagging.members[4].user),
        flag_url(flagged, "confirm"),
        {"note": "缺少应急预案，只能给低分。"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "locked"
    assert body["flags"][0]["status"] == "confirmed"
    (confirmed,) = flagging.events(AuditAction.DEVIATION_CONFIRMED)
    assert confirmed.actor_id == flagging.members[4].user_id
    # The last flag resolved: every sheet is locked and the ranking is frozen.
    assert len(flagging.events(AuditAction.RANKING_COMPUTED)) == 1


def test_the_member_revises_the_flagged_score(flagged, flagging):
    response = post(
        api(flagging.members[4].user),
        flag_url(flagged, "revise"),
        {"score": "38", "reason": "复核后调整"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "locked"
    assert body["scores"][0]["score"] == "38.00"
    assert body["flags"][0]["status"] == "revised"
    assert len(flagging.events(AuditAction.DEVIATION_REVISED)) == 1


def test_a_revision_still_beyond_the_threshold_shows_a_new_open_flag(flagged, flagging):
    body = post(
        api(flagging.members[4].user),
        flag_url(flagged, "revise"),
        {"score": "12", "reason": "仍偏低"},
    ).json()

    assert body["status"] == "submitted"
    assert [flag["status"] for flag in body["flags"]] == ["revised", "open"]


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("confirm", {"note": ""}, "note"),
        ("confirm", {}, "note"),
        ("revise", {"score": "99", "reason": "调整"}, "score"),
        ("revise", {"score": "38", "reason": ""}, "reason"),
        ("revise", {"reason": "调整"}, "score"),
    ],
)
def test_a_bad_answer_to_a_flag_names_the_field_and_changes_nothing(
    flagged, flagging, action, data, field
):
    response = post(api(flagging.members[4].user), flag_url(flagged, action), data)

    assert is_error(response, 400, field), response.content
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.OPEN
    assert Score.objects.get(sheet=flagged.sheet).score == Decimal("10")
    assert (
        flagging.events(AuditAction.DEVIATION_CONFIRMED)
        == flagging.events(AuditAction.DEVIATION_REVISED)
        == []
    )


def test_another_members_flag_is_a_404_like_a_missing_one(flagged, flagging):
    client = api(flagging.members[0].user)

    response = post(client, flag_url(flagged, "confirm"), {"note": "我替他确认"})
    missing = post(client, flag_url(MISSING, "confirm"), {"note": "我替他确认"})

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.OPEN


@pytest.mark.parametrize("persona", ["official", "auditor", "org_admin", "registry_admin"])
def test_only_the_flagged_member_answers_a_flag(request, flagged, persona):
    client = api(request.getfixturevalue(persona))
    assert is_error(post(client, flag_url(flagged, "confirm"), {"note": "代为确认"}), 403)
    assert is_error(post(client, flag_url(flagged, "revise"), {"score": "38", "reason": "x"}), 403)
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.OPEN


def test_answering_a_flag_needs_a_signed_in_caller_and_a_post(flagged, flagging):
    assert is_error(post(anonymous(), flag_url(flagged, "confirm"), {"note": "x"}), 401)
    assert api(flagging.members[4].user).get(flag_url(flagged, "confirm")).status_code == 405


# --- Corrections by the chair ------------------------------------------------------------------


def test_the_chair_reopens_a_locked_sheet_for_one_of_the_four_reasons(ranked):
    chair = chair_of(ranked.panel, ranked.members)
    target = sheet(ranked.members[3], ranked.bids[1])

    response = post(
        api(chair.user),
        sheet_url(target, "reopen"),
        {"reason": "arithmetic_error", "explanation": "第4位专家的分数录入错误。"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["reason"], body["sheet"]) == ("arithmetic_error", target.pk)
    assert body["reason_label"] == "Arithmetic error"
    assert body["before"]
    assert body["after"] == {}
    target.refresh_from_db()
    assert target.status == SheetStatus.REOPENED
    (reopened,) = ranked.events(AuditAction.SCORESHEET_REOPENED)
    assert reopened.actor_id == chair.user_id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": "typo", "explanation": "x"}, "reason"),
        ({"reason": "inconsistent_objective", "explanation": "x"}, "reason"),
        ({"reason": "arithmetic_error", "explanation": ""}, "explanation"),
        ({"explanation": "x"}, "reason"),
    ],
)
def test_a_bad_reopening_names_the_field_and_changes_nothing(ranked, data, field):
    chair = chair_of(ranked.panel, ranked.members)
    target = sheet(ranked.members[3], ranked.bids[1])

    response = post(api(chair.user), sheet_url(target, "reopen"), data)

    assert is_error(response, 400, field), response.content
    target.refresh_from_db()
    assert target.status == SheetStatus.LOCKED
    assert not RankingCorrection.objects.exists()


def test_only_the_chair_reopens_a_sheet(request, ranked):
    target = sheet(ranked.members[3], ranked.bids[1])
    others = [m.user for m in ranked.members if m.user_id != ranked.panel.chair_id]
    data = {"reason": "arithmetic_error", "explanation": "x"}
    for user in [others[0], request.getfixturevalue("official")]:
        assert is_error(post(api(user), sheet_url(target, "reopen"), data), 403)
    assert not RankingCorrection.objects.exists()


def test_an_outsider_reopens_nothing_a_404_like_a_missing_sheet(ranked, pool, org_admin):
    seated = {m.user_id for m in ranked.members}
    stranger = next(user for user in pool if user.pk not in seated)
    target = sheet(ranked.members[3], ranked.bids[1])
    data = {"reason": "arithmetic_error", "explanation": "x"}
    for user in (stranger, org_admin):
        client = api(user)
        response = post(client, sheet_url(target, "reopen"), data)
        missing = post(client, sheet_url(MISSING, "reopen"), data)
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
    assert not RankingCorrection.objects.exists()


def test_reopening_needs_a_signed_in_caller_and_a_post(ranked):
    target = sheet(ranked.members[3], ranked.bids[1])
    chair = chair_of(ranked.panel, ranked.members)
    assert is_error(post(anonymous(), sheet_url(target, "reopen"), {}), 401)
    assert api(chair.user).get(sheet_url(target, "reopen")).status_code == 405


# --- Objective scores ----------------------------------------------------------------------------


def objective_url(score: ObjectiveScore | int | None = None) -> str:
    if score is None:
        return "/api/v1/objective-scores/"
    pk = score if isinstance(score, int) else score.pk
    return f"/api/v1/objective-scores/{pk}/correct/"


def test_the_panel_reads_the_objective_scores_with_their_basis(ranked, org_admin):
    body = api(ranked.members[0].user).get(objective_url(), {"tender": ranked.tender.pk}).json()

    assert body["count"] == 4
    assert {row["criterion"] for row in body["results"]} == {"grade"}
    assert all("basis" in row for row in body["results"])
    assert is_error(api(org_admin).get(objective_url(), {"tender": ranked.tender.pk}), 404)
    assert is_error(api(ranked.members[0].user).get(objective_url()), 400, "tender")


def test_the_chair_corrects_an_objective_score_and_the_ranking_is_recomputed(ranked):
    chair = chair_of(ranked.panel, ranked.members)
    score = ObjectiveScore.objects.get(bid=ranked.bids[0])

    response = post(
        api(chair.user),
        objective_url(score),
        {"value": "16", "explanation": "该机构持有有效4A等级证书，系统未取到。"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reason"] == "inconsistent_objective"
    assert body["sheet"] is None
    assert body["applied_at"] is not None
    score.refresh_from_db()
    assert score.score == Decimal("16")
    (corrected,) = ranked.events(AuditAction.RANKING_CORRECTED)
    assert corrected.actor_id == chair.user_id
    ranking = api(chair.user).get(ranking_url(ranked.tender)).json()
    assert ranking["version"] == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"value": "99", "explanation": "x"}, "value"),
        ({"value": "16", "explanation": ""}, "explanation"),
        ({"explanation": "x"}, "value"),
    ],
)
def test_a_bad_objective_correction_names_the_field_and_changes_nothing(ranked, data, field):
    chair = chair_of(ranked.panel, ranked.members)
    score = ObjectiveScore.objects.get(bid=ranked.bids[0])

    response = post(api(chair.user), objective_url(score), data)

    assert is_error(response, 400, field), response.content
    score.refresh_from_db()
    assert score.score == Decimal("0")
    assert not RankingCorrection.objects.exists()


@pytest.mark.parametrize("persona", ["official", "auditor", "org_admin"])
def test_only_the_chair_corrects_an_objective_score(request, ranked, persona):
    score = ObjectiveScore.objects.get(bid=ranked.bids[0])
    response = post(
        api(request.getfixturevalue(persona)),
        objective_url(score),
        {"value": "16", "explanation": "x"},
    )
    assert is_error(response, 403)
    assert not RankingCorrection.objects.exists()


def test_another_member_corrects_nothing_a_404_like_a_missing_score(ranked):
    member = next(m for m in ranked.members if m.user_id != ranked.panel.chair_id)
    score = ObjectiveScore.objects.get(bid=ranked.bids[0])
    client = api(member.user)
    data = {"value": "16", "explanation": "x"}

    response = post(client, objective_url(score), data)
    missing = post(client, objective_url(MISSING), data)

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert not RankingCorrection.objects.exists()


def test_objective_corrections_need_a_signed_in_caller_and_a_post(ranked):
    score = ObjectiveScore.objects.get(bid=ranked.bids[0])
    chair = chair_of(ranked.panel, ranked.members)
    assert is_error(post(anonymous(), objective_url(score), {}), 401)
    assert api(chair.user).get(objective_url(score)).status_code == 405


# --- The ranking -----------------------------------------------------------------------------


def test_no_ranking_before_aggregation(opened, members, official, org_admin):
    score_everything(members[0].panel, opened.bids, NORMAL, skip=[(0, 4)])
    for client in (api(official), api(members[0].user), api(org_admin), anonymous()):
        assert is_error(client.get(ranking_url(opened.tender)), 404)


def test_the_office_reads_the_ranking_in_the_contract_shape(ranked, official):
    response = api(official).get(ranking_url(ranked.tender))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["full"] is True
    assert (body["version"], body["base_price"]) == (1, "430000.00")
    assert len(body["rows"]) == 4
    for row in body["rows"]:
        assert set(row) >= ROW_FIELDS | {"position", "member_scores"}
        assert set(row["criterion_scores"]) == {"plan", "grade"}
        assert len(row["member_scores"]["plan"]) == 5
    first = body["rows"][0]
    # No grades: D 430000/470000×30 + 45.05 = 72.4968… → 72.50, ahead of A (26.875 + 42.6).
    assert (first["bid"], first["total"], first["rank"]) == (str(ranked.bids[3].pk), "72.50", 1)
    assert first["criterion_scores"] == {"plan": "45.05", "grade": "0.00"}
    assert first["price_score"] == "27.45"


def test_a_declared_member_reads_the_full_ranking_and_bidders_nothing_before_the_award(
    ranked, org_admin
):
    assert api(ranked.members[2].user).get(ranking_url(ranked.tender)).json()["full"] is True
    for client in (api(ranked.bidders[0].admin), api(org_admin), anonymous()):
        assert is_error(client.get(ranking_url(ranked.tender)), 404)


def test_the_ranking_is_read_only(ranked, official):
    assert post(api(official), ranking_url(ranked.tender), {}).status_code == 405
