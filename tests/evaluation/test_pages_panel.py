"""The panel page: forming the panel (size, representatives, named experts, chair), then its
members, draws with their seeds and exclusions, progress and open flags; who reads what.

The module builds once (each test rolls back to it) the pool of twelve experts and the
opened tender without a panel; panels are formed by the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.models import Panel, PanelDraw, PanelMember
from evaluation.services import assessor_relation_add
from evaluation.services import panels as panel_services
from marketplace.models import AuditAction, AuditEvent, User
from tests.conftest import building, module_database
from tests.evaluation.conftest import active_members, declare_all, form_panel, open_tender
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
from tests.evaluation.test_sheets_support import score_everything, with_bid_a

SEED = "0f" * 16


def panel_url(tender) -> str:
    return reverse("evaluation:panel", args=[tender.pk])


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the pool of twelve experts
    and the opened tender with four qualified bids, no panel yet."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        shared.opened["opened"] = build_opened(clock)
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The opened tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("opened")


# --- Before the panel -----------------------------------------------------------------------------


def test_the_office_is_offered_the_form_with_the_lawful_minimum(client_for, opened, official, pool):
    html = text_of(english(client_for(official)).get(panel_url(opened.tender)))
    assert "Form the evaluation panel" in html
    assert 'name="size"' in html
    assert 'value="5"' in html
    assert "at least 5 members, an odd number, and 7 when the budget is 10 million" in html
    assert "at least two thirds" in html
    # Named experts from the pool for the category, and officials as representatives.
    assert pool[0].get_full_name() in html
    assert 'name="representatives"' in html
    assert 'name="chair"' in html
    assert "csrfmiddlewaretoken" in html


def test_a_consultation_panel_explains_its_own_minimum(
    client_for, make_tender, clock, official, second_official, pool
):
    opened = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        method="competitive_consultation",
    )
    html = text_of(english(client_for(official)).get(panel_url(opened.tender)))
    assert "A competitive consultation needs at least 3 members, an odd number" in html
    assert 'value="3"' in html


def test_an_auditor_reads_the_page_without_the_form(client_for, opened, auditor):
    html = text_of(english(client_for(auditor)).get(panel_url(opened.tender)))
    assert "No panel has been formed." in html
    assert 'name="size"' not in html
    response = client_for(auditor).post(panel_url(opened.tender), {"size": "5"})
    assert response.status_code == 403
    assert not Panel.objects.exists()


@pytest.mark.parametrize("persona", ["assessor", "org_admin", "outsider", "registry_admin"])
def test_others_find_no_panel_page(client_for, opened, request, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(panel_url(opened.tender)).status_code == 404
    assert client.post(panel_url(opened.tender), {"size": "5"}).status_code == 404
    assert not Panel.objects.exists()


def test_before_the_opening_the_page_says_when_the_panel_comes(client_for, make_tender, official):
    tender = make_tender()
    html = text_of(english(client_for(official)).get(panel_url(tender)))
    assert "The panel is formed after the bids are opened and reviewed." in html
    assert 'name="size"' not in html
    assert client_for(official).post(panel_url(tender), {"size": "5"}).status_code == 403


def test_forming_the_panel_draws_the_members(client_for, opened, official, pool):
    response = english(client_for(official)).post(panel_url(opened.tender), {"size": "5"})
    assert response.status_code == 302
    assert response.url == panel_url(opened.tender)
    panel = Panel.objects.get(tender=opened.tender)
    assert panel.size == 5
    assert len(active_members(panel)) == 5
    assert len(events(AuditAction.PANEL_FORMED)) == 1
    assert len(events(AuditAction.PANEL_DRAWN)) == 1


def test_named_experts_representatives_and_chair_are_seated(
    client_for, opened, official, second_official, pool
):
    response = client_for(official).post(
        panel_url(opened.tender),
        {
            "size": "5",
            "representatives": [str(second_official.pk)],
            "members": [str(pool[3].pk)],
            "chair": str(pool[3].pk),
        },
    )
    assert response.status_code == 302
    panel = Panel.objects.get(tender=opened.tender)
    users = {m.user_id: m.kind for m in active_members(panel)}
    assert users[second_official.pk] == "representative"
    assert users[pool[3].pk] == "expert"
    assert panel.chair == pool[3]


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("4", "This tender&#x27;s panel needs at least 5 members"),
        ("6", "A panel has an odd number of members; 6 is even."),
        ("", "This field is required."),
    ],
)
def test_an_unlawful_size_is_refused_on_the_field(
    client_for, opened, official, pool, size, message
):
    response = english(client_for(official)).post(panel_url(opened.tender), {"size": size})
    html = text_of(response)
    assert message in html
    assert 'id="id_size_error"' in html
    assert not Panel.objects.exists()
    assert events(AuditAction.PANEL_FORMED) == []


def test_a_chair_outside_the_panel_is_refused(client_for, opened, official, pool):
    response = english(client_for(official)).post(
        panel_url(opened.tender), {"size": "5", "chair": str(official.pk)}
    )
    html = text_of(response)
    assert "The chair must be a member of the panel." in html
    assert not Panel.objects.exists()


def test_too_many_representatives_are_refused(
    client_for, opened, official, second_official, approver, pool
):
    response = english(client_for(official)).post(
        panel_url(opened.tender),
        {"size": "5", "representatives": [str(second_official.pk), str(approver.pk)]},
    )
    html = text_of(response)
    assert "at most 1 purchaser" in html
    assert 'id="id_representatives_error"' in html
    assert not Panel.objects.exists()


def test_forming_the_panel_needs_the_csrf_token(opened, official, pool):
    client = Client(enforce_csrf_checks=True)
    client.force_login(official)
    assert client.post(panel_url(opened.tender), {"size": "5"}).status_code == 403
    assert not Panel.objects.exists()


# --- After the panel ------------------------------------------------------------------------------


@pytest.fixture
def excluded(opened, official, pool, monkeypatch):
    """A panel whose draw passed over an assessor with a declared relation to a bidder.

    The seed is fixed so that the conflicted assessor is the first the shuffle reaches.
    """
    monkeypatch.setattr(panel_services.secrets, "token_hex", lambda n=16: SEED)
    first = panel_services.shuffled([u.pk for u in pool], SEED)[0]
    conflicted = next(u for u in pool if u.pk == first)
    assessor_relation_add(
        profile=conflicted.assessor_profile,
        actor=official,
        organization_name=opened.bidders[1].organization.name,
        organization=opened.bidders[1].organization,
        relation="理事会成员",
    )
    panel = form_panel(opened.tender, official)
    (draw,) = PanelDraw.objects.filter(panel=panel)
    assert draw.excluded[0]["user"] == conflicted.pk
    return panel, conflicted


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_the_office_reads_members_draws_and_exclusions(
    client_for, excluded, opened, request, persona
):
    panel, conflicted = excluded
    html = text_of(
        english(client_for(request.getfixturevalue(persona))).get(panel_url(opened.tender))
    )
    for member in active_members(panel):
        assert member.user.get_full_name() in html
    assert SEED in html
    assert "Excluded from the draw" in html
    assert conflicted.get_full_name() in html
    assert "理事会成员" in html
    assert "Waiting for the declaration" in html
    assert "Progress" in html
    assert 'name="size"' not in html


def test_a_member_reads_the_panel_without_the_exclusions(client_for, excluded, opened):
    panel, conflicted = excluded
    member = active_members(panel)[0]
    html = text_of(english(client_for(member.user)).get(panel_url(opened.tender)))
    assert SEED in html
    assert member.user.get_full_name() in html
    assert conflicted.get_full_name() not in html
    assert "理事会成员" not in html
    assert "Excluded from the draw" not in html
    assert "Progress" not in html
    # Undeclared: nothing of the bids, not even whether a price was abnormally low.
    assert "Abnormally low prices" not in html


def test_a_formed_panel_is_not_formed_again(client_for, panel, opened, official):
    response = client_for(official).post(panel_url(opened.tender), {"size": "5"})
    assert response.status_code == 403
    assert Panel.objects.count() == 1
    assert len(events(AuditAction.PANEL_FORMED)) == 1


def progress_row(html: str, name: str) -> list[int]:
    """The numbers on a member's row of the progress table: seat, sheets by status, flags."""
    section = html[html.index('id="progress-heading"') :]
    section = section[: section.index("</section>")]
    row = next(r for r in section.split("<tr>") if f'<th scope="row">{name}</th>' in r)
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)]


