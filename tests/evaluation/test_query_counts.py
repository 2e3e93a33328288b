"""The evaluation pages and API cost the same number of queries for 3 bids or 5 (STANDARDS:
constant queries as data grows)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.models import PanelStatus, ScoreSheet
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from tests.evaluation.conftest import (
    PRICES,
    active_members,
    declare_all,
    form_panel,
    make_assessor,
    open_tender,
)


def _ranked(make_tender, clock, official, second_official, prices):
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        prices=prices,
    )
    panel = declare_all(form_panel(opened.tender, official))
    for member in active_members(panel):
        for sheet in ScoreSheet.objects.filter(member=member).order_by("pk"):
            scoresheet_save(
                sheet=sheet,
                actor=member.user,
                scores=[{"criterion": "plan", "score": Decimal("40"), "reason": "完整"}],
            )
            scoresheet_submit(sheet=sheet, actor=member.user)
    panel.refresh_from_db()
    assert panel.status == PanelStatus.RANKED
    return opened.tender, panel


@pytest.fixture
def two_rankings(make_tender, clock, official, second_official, category):
    for i in range(12):
        make_assessor(f"pool_q{i}", agency=f"评估所{i}", categories=[category])
    small = _ranked(make_tender, clock, official, second_official, PRICES[:3])
    large = _ranked(make_tender, clock, official, second_official, [*PRICES, "460000"])
    return small, large


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200, url
    return len(captured)


def test_ranking_panel_and_sheet_lists_cost_the_same_for_3_or_5_bids(
    client_for, official, two_rankings
):
    (small, small_panel), (large, large_panel) = two_rankings
    client = client_for(official)
    for name in ("evaluation:ranking", "evaluation:panel"):
        assert _count(client, reverse(name, args=[small.pk])) == _count(
            client, reverse(name, args=[large.pk])
        ), name
    for url in ("/api/v1/tenders/{}/ranking/", "/api/v1/tenders/{}/panel/"):
        assert _count(client, url.format(small.pk)) == _count(client, url.format(large.pk)), url
    member_small = active_members(small_panel)[0].user
    member_large = active_members(large_panel)[0].user
    assert _count(client_for(member_small), f"/api/v1/scoresheets/?tender={small.pk}") == _count(
        client_for(member_large), f"/api/v1/scoresheets/?tender={large.pk}"
    )
