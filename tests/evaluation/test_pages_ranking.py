"""The ranking page: the frozen ranking, each member's scores, the corrections log, the bar
chart (its numbers from a pure helper), and the chair's corrections; who reads what.

The module builds its ranked tender once (each test rolls back to it): the pool of twelve
experts, the opened tender, its panel declared, every sheet scored (``PLAN``, ``GRADES``)
and submitted, the ranking computed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.models import (
    CorrectionReason,
    ObjectiveScore,
    PanelMember,
    Ranking,
    RankingCorrection,
    RankingRow,
    ScoreSheet,
    SheetStatus,
    TieBreak,
)
from evaluation.selectors import RankingLine
from evaluation.views import ranking_chart
from marketplace.models import AuditAction, AuditEvent, Role, User
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import declare_all, form_panel
from tests.evaluation.test_pages_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
    chinese_outside_data,
    english,
    text_of,
)
from tests.evaluation.test_sheets_support import score_everything, set_objective, sheet

# Plan scores (out of 50) per bid A-D and seat, as in test_ranking: nothing flagged.
PLAN = {
    0: ["41", "44", "40", "45", "43"],
    1: ["38", "40", "39.5", "41", "37"],
    2: ["35", "36", "34", "38", "33.5"],
    3: ["45", "46", "44", "47", "43.25"],
}
GRADES = ["16", "12", "20", "12"]
EXPLANATION = "第5席对A的方案分计算有误，应为44分。"


def ranking_url(tender) -> str:
    return reverse("evaluation:ranking", args=[tender.pk])


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the ranked tender."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        opened = build_opened(clock)
        panel = declare_all(form_panel(opened.tender, persona("official", Role.OFFICIAL)))
        for bid, grade in zip(opened.bids, GRADES, strict=True):
            set_objective(bid, "grade", grade)
        score_everything(panel, opened.bids, PLAN)
        assert Ranking.objects.filter(tender=opened.tender).exists()
        shared.opened["ranked"] = opened
        shared.panels["ranked"] = panel
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def ranked(_built, db, clock) -> Evaluated:
    """The ranked tender re-read for this test (its panel's active members in
    ``members``); the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("ranked")


@pytest.fixture
def chair(ranked) -> PanelMember:
    return next(m for m in ranked.members if m.user_id == ranked.panel.chair_id)


@pytest.fixture
def not_chair(ranked) -> PanelMember:
    return next(m for m in ranked.members if m.user_id != ranked.panel.chair_id)


# --- Reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_the_office_reads_the_ranking_scores_and_chart(client_for, ranked, request, persona):
    html = text_of(
        english(client_for(request.getfixturevalue(persona))).get(ranking_url(ranked.tender))
    )
    # By hand (test_ranking): A 85.48, C 85.30, D 84.50, B 79.77.
    order = [ranked.bids[i].organization.name for i in (0, 2, 3, 1)]
    table = html[html.index('id="ranking-heading"') :]
    assert [table.index(name) for name in order] == sorted(table.index(name) for name in order)
    for total in ("85.48", "85.30", "84.50", "79.77"):
        assert total in html
    assert "Price score" in html
    assert '<svg class="chart"' in html
    assert 'class="seg-price"' in html
    assert "Each member's scores" in html
    assert "No correction." in html
    assert 'name="explanation"' not in html


def test_a_panel_member_reads_every_members_scores_after_the_ranking(client_for, ranked):
    member = ranked.members[1]
    html = text_of(english(client_for(member.user)).get(ranking_url(ranked.tender)))
    for other in ranked.members:
        assert other.user.get_full_name() in html
    assert "39.5" in html


@pytest.mark.parametrize("persona", ["org_admin", "outsider", "assessor", "registry_admin"])
def test_the_ranking_is_not_found_for_others_before_the_award(client_for, ranked, request, persona):
    response = client_for(request.getfixturevalue(persona)).get(ranking_url(ranked.tender))
    assert response.status_code == 404


def test_a_bidder_finds_no_ranking_before_the_award(client_for, ranked):
    response = client_for(ranked.bidders[2].admin).get(ranking_url(ranked.tender))
    assert response.status_code == 404


def test_there_is_no_ranking_page_before_the_ranking(client_for, scoring_panel, opened, official):
    # A tender of its own (the fixtures of tests/evaluation/conftest.py on the shared pool).
    assert not Ranking.objects.filter(tender=opened.tender).exists()
    assert client_for(official).get(ranking_url(opened.tender)).status_code == 404


def test_the_ranking_links_to_the_award_page(client_for, ranked, official):
    html = text_of(client_for(official).get(ranking_url(ranked.tender)))
    assert reverse("tenders:award", args=[ranked.tender.pk]) in html