def test_the_progress_counts_sheets_and_replaced_members_show(client_for, panel, opened, official):
    leaving, staying = active_members(panel)[:2]
    panel_services.panel_declare(
        member=leaving, actor=leaving.user, conflict=True, statement="曾在投标机构任职。"
    )
    panel_services.panel_declare(member=staying, actor=staying.user, conflict=False, statement="")
    leaving.refresh_from_db()
    newcomer = leaving.replaced_by
    html = text_of(english(client_for(official)).get(panel_url(opened.tender)))
    assert "Replaced (conflict declared)" in html
    assert "Replacement for a conflict" in html
    # Columns: seat; waiting, ready, draft, submitted, locked, reopened; open flags.
    assert progress_row(html, newcomer.user.get_full_name()) == [leaving.seat, 4, 0, 0, 0, 0, 0, 0]
    assert progress_row(html, staying.user.get_full_name()) == [staying.seat, 0, 4, 0, 0, 0, 0, 0]
    assert PanelMember.objects.filter(panel=panel).count() == 6


def test_open_flags_are_listed_once_every_sheet_is_in(client_for, scoring_panel, opened, official):
    members = score_everything(
        scoring_panel, opened.bids, with_bid_a(["41", "44", "40", "45", "10"])
    )
    html = text_of(english(client_for(official)).get(panel_url(opened.tender)))
    assert "Open deviation flags" in html
    assert f"Seat {members[4].seat}, {members[4].user.get_full_name()}" in html
    assert opened.bids[0].organization.name in html


