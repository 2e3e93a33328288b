"""API v1 of the integrity screens: ``integrity/flags`` (filters, review actions, refusals,
masked evidence) and ``integrity/screens`` (a queued run with its progress)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evaluation.models import FlagKind, FlagStatus, IntegrityFlag, IntegrityRun, RunStatus
from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry.identifiers import mask_id_number
from tests.conftest import building, module_database, persona
from tests.evaluation.integrity_light import Light, build_light
from tests.evaluation.test_api_support import ERROR_KEYS, anonymous, api, get, is_error, post
from tests.tenders.test_award import RANKED_AT

FLAGS = "/api/v1/integrity/flags/"
SCREENS = "/api/v1/integrity/screens/"


@pytest.fixture(scope="module")
def _light_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Light]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")),
    ):
        yield build_light(tmp_path_factory.mktemp("roster"))


@pytest.fixture
def light(_light_once, db) -> Light:
    return _light_once


def url(flag: IntegrityFlag | int, action: str = "") -> str:
    pk = flag if isinstance(flag, int) else flag.pk
    return f"{FLAGS}{pk}/{action + '/' if action else ''}"


# --- The list ----------------------------------------------------------------------------------


def test_officials_list_the_flags_with_the_contract_fields(light, official):
    response = get(api(official), FLAGS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 2
    assert {"id", "kind", "severity", "subject", "evidence", "status"} <= set(rows[0])
    assert {row["kind"] for row in rows} == {FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION}
    assert {row["subject"]["tender"] for row in rows} == {light.elderly.pk, light.youth.pk}


def test_the_list_filters_by_kind_tender_and_status(light, auditor):
    client = api(auditor)
    rows = get(client, FLAGS, {"tender": light.youth.pk}).json()["results"]
    assert [row["subject"]["tender"] for row in rows] == [light.youth.pk]
    assert get(client, FLAGS, {"kind": "R018_single_bid"}).json()["results"] == []
    assert len(get(client, FLAGS, {"status": "open"}).json()["results"]) == 2
    assert is_error(get(client, FLAGS, {"kind": "nonsense"}), 400, "kind")
    assert is_error(get(client, FLAGS, {"tender": "x"}), 400, "tender")


def test_evidence_id_numbers_are_masked_except_for_auditors(light, official, auditor):
    flag = light.flag(light.elderly)
    masked = get(api(official), url(flag)).json()["evidence"]["posts"][0]["id_number"]
    assert masked == mask_id_number(light.id_number)
    whole = get(api(auditor), url(flag)).json()["evidence"]["posts"][0]["id_number"]
    assert whole == light.id_number


@pytest.mark.parametrize(
    "who", ["org_admin", "org_member", "assessor", "registry_admin", "outsider"]
)
def test_nobody_else_lists_or_reads_flags(request, light, who):
    client = api(request.getfixturevalue(who))
    assert is_error(get(client, FLAGS), 403)
    assert is_error(get(client, url(light.flag(light.elderly))), 404)
    assert is_error(get(client, SCREENS), 403)


def test_anonymous_callers_are_refused(light):
    assert get(anonymous(), FLAGS).status_code in (401, 403)
    assert set(get(anonymous(), FLAGS).json()) == ERROR_KEYS


def test_the_list_takes_a_constant_number_of_queries(
    light, official, django_assert_max_num_queries
):
    client = api(official)
    with django_assert_max_num_queries(12):
        assert get(client, FLAGS).status_code == 200


# --- Review ------------------------------------------------------------------------------------


def test_an_official_confirms_a_flag(light, official):
    flag = light.flag(light.elderly)
    response = post(api(official), url(flag, "confirm"), {"note": "岗位仍在。"})
    assert response.status_code == 200
    assert response.json()["status"] == FlagStatus.CONFIRMED
    assert response.json()["blocks"] is True
    event = AuditEvent.objects.get(action=AuditAction.INTEGRITY_FLAG_CONFIRMED)
    assert event.object_id == str(flag.pk)


def test_a_dismissal_without_a_reason_is_refused_naming_the_field(light, auditor):
    flag = light.flag(light.elderly)
    assert is_error(post(api(auditor), url(flag, "dismiss"), {"reason": ""}), 400, "reason")
    assert is_error(post(api(auditor), url(flag, "dismiss"), {"why": "x"}), 400, "why", "reason")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    response = post(
        api(auditor), url(flag, "dismiss"), {"reason": "该岗位为综合岗，不承担养老服务。"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == FlagStatus.DISMISSED
    assert AuditEvent.objects.filter(action=AuditAction.INTEGRITY_FLAG_DISMISSED).count() == 1


def test_a_confirmed_flag_is_resolved_and_an_open_one_is_not(light, official):
    flag = light.flag(light.elderly)
    assert is_error(post(api(official), url(flag, "resolve"), {"resolution": "已撤销"}), 400)
    post(api(official), url(flag, "confirm"))
    assert is_error(
        post(api(official), url(flag, "resolve"), {"resolution": ""}), 400, "resolution"
    )
    response = post(api(official), url(flag, "resolve"), {"resolution": "岗位已撤销。"})
    assert response.json()["status"] == FlagStatus.RESOLVED
    assert AuditEvent.objects.filter(action=AuditAction.INTEGRITY_FLAG_RESOLVED).count() == 1


def test_review_actions_take_post_only(light, official):
    flag = light.flag(light.elderly)
    for action in ("confirm", "dismiss", "resolve"):
        assert is_error(get(api(official), url(flag, action)), 405)


@pytest.mark.parametrize("who", ["org_admin", "assessor", "registry_admin"])
def test_other_roles_cannot_review_and_see_a_404(request, light, who):
    flag = light.flag(light.elderly)
    client = api(request.getfixturevalue(who))
    for action, body in (
        ("confirm", {}),
        ("dismiss", {"reason": "x"}),
        ("resolve", {"resolution": "x"}),
    ):
        assert is_error(post(client, url(flag, action), body), 404)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    assert not AuditEvent.objects.filter(action__startswith="integrity.flag").exists()


def test_a_missing_flag_is_not_found(light, official):
    assert is_error(post(api(official), url(999999, "confirm")), 404)


# --- Runs --------------------------------------------------------------------------------------


def test_a_run_is_queued_and_reports_its_progress(
    light, auditor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api(auditor), SCREENS, {"tender": light.youth.pk})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == RunStatus.QUEUED
    assert body["tender"] == light.youth.pk
    run = get(api(auditor), f"{SCREENS}{body['id']}/").json()
    assert run["status"] == RunStatus.FINISHED
    assert run["progress"] == 100
    assert run["counts"][FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION] == 1
    assert IntegrityFlag.objects.count() == 2  # the same flags, refreshed


def test_a_run_for_an_unknown_tender_or_by_another_role_is_refused(light, official, org_admin):
    assert is_error(post(api(official), SCREENS, {"tender": 999999}), 404)
    assert is_error(post(api(official), SCREENS, {"tender": "x"}), 400, "tender")
    assert is_error(post(api(org_admin), SCREENS, {}), 403)
    assert is_error(get(api(org_admin), f"{SCREENS}1/"), 404)
    assert not IntegrityRun.objects.filter(requested_by__role=Role.ORG_ADMIN).exists()
    assert persona("official", Role.OFFICIAL)