def test_a_tie_broken_by_a_draw_shows_the_marker_and_the_seed(client_for, ranked, official):
    # The ranking as a tie produces it (test_ranking draws real ties): two rows tied on rank
    # 2, ordered by a recorded draw.
    ranking = Ranking.objects.get(tender=ranked.tender)
    Ranking.objects.filter(pk=ranking.pk).update(tie_break=TieBreak.DRAW, tie_seed="ab" * 16)
    RankingRow.objects.filter(ranking=ranking, position__in=[2, 3]).update(rank=2, tied=True)
    html = text_of(english(client_for(official)).get(ranking_url(ranked.tender)))
    assert html.count('<span class="tied">tied</span>') == 2
    assert "Equal totals and prices were ordered by: A recorded random draw." in html
    assert "ab" * 16 in html


def test_the_panel_page_and_the_tender_page_link_to_the_ranking(client_for, ranked, official):
    client = client_for(official)
    assert ranking_url(ranked.tender) in text_of(
        client.get(reverse("evaluation:panel", args=[ranked.tender.pk]))
    )
    assert ranking_url(ranked.tender) in text_of(
        client.get(reverse("tenders:detail", args=[ranked.tender.pk]))
    )


def test_the_office_dashboard_counts_rankings_ready(client_for, ranked, official, approver):
    html = text_of(english(client_for(official)).get(reverse("dashboard")))
    assert "Rankings ready for the award" in html
    assert ranking_url(ranked.tender) in html
    # An approver has the award's own card instead (tenders).
    html = text_of(english(client_for(approver)).get(reverse("dashboard")))
    assert "Rankings ready for the award" not in html


# --- The chart's numbers -------------------------------------------------------------------------


def line(position: int, name: str, price_score: str, scores: dict[str, str], total: str):
    return RankingLine(
        position=position,
        rank=position,
        tied=False,
        bid_id=str(position),
        organization=name,
        price=Decimal("100"),
        total=Decimal(total),
        price_score=Decimal(price_score),
        criterion_scores={code: Decimal(v) for code, v in scores.items()},
        member_scores=None,
        own=False,
    )


def test_the_chart_stacks_price_objective_and_subjective_on_a_100_point_scale():
    kinds = {"plan": "subjective", "team": "subjective", "grade": "objective"}
    rows = [
        line(1, "甲", "30", {"plan": "35.3", "team": "5", "grade": "20"}, "90.3"),
        line(2, "乙", "25.5", {"plan": "40", "team": "0", "grade": "0"}, "65.5"),
    ]
    chart = ranking_chart(rows, kinds)
    first, second = chart.bars
    # 640 units for 100 points after a 12-unit margin: 30 points are 192 units, 20 are 128,
    # 40.3 are 257.92.
    assert [(s.kind, s.x, s.width) for s in first.segments] == [
        ("price", "12.00", "192.00"),
        ("objective", "204.00", "128.00"),
        ("subjective", "332.00", "257.92"),
    ]
    assert first.end_x == "595.92"
    assert [s.value for s in second.segments] == [Decimal("25.5"), Decimal(0), Decimal(40)]
    assert first.y_bar < second.y_bar
    assert first.y_label < first.y_bar < first.y_total
    assert chart.ticks[0] == ("12.00", 0)
    assert chart.ticks[-1] == ("652.00", 100)
    assert chart.width == 712


def test_the_chart_of_no_row_is_empty_but_drawable():
    chart = ranking_chart([], {})
    assert chart.bars == []
    assert chart.height > 0


# --- Corrections ---------------------------------------------------------------------------------


def test_the_chair_is_offered_the_corrections(client_for, ranked, chair):
    html = text_of(english(client_for(chair.user)).get(ranking_url(ranked.tender)))
    assert "Reopen a sheet" in html
    assert reverse("evaluation:ranking_reopen", args=[ranked.tender.pk]) in html
    for reason in CorrectionReason:
        assert f'value="{reason.value}"' in html
    assert "Correct an objective score" in html


def test_other_members_and_the_office_are_not_offered_corrections(
    client_for, ranked, not_chair, official
):
    for user in (not_chair.user, official):
        html = text_of(client_for(user).get(ranking_url(ranked.tender)))
        assert "ranking/reopen/" not in html


def reopen_data(sheet_pk, reason="arithmetic_error", explanation=EXPLANATION):
    return {
        "reopen-sheet": str(sheet_pk),
        "reopen-reason": reason,
        "reopen-explanation": explanation,
    }


