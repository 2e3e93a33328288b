"""API v1 panels (CONTRACTS section 3): forming the panel by a random draw or with named
experts, reading it, the members' conflict-of-interest declarations with replacement draws,
and the bids shown to the panel only after the declaration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from evaluation.models import MemberStatus, Panel, PanelDraw, PanelMember, PanelStatus
from evaluation.services import assessor_employment_add
from evaluation.services.panels import EMPLOYED_BY_BIDDER, shuffled
from marketplace.models import AuditAction, Role, User
from tenders.models import TenderStatus
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import declare_all, form_panel
from tests.evaluation.test_api_support import (
    BUILT_AT,
    ERROR_KEYS,
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

MEMBER_FIELDS = {"id", "user", "name", "kind", "seat", "status"}
MISSING = 999_999


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the pool of twelve experts
    and three opened tenders with four qualified bids each, "opened" without a panel,
    "declaring" with a drawn panel nobody has declared on yet, "scoring" with every member
    declared."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        for name in ("opened", "declaring", "scoring"):
            shared.opened[name] = build_opened(clock)
        official = persona("official", Role.OFFICIAL)
        shared.panels["declaring"] = form_panel(shared.opened["declaring"].tender, official)
        shared.panels["scoring"] = declare_all(
            form_panel(shared.opened["scoring"].tender, official)
        )
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The opened tender without a panel; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("opened")


@pytest.fixture
def declaring(_built, db, clock) -> Evaluated:
    """The tender whose panel of five was drawn from the pool, nobody declared."""
    clock.set(_built.built_until)
    return _built.evaluated("declaring")


@pytest.fixture
def scoring(_built, db, clock) -> Evaluated:
    """The tender whose panel members have all declared: scoring started."""
    clock.set(_built.built_until)
    return _built.evaluated("scoring")


def panel_url(tender) -> str:
    pk = tender if isinstance(tender, int) else tender.pk
    return f"/api/v1/tenders/{pk}/panel/"


def declaration_url(tender) -> str:
    pk = tender if isinstance(tender, int) else tender.pk
    return f"/api/v1/tenders/{pk}/declaration/"


def bids_url(tender) -> str:
    pk = tender if isinstance(tender, int) else tender.pk
    return f"/api/v1/tenders/{pk}/panel/bids/"


# --- Forming the panel -------------------------------------------------------------------------


def test_an_official_draws_the_panel_and_gets_the_contract_shape(opened, official, pool):
    response = post(api(official), panel_url(opened.tender), {"draw": 5})

    assert response.status_code == 201, response.content
    body = response.json()
    panel = Panel.objects.get(tender=opened.tender)
    draw = PanelDraw.objects.get(panel=panel)
    assert body["id"] == panel.pk
    assert body["status"] == "declaring"
    assert len(body["members"]) == 5
    for line in body["members"]:
        assert set(line) >= MEMBER_FIELDS
        assert (line["kind"], line["status"]) == ("expert", "assigned")
    assert {line["user"] for line in body["members"]} == set(draw.drawn)
    assert [line["seat"] for line in body["members"]] == [1, 2, 3, 4, 5]
    assert body["seed"] == draw.seed
    assert body["excluded"] == []
    assert body["draws"][0]["seed"] == draw.seed
    assert body["chair"] == body["members"][0]["user"]
    # The office sees each member's progress: sheets counted by status, no scores.
    assert [row["counts"] for row in body["progress"]] == [{"assigned": 4}] * 5
    opened.tender.refresh_from_db()
    assert opened.tender.status == TenderStatus.EVALUATING
    (formed,) = opened.events(AuditAction.PANEL_FORMED)
    assert formed.actor_id == official.pk
    (drawn,) = opened.events(AuditAction.PANEL_DRAWN)
    assert drawn.details["seed"] == draw.seed


def test_named_experts_sit_on_the_panel_with_the_chosen_chair(opened, official, pool):
    named = [user.pk for user in pool[:5]]

    response = post(
        api(official), panel_url(opened.tender), {"members": named, "chair": pool[2].pk}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [line["user"] for line in body["members"]] == named
    assert body["chair"] == pool[2].pk
    assert [line["is_chair"] for line in body["members"]] == [False, False, True, False, False]
    # Nobody was drawn: no seed, no draw.
    assert body["seed"] is None
    assert body["draws"] == []
    assert opened.events(AuditAction.PANEL_DRAWN) == []
    assert len(opened.events(AuditAction.PANEL_FORMED)) == 1


def test_the_draw_records_who_was_excluded_and_only_the_office_and_auditors_see_it(
    opened, official, auditor, pool, monkeypatch
):
    seed = "a" * 32
    monkeypatch.setattr("evaluation.services.panels.secrets.token_hex", lambda n: seed)
    first = shuffled(sorted(user.pk for user in pool), seed)[0]
    conflicted = next(user for user in pool if user.pk == first)
    assessor_employment_add(
        profile=conflicted.assessor_profile,
        actor=official,
        employer_name="",
        organization=opened.bidders[0].organization,
        start_date=date(2020, 1, 1),
    )

    body = post(api(official), panel_url(opened.tender), {"draw": 5}).json()

    (excluded,) = body["excluded"]
    assert excluded["user"] == conflicted.pk
    assert excluded["reason"] == EMPLOYED_BY_BIDDER
    assert opened.bidders[0].organization.name in excluded["detail"]
    assert conflicted.pk not in {line["user"] for line in body["members"]}
    assert body["exclusions_visible"] is True

    audited = api(auditor).get(panel_url(opened.tender)).json()
    assert audited["excluded"] == body["excluded"]
    assert len(audited["progress"]) == 5

    member = PanelMember.objects.filter(panel__tender=opened.tender).first()
    seen = api(member.user).get(panel_url(opened.tender))
    assert seen.status_code == 200
    seen_body = seen.json()
    assert seen_body["excluded"] == []
    assert seen_body["exclusions_visible"] is False
    assert seen_body["draws"][0]["excluded"] == []
    assert seen_body["progress"] is None
    assert seen_body["seed"] == seed


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"draw": 4}, "draw"),
        ({"draw": "five"}, "draw"),
        ({"draw": 0}, "draw"),
        ({"members": [MISSING]}, "members"),
        ({"chair": MISSING}, "chair"),
        ({"size": 5}, "size"),
    ],
)
def test_bad_panel_input_names_the_field_and_saves_nothing(opened, official, pool, data, field):
    response = post(api(official), panel_url(opened.tender), data)

    assert is_error(response, 400, field), response.content
    assert not Panel.objects.filter(tender=opened.tender).exists()
    assert opened.events(AuditAction.PANEL_FORMED) == []
    opened.tender.refresh_from_db()
    assert opened.tender.status == TenderStatus.OPENED


def test_a_named_member_in_conflict_is_refused_under_members(opened, official, pool):
    assessor_employment_add(
        profile=pool[0].assessor_profile,
        actor=official,
        employer_name="",
        organization=opened.bidders[1].organization,
        start_date=date(2021, 3, 1),
    )

    response = post(api(official), panel_url(opened.tender), {"members": [pool[0].pk]})

    assert is_error(response, 400, "members")
    assert opened.bidders[1].organization.name in response.json()["fields"]["members"][0]
    assert not Panel.objects.filter(tender=opened.tender).exists()


@pytest.mark.parametrize("persona", ["assessor", "auditor", "registry_admin", "outsider"])
def test_only_officials_form_a_panel(request, opened, pool, persona):
    response = post(api(request.getfixturevalue(persona)), panel_url(opened.tender), {"draw": 5})

    assert is_error(response, 403)
    assert not Panel.objects.filter(tender=opened.tender).exists()


def test_a_bidder_cannot_form_the_panel(opened, pool):
    response = post(api(opened.bidders[0].admin), panel_url(opened.tender), {"draw": 5})

    assert is_error(response, 403)
    assert not Panel.objects.filter(tender=opened.tender).exists()


def test_forming_a_panel_needs_a_signed_in_caller(opened, pool):
    response = post(anonymous(), panel_url(opened.tender), {"draw": 5})

    assert is_error(response, 401)
    assert not Panel.objects.filter(tender=opened.tender).exists()


def test_a_second_panel_is_refused(declaring, official):
    response = post(api(official), panel_url(declaring.tender), {"draw": 5})

    assert is_error(response, 400)
    assert Panel.objects.filter(tender=declaring.tender).count() == 1


def test_no_panel_before_the_opening(make_tender, official, pool):
    tender = make_tender()

    response = post(api(official), panel_url(tender), {"draw": 5})

    assert is_error(response, 400)
    assert not Panel.objects.filter(tender=tender).exists()


@pytest.mark.parametrize("method", [put, patch])
def test_the_panel_is_not_changed_in_place(opened, official, pool, method):
    response = method(api(official), panel_url(opened.tender), {"draw": 5})

    assert response.status_code == 405
    assert set(response.json()) == ERROR_KEYS


def test_the_panel_is_not_deleted(declaring, official):
    assert delete(api(official), panel_url(declaring.tender)).status_code == 405
    assert Panel.objects.filter(tender=declaring.tender).count() == 1


# --- Reading the panel -------------------------------------------------------------------------


def test_someone_elses_panel_is_a_404_like_a_missing_tender(declaring, pool, org_admin):
    seated = {m.user_id for m in declaring.panel.members.all()}
    stranger = next(user for user in pool if user.pk not in seated)
    missing = api(stranger).get(panel_url(MISSING))
    assert missing.status_code == 404

    for user in (stranger, org_admin, declaring.bidders[0].admin):
        response = api(user).get(panel_url(declaring.tender))
        assert response.status_code == 404
        assert response.json() == missing.json()


def test_a_tender_without_a_panel_has_none_to_read(opened, official):
    assert is_error(api(official).get(panel_url(opened.tender)), 404)


def test_reading_the_panel_needs_a_signed_in_caller(declaring):
    assert is_error(anonymous().get(panel_url(declaring.tender)), 401)


# --- Declarations ------------------------------------------------------------------------------


def test_a_member_declares_no_conflict_and_the_last_declaration_starts_scoring(declaring):
    first, *others, last = declaring.members

    response = post(
        api(first.user), declaration_url(declaring.tender), {"conflict": False, "statement": "无"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "declared"
    assert body["replacement"] is None
    assert body["panel_status"] == "declaring"
    (declared,) = declaring.events(AuditAction.PANEL_DECLARED)
    assert declared.actor_id == first.user_id
    assert declared.details["statement"] == "无"

    for member in others:
        post(api(member.user), declaration_url(declaring.tender), {"conflict": False})
    response = post(api(last.user), declaration_url(declaring.tender), {"conflict": False})
    assert response.json()["panel_status"] == "scoring"
    assert len(declaring.events(AuditAction.PANEL_SCORING_STARTED)) == 1


def test_a_member_who_declares_a_conflict_is_replaced_by_a_new_draw(declaring):
    leaving = declaring.members[1]

    response = post(
        api(leaving.user),
        declaration_url(declaring.tender),
        {"conflict": True, "statement": "本人配偶在投标机构任职。"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "replaced"
    assert body["conflict"] is True
    newcomer = PanelMember.objects.get(panel=declaring.panel, seat=leaving.seat, status="assigned")
    assert body["replacement"] == {
        "id": newcomer.pk,
        "seat": leaving.seat,
        "kind": "expert",
        "status": "assigned",
    }
    (event,) = declaring.events(AuditAction.PANEL_CONFLICT_DECLARED)
    assert event.details["replacement"]["user"] == newcomer.user_id
    # The member has left: the panel is no longer theirs to read.
    assert api(leaving.user).get(panel_url(declaring.tender)).status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"conflict": True, "statement": ""}, "statement"),
        ({"statement": "无"}, "conflict"),
        ({"conflict": "maybe"}, "conflict"),
        ({"conflict": False, "signed": True}, "signed"),
    ],
)
def test_a_bad_declaration_names_the_field_and_changes_nothing(declaring, data, field):
    member = declaring.members[0]

    response = post(api(member.user), declaration_url(declaring.tender), data)

    assert is_error(response, 400, field), response.content
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED
    assert declaring.events(AuditAction.PANEL_DECLARED) == []
    assert declaring.events(AuditAction.PANEL_CONFLICT_DECLARED) == []


@pytest.mark.parametrize("persona", ["auditor", "registry_admin", "outsider"])
def test_only_panel_members_declare(request, declaring, persona):
    response = post(
        api(request.getfixturevalue(persona)),
        declaration_url(declaring.tender),
        {"conflict": False},
    )

    assert is_error(response, 403)
    assert declaring.events(AuditAction.PANEL_DECLARED) == []


def test_an_assessor_off_the_panel_declares_nothing_a_404_like_a_missing_tender(declaring, pool):
    seated = {m.user_id for m in declaring.panel.members.all()}
    stranger = next(user for user in pool if user.pk not in seated)
    client = api(stranger)

    response = post(client, declaration_url(declaring.tender), {"conflict": False})
    missing = post(client, declaration_url(MISSING), {"conflict": False})

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert declaring.events(AuditAction.PANEL_DECLARED) == []


def test_a_member_declares_once(declaring):
    member = declaring.members[0]
    client = api(member.user)
    post(client, declaration_url(declaring.tender), {"conflict": False})

    again = post(client, declaration_url(declaring.tender), {"conflict": True, "statement": "改了"})

    assert is_error(again, 403)
    assert len(declaring.events(AuditAction.PANEL_DECLARED)) == 1
    assert declaring.events(AuditAction.PANEL_CONFLICT_DECLARED) == []


def test_declaring_needs_a_signed_in_caller_and_a_post(declaring):
    member = declaring.members[0]
    assert is_error(post(anonymous(), declaration_url(declaring.tender), {"conflict": False}), 401)
    assert api(member.user).get(declaration_url(declaring.tender)).status_code == 405


# --- Bids for the panel ------------------------------------------------------------------------


def test_a_member_reads_the_bids_only_after_declaring(declaring):
    member = declaring.members[0]
    client = api(member.user)
    before = client.get(bids_url(declaring.tender))
    missing = client.get(bids_url(MISSING))
    assert before.status_code == missing.status_code == 404
    assert before.json() == missing.json()

    post(client, declaration_url(declaring.tender), {"conflict": False})
    response = client.get(bids_url(declaring.tender))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 4
    assert {row["id"] for row in body["results"]} == {str(bid.pk) for bid in declaring.bids}
    assert {row["price"] for row in body["results"]} == {
        "480000.00",
        "450000.00",
        "430000.00",
        "470000.00",
    }
    assert all(row["sealed"] is False for row in body["results"])


def test_the_office_reads_the_bids_under_evaluation_and_others_do_not(scoring, official, org_admin):
    assert api(official).get(bids_url(scoring.tender)).json()["count"] == 4
    assert is_error(api(org_admin).get(bids_url(scoring.tender)), 404)
    # A bidder reads its own bid on its own page, never the others through the panel.
    assert is_error(api(scoring.bidders[0].admin).get(bids_url(scoring.tender)), 404)
    assert is_error(anonymous().get(bids_url(scoring.tender)), 401)
    assert post(api(official), bids_url(scoring.tender), {}).status_code == 405


def test_a_declared_panel_lists_its_members_as_declared(scoring, official):
    body = api(official).get(panel_url(scoring.tender)).json()

    assert body["status"] == PanelStatus.SCORING
    assert {line["status"] for line in body["members"]} == {"declared"}
    assert [row["declared"] for row in body["progress"]] == [True] * 5
