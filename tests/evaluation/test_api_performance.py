"""API v1 ``performance-evaluations`` and ``performance-indicator-sets``: scoped reads (a draft's
scores are the assessor's only), assignment, declaration, draft scores, submission with the
payment it decides, the reply and the withdrawal; every role refused on every route."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluation.models import PerformanceEvaluation, PerformanceEvaluationStatus
from evaluation.services import performance as services
from marketplace.models import AuditAction, Role
from tenders.models import MilestoneStatus
from tests.conftest import building, module_database, persona
from tests.evaluation.performance_support import (
    CONCLUSION,
    EVIDENCE,
    Built,
    assign,
    build_active,
    evaluate,
    scores_at,
)
from tests.evaluation.test_api_support import anonymous, api, events, get, is_error, post, put
from tests.tenders.test_award import RANKED_AT

EVALUATIONS = "/api/v1/performance-evaluations/"
SETS = "/api/v1/performance-indicator-sets/"
MISSING = 999_999


def url(evaluation: PerformanceEvaluation | int, action: str = "") -> str:
    pk = evaluation if isinstance(evaluation, int) else evaluation.pk
    return f"{EVALUATIONS}{pk}/" + (f"{action}/" if action else "")


@pytest.fixture(scope="module")
def _built_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Built]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        for username, role in [("approver", Role.APPROVER), ("auditor", Role.AUDITOR)]:
            persona(username, role)
        yield build_active(clock)


@pytest.fixture
def built(_built_once, db, clock) -> Built:
    clock.set(_built_once.built_until)
    return _built_once


@pytest.fixture
def draft(built) -> PerformanceEvaluation:
    """A mid-term evaluation, declared, with a partial draft."""
    assessor = built.assessor("independent")
    evaluation = assign(built, "mid_term", assessor)
    services.performance_declare(evaluation=evaluation, actor=assessor)
    services.performance_scores_save(
        evaluation=evaluation, actor=assessor, scores={"D1": ("7", EVIDENCE)}
    )
    return PerformanceEvaluation.objects.get(pk=evaluation.pk)


@pytest.fixture
def final(built) -> PerformanceEvaluation:
    """A submitted final evaluation graded good (85.2 points): public."""
    return evaluate(built, "final", built.assessor("second"), "0.85")


def _complete(evaluation: PerformanceEvaluation, assessor) -> None:
    services.performance_scores_save(
        evaluation=evaluation,
        actor=assessor,
        scores=scores_at(evaluation, "0.7"),
        conclusion=CONCLUSION,
    )


# --- Reads ------------------------------------------------------------------------------------


def test_the_list_is_scoped_to_the_caller(built, draft, final, auditor, outsider):
    def ids(client, query=None):
        response = get(client, EVALUATIONS, query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(api(built.official)) == {draft.pk, final.pk}
    assert ids(api(auditor)) == {draft.pk, final.pk}
    assert ids(api(built.assessor("independent"))) == {draft.pk, final.pk}
    assert ids(api(built.supplier_member)) == {final.pk}
    assert ids(api(outsider)) == {final.pk}
    assert ids(anonymous()) == {final.pk}
    assert ids(api(built.official), {"kind": "mid_term"}) == {draft.pk}
    assert ids(api(built.official), {"grade": "good"}) == {final.pk}
    assert ids(api(built.official), {"status": "assigned"}) == {draft.pk}
    organization = built.contract.organization_id
    assert ids(api(built.official), {"organization": organization}) == {draft.pk, final.pk}


def test_a_bad_filter_is_a_400_naming_it(built):
    response = get(api(built.official), EVALUATIONS, {"grade": "superb"})

    assert is_error(response, 400, "grade")


def test_the_list_takes_a_constant_number_of_queries(built, final, draft):
    client = api(built.official)
    with CaptureQueriesContext(connection) as two:
        assert get(client, EVALUATIONS).json()["count"] == 2
    services.performance_evaluation_withdraw(evaluation=draft, actor=built.official, reason="换人")
    assign(built, "mid_term", built.assessor("former"))
    with CaptureQueriesContext(connection) as three:
        assert get(client, EVALUATIONS).json()["count"] == 3

    assert len(three) == len(two)


def test_a_draft_and_its_scores_are_the_assessors_only(built, draft, auditor):
    mine = get(api(built.assessor("independent")), url(draft, "scores"))
    assert mine.status_code == 200
    scored = {row["indicator"]: row["score"] for row in mine.json()["scores"]}
    assert scored["D1"] == "7.0"
    assert scored["O1"] is None

    for user in (built.supplier_admin, built.assessor("second")):
        assert get(api(user), url(draft)).status_code == 404
        assert get(api(user), url(draft, "scores")).status_code == 404
    # The street office and auditors read the evaluation, not the draft's scores.
    for user in (built.official, auditor):
        body = get(api(user), url(draft)).json()
        assert body["status"] == "assigned"
        assert body["scores"] == []
        assert get(api(user), url(draft, "scores")).status_code == 404
    assert get(anonymous(), url(draft)).status_code == 404


def test_a_final_result_is_public_without_the_assessor(built, final):
    body = get(anonymous(), url(final)).json()

    assert body["grade"] == "good"
    assert body["total_score"] == "85.2"  # each indicator at 85%, to 0.1
    assert body["assessor"] is None
    assert len(body["scores"]) == 11
    assert {g["group"] for g in body["groups"]} == {"decision", "process", "output", "benefit"}
    assert body["milestone"]["status"] == "paid"
    assert body["milestone"]["released_amount"] == "144000.00"
    assert get(api(built.official), url(final)).json()["assessor"] == "Perf_Second"


def test_a_missing_evaluation_is_a_404(built):
    assert get(api(built.official), url(MISSING)).status_code == 404


# --- Assignment ---------------------------------------------------------------------------------


def _assign_body(built, name="independent", kind="mid_term"):
    return {
        "contract": built.contract_id,
        "kind": kind,
        "assessor": built.assessor_ids[name],
        "due_date": (timezone.localdate() + timezone.timedelta(days=30)).isoformat(),
    }


def test_an_official_assigns_through_the_api(built):
    response = post(api(built.official), EVALUATIONS, _assign_body(built))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "assigned"
    assert body["milestone"]["sequence"] == 2
    (event,) = events(AuditAction.PERFORMANCE_ASSIGNED)
    assert event.object_id == str(body["id"])


def test_an_assessor_in_conflict_is_refused_naming_the_conflict(built):
    response = post(api(built.official), EVALUATIONS, _assign_body(built, "employed"))

    assert is_error(response, 400, "assessor")
    assert "employed by the supplier" in response.json()["fields"]["assessor"][0]
    assert not PerformanceEvaluation.objects.exists()


def test_assignment_refusals(built, auditor):
    assert post(api(built.supplier_admin), EVALUATIONS, _assign_body(built)).status_code == 403
    assert post(api(auditor), EVALUATIONS, _assign_body(built)).status_code == 403
    assert (
        post(api(built.assessor("independent")), EVALUATIONS, _assign_body(built)).status_code
        == 403
    )
    assert post(anonymous(), EVALUATIONS, _assign_body(built)).status_code in (401, 403)
    missing = {**_assign_body(built), "contract": MISSING}
    assert post(api(built.official), EVALUATIONS, missing).status_code == 404
    unknown = {**_assign_body(built), "colour": "red"}
    assert is_error(post(api(built.official), EVALUATIONS, unknown), 400, "colour")
    assert (
        api(built.official).put(EVALUATIONS, {}, content_type="application/json").status_code == 405
    )
    assert not events(AuditAction.PERFORMANCE_ASSIGNED)


# --- The assessor's work --------------------------------------------------------------------------


def test_declare_save_and_submit_through_the_api(built):
    assessor = built.assessor("independent")
    evaluation = assign(built, "mid_term", assessor)
    client = api(assessor)

    assert post(client, url(evaluation, "declare")).json()["declared_at"] is not None
    bad = put(
        client, url(evaluation, "scores"), {"scores": {"O1": {"score": "16", "evidence": ""}}}
    )
    assert is_error(bad, 400, "O1")
    scores = {
        code: {"score": str(score), "evidence": evidence}
        for code, (score, evidence) in scores_at(evaluation, "0.5").items()
    }
    saved = put(client, url(evaluation, "scores"), {"scores": scores, "conclusion": CONCLUSION})
    assert saved.status_code == 200, saved.json()
    assert saved.json()["total"] == "50.0"
    assert saved.json()["grade"] == "poor"
    submitted = post(client, url(evaluation, "submit"))

    assert submitted.status_code == 200, submitted.json()
    body = submitted.json()
    assert body["grade"] == "poor"
    assert body["milestone"]["status"] == MilestoneStatus.WITHHELD
    assert body["milestone"]["withheld_amount"] == "192000.00"
    assert "Fair" in body["milestone"]["reason"] or "中" in body["milestone"]["reason"]
    assert len(events(AuditAction.PERFORMANCE_DECLARED)) == 1
    assert len(events(AuditAction.PERFORMANCE_SUBMITTED)) == 1


def test_an_incomplete_submission_names_each_missing_indicator(built, draft):
    response = post(api(built.assessor("independent")), url(draft, "submit"))

    assert is_error(response, 400, "O1", "B3", "conclusion")
    assert PerformanceEvaluation.objects.get(pk=draft.pk).status == "assigned"


def test_wrong_methods_are_refused(built, draft):
    client = api(built.assessor("independent"))
    for action in ("declare", "submit", "reply", "withdraw"):
        assert get(client, url(draft, action)).status_code == 405
    assert (
        client.patch(url(draft, "scores"), {}, content_type="application/json").status_code == 405
    )
    assert client.delete(url(draft)).status_code == 405


# --- Reply and withdrawal -------------------------------------------------------------------------


def test_the_supplier_admin_replies_once_through_the_api(built, final):
    client = api(built.supplier_admin)

    first = post(client, url(final, "reply"), {"reply": "感谢评价。"})
    second = post(client, url(final, "reply"), {"reply": "再次回复。"})

    assert first.status_code == 200
    assert first.json()["status"] == "replied"
    assert is_error(second, 400)
    assert post(api(built.supplier_member), url(final, "reply"), {"reply": "x"}).status_code == 403
    assert len(events(AuditAction.PERFORMANCE_REPLIED)) == 1


def test_an_official_withdraws_through_the_api(built, draft):
    refused = post(api(built.official), url(draft, "withdraw"), {"reason": ""})
    assert is_error(refused, 400, "reason")

    response = post(api(built.official), url(draft, "withdraw"), {"reason": "评估人员回避。"})

    assert response.status_code == 200
    assert response.json()["status"] == PerformanceEvaluationStatus.WITHDRAWN
    assert len(events(AuditAction.PERFORMANCE_WITHDRAWN)) == 1


# --- Every role refused on every route -------------------------------------------------------

ROUTES = [
    ("post", "declare", None),
    ("put", "scores", {"scores": {"D1": {"score": "1", "evidence": EVIDENCE}}}),
    ("post", "submit", None),
    ("post", "reply", {"reply": "回复"}),
    ("post", "withdraw", {"reason": "理由"}),
]


def _call(client, method, evaluation, action, body):
    if method == "put":
        return put(client, url(evaluation, action), body)
    return post(client, url(evaluation, action), body)


@pytest.mark.parametrize(("method", "action", "body"), ROUTES)
@pytest.mark.parametrize(
    "who",
    [
        "supplier_admin",
        "supplier_member",
        "other_assessor",
        "outsider",
        "registry_admin",
        "auditor",
        "anonymous",
    ],
)
def test_every_role_is_refused_on_a_draft(built, draft, who, method, action, body, request):
    users = {
        "supplier_admin": built.supplier_admin,
        "supplier_member": built.supplier_member,
        "other_assessor": built.assessor("second"),
        "outsider": request.getfixturevalue("outsider"),
        "registry_admin": request.getfixturevalue("registry_admin"),
        "auditor": persona("auditor", Role.AUDITOR),
    }
    client = anonymous() if who == "anonymous" else api(users[who])

    response = _call(client, method, draft, action, body)

    # The draft is invisible to all but the assessor and the street office (404); the
    # auditor reads it but may not act (403); an anonymous caller is not signed in.
    expected = {"anonymous": (401, 403), "auditor": (403,)}.get(who, (404,))
    assert response.status_code in expected
    after = PerformanceEvaluation.objects.get(pk=draft.pk)
    assert after.status == PerformanceEvaluationStatus.ASSIGNED


@pytest.mark.parametrize(("method", "action", "body"), [r for r in ROUTES if r[1] != "withdraw"])
def test_officials_do_not_do_the_assessors_or_the_organizations_work(
    built, draft, method, action, body
):
    for user in (built.official, persona("approver", Role.APPROVER)):
        response = _call(api(user), method, draft, action, body)
        assert response.status_code == 403


def test_indicator_sets_are_public(built):
    response = get(anonymous(), SETS)

    assert response.status_code == 200
    (current,) = [s for s in response.json()["results"] if s["is_current"]]
    weights = {group: Decimal(str(value)) for group, value in current["weights"].items()}
    assert weights == {
        "decision": Decimal(15),
        "process": Decimal(20),
        "output": Decimal(35),
        "benefit": Decimal(30),
    }
    assert len(current["indicators"]) == 11
    assert get(anonymous(), f"{SETS}{current['id']}/").status_code == 200
    assert get(anonymous(), f"{SETS}{MISSING}/").status_code == 404
    assert post(api(built.official), SETS, {}).status_code == 405


def test_the_schema_describes_every_performance_route(client, db):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    paths = response.json()["paths"]

    for path in (
        "/api/v1/performance-evaluations/",
        "/api/v1/performance-evaluations/{id}/",
        "/api/v1/performance-evaluations/{id}/declare/",
        "/api/v1/performance-evaluations/{id}/scores/",
        "/api/v1/performance-evaluations/{id}/submit/",
        "/api/v1/performance-evaluations/{id}/reply/",
        "/api/v1/performance-evaluations/{id}/withdraw/",
        "/api/v1/performance-indicator-sets/",
        "/api/v1/performance-indicator-sets/{id}/",
    ):
        assert path in paths
    assert set(paths["/api/v1/performance-evaluations/{id}/scores/"]) == {"get", "put"}