def test_the_tender_page_links_to_the_panel(client_for, panel, opened, official):
    html = text_of(
        english(client_for(official)).get(reverse("tenders:detail", args=[opened.tender.pk]))
    )
    assert panel_url(opened.tender) in html
    member = active_members(panel)[0]
    html = text_of(client_for(member.user).get(reverse("tenders:detail", args=[opened.tender.pk])))
    assert reverse("evaluation:declaration", args=[member.pk]) in html


def test_the_tender_page_offers_to_form_the_panel_after_the_review(client_for, opened, official):
    html = text_of(
        english(client_for(official)).get(reverse("tenders:detail", args=[opened.tender.pk]))
    )
    assert "Form the evaluation panel" in html


def test_the_tender_page_says_nothing_of_a_panel_before_the_opening(
    client_for, make_tender, official
):
    tender = make_tender()
    html = text_of(english(client_for(official)).get(reverse("tenders:detail", args=[tender.pk])))
    assert panel_url(tender) not in html
    assert "evaluation-heading" not in html


def test_the_office_dashboard_counts_panels_under_way(client_for, panel, official, opened):
    html = text_of(english(client_for(official)).get(reverse("dashboard")))
    assert "Panels under way" in html
    assert panel_url(opened.tender) in html
    assert "Rankings ready for the award" in html


# --- English -------------------------------------------------------------------------------------


def test_the_panel_pages_in_english_have_no_chinese_outside_the_data(
    client_for, opened, official, excluded
):
    panel, _conflicted = excluded
    declare_all(panel)
    client = english(client_for(official))
    for url in (panel_url(opened.tender), reverse("tenders:detail", args=[opened.tender.pk])):
        html = text_of(client.get(url))
        # Exclusion details are stored in the office's language of record (Chinese).
        details = [item["detail"] for draw in PanelDraw.objects.all() for item in draw.excluded]
        assert chinese_outside_data(html, details) == [], url


def test_the_form_in_english_has_no_chinese_outside_the_data(client_for, opened, official, pool):
    html = text_of(english(client_for(official)).get(panel_url(opened.tender)))
    assert chinese_outside_data(html) == []