def test_the_chair_reopens_a_sheet_with_a_reason(client_for, ranked, chair):
    target = sheet(ranked.members[4], ranked.bids[0])
    client = english(client_for(chair.user))
    response = client.post(
        reverse("evaluation:ranking_reopen", args=[ranked.tender.pk]), reopen_data(target.pk)
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.status == SheetStatus.REOPENED
    correction = RankingCorrection.objects.get()
    assert correction.reason == CorrectionReason.ARITHMETIC_ERROR
    assert correction.sheet == target
    assert AuditEvent.objects.filter(action=AuditAction.SCORESHEET_REOPENED).count() == 1
    html = text_of(client.get(ranking_url(ranked.tender)))
    assert "Arithmetic error" in html
    assert EXPLANATION in html
    assert "Waiting for the corrected sheet." in html
    assert "85.30" in html  # the total before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reopen-explanation": ""}, "Explain what is corrected and why."),
        ({"reopen-reason": "taste"}, "Select a valid choice."),
        (
            {"reopen-reason": "inconsistent_objective"},
            "Objective scores are not on a member&#x27;s sheet",
        ),
    ],
)
def test_a_bad_reopening_is_refused_and_nothing_changes(client_for, ranked, chair, data, message):
    target = sheet(ranked.members[4], ranked.bids[0])
    response = english(client_for(chair.user)).post(
        reverse("evaluation:ranking_reopen", args=[ranked.tender.pk]),
        {**reopen_data(target.pk), **data},
    )
    assert message in text_of(response)
    target.refresh_from_db()
    assert target.status == SheetStatus.LOCKED
    assert not RankingCorrection.objects.exists()


def test_only_the_chair_reopens_a_sheet(client_for, ranked, not_chair, official):
    target = sheet(ranked.members[4], ranked.bids[0])
    url = reverse("evaluation:ranking_reopen", args=[ranked.tender.pk])
    assert client_for(not_chair.user).post(url, reopen_data(target.pk)).status_code == 403
    assert client_for(official).post(url, reopen_data(target.pk)).status_code == 403
    response = client_for(ranked.bidders[0].admin).post(url, reopen_data(target.pk))
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.status == SheetStatus.LOCKED
    assert not RankingCorrection.objects.exists()


def test_reopening_needs_the_csrf_token(ranked, chair):
    target = sheet(ranked.members[4], ranked.bids[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(chair.user)
    url = reverse("evaluation:ranking_reopen", args=[ranked.tender.pk])
    assert client.post(url, reopen_data(target.pk)).status_code == 403
    assert not RankingCorrection.objects.exists()


def test_the_chair_corrects_an_objective_score(client_for, ranked, chair):
    score = ObjectiveScore.objects.get(bid=ranked.bids[1], criterion__code="grade")
    response = client_for(chair.user).post(
        reverse("evaluation:ranking_objective", args=[ranked.tender.pk]),
        {
            "objective-score": str(score.pk),
            "objective-value": "16",
            "objective-explanation": "该机构等级应为4A。",
        },
    )
    assert response.status_code == 302
    score.refresh_from_db()
    assert score.score == Decimal("16")
    correction = RankingCorrection.objects.get()
    assert correction.reason == CorrectionReason.INCONSISTENT_OBJECTIVE
    assert correction.applied_at is not None


def test_an_objective_score_out_of_range_is_refused_on_the_field(client_for, ranked, chair):
    score = ObjectiveScore.objects.get(bid=ranked.bids[1], criterion__code="grade")
    response = english(client_for(chair.user)).post(
        reverse("evaluation:ranking_objective", args=[ranked.tender.pk]),
        {
            "objective-score": str(score.pk),
            "objective-value": "25",
            "objective-explanation": "该机构等级应为4A。",
        },
    )
    html = text_of(response)
    assert "grade: the score must be between 0 and 20" in html
    assert 'id="id_objective-value_error"' in html
    score.refresh_from_db()
    assert score.score == Decimal("12")
    assert not RankingCorrection.objects.exists()


def test_the_corrected_sheet_shows_the_chairs_note_to_its_member(client_for, ranked, chair):
    member = ranked.members[4]
    target = sheet(member, ranked.bids[0])
    client_for(chair.user).post(
        reverse("evaluation:ranking_reopen", args=[ranked.tender.pk]), reopen_data(target.pk)
    )
    html = text_of(
        english(client_for(member.user)).get(reverse("evaluation:sheet", args=[target.pk]))
    )
    assert "The chair reopened this sheet for a correction." in html
    assert 'name="score_plan"' in html
    assert ScoreSheet.objects.filter(status=SheetStatus.REOPENED).count() == 1


# --- English -------------------------------------------------------------------------------------


def test_the_ranking_in_english_has_no_chinese_outside_the_data(client_for, ranked, chair):
    html = text_of(english(client_for(chair.user)).get(ranking_url(ranked.tender)))
    assert chinese_outside_data(html) == []
    # The chart's labels are the organizations' names (data), in the SVG.
    assert re.search(r'<text x="12" y="\d+">' + re.escape(ranked.bids[0].organization.name), html)
