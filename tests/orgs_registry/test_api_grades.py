"""API v1 grade assessments (民政部令第39号): the lifecycle end to end, roles and bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import services
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import GradeAssessment, IndicatorScore, Organization
from tests.conftest import PASSWORD, make_user

GRADES = "/api/v1/grades/"
TODAY = date(2026, 11, 25)


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Token {response.json()['token']}"})


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def put(client: Client, url: str, data: dict):
    return client.put(url, data, content_type="application/json")


def events(action: AuditAction, assessment_id: int) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type="orgs_registry.gradeassessment", object_id=str(assessment_id)
        )
    )


def registered_org(registry_admin: User, body: str, *, registered: date) -> Organization:
    """An active social service agency registered on ``registered`` (grades need 2 years)."""
    return services.organization_create(
        name=f"渝中区社工服务中心{body}",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body=body),
        actor=registry_admin,
        verified=True,
        registration_date=registered,
    )


@pytest.fixture
def today(monkeypatch):
    """The registry's calendar: the services read timezone.localdate(); tests move it."""
    state = {"day": TODAY}
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: state["day"])

    def move(day: date) -> date:
        state["day"] = day
        return day

    return move


@pytest.fixture
def graded_org(today, registry_admin) -> Organization:
    return registered_org(registry_admin, "80000001", registered=date(2018, 6, 1))


@pytest.fixture
def graded_admin(graded_org) -> User:
    return make_user("graded_admin", Role.ORG_ADMIN, graded_org)


@pytest.fixture
def requested(graded_org, graded_admin) -> GradeAssessment:
    return services.grade_request(organization=graded_org, actor=graded_admin)


@pytest.fixture
def assessing(requested, registry_admin, assessor) -> GradeAssessment:
    return services.grade_assign(assessment=requested, actor=registry_admin, assessor=assessor)


def all_scores(assessment: GradeAssessment, fraction: str) -> list[dict]:
    return [
        {
            "indicator": indicator.code,
            "score": str(
                (Decimal(indicator.max_points) * Decimal(fraction)).quantize(Decimal("0.1"))
            ),
        }
        for indicator in assessment.indicator_set.indicators.all()
    ]


def as_mapping(scores: list[dict]) -> dict:
    return {row["indicator"]: (Decimal(row["score"]), "") for row in scores}


@pytest.fixture
def confirmed(today, assessing, registry_admin, assessor) -> GradeAssessment:
    services.grade_scores_save(
        assessment=assessing, actor=assessor, scores=as_mapping(all_scores(assessing, "0.86"))
    )
    services.grade_propose(assessment=assessing, actor=assessor)
    services.grade_publicize(assessment=assessing, actor=registry_admin, days=1)
    today(TODAY + timedelta(days=2))
    return services.grade_confirm(assessment=assessing, actor=registry_admin)


# --- The whole lifecycle through the API -------------------------------------------------------


def test_a_grade_goes_from_request_to_confirmation_through_the_api(
    today, graded_org, graded_admin, registry_admin, assessor
):
    org_client = token_client(graded_admin)
    registry = token_client(registry_admin)
    scorer = token_client(assessor)

    # The organization asks.
    response = post(org_client, GRADES, {"organization": graded_org.pk})
    assert response.status_code == 201, response.content
    grade_id = response.json()["id"]
    assert response.json()["status"] == "requested"
    url = f"{GRADES}{grade_id}/"
    assert len(events(AuditAction.GRADE_REQUESTED, grade_id)) == 1

    # The registry assigns an assessor.
    response = post(registry, f"{url}assign/", {"assessor": assessor.pk})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["assessor"]) == ("assessing", assessor.pk)
    assert len(events(AuditAction.GRADE_ASSIGNED, grade_id)) == 1

    # The assessor reads the indicators and scores every one (86%: 860 points, 4A).
    detail = scorer.get(url).json()
    assert len(detail["indicators"]) == 17
    assert sum(i["max_points"] for i in detail["indicators"]) == 1000
    assert detail["scores"] == []
    assessment = GradeAssessment.objects.get(pk=grade_id)
    scores = all_scores(assessment, "0.86")
    response = put(scorer, f"{url}scores/", {"scores": scores, "comment": "制度健全"})
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["total_score"]) == Decimal("860.0")
    assert len(response.json()["scores"]) == 17
    assert len(events(AuditAction.GRADE_SCORED, grade_id)) == 1

    response = post(scorer, f"{url}propose/")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["proposed_grade"]) == ("proposed", "4A")
    assert len(events(AuditAction.GRADE_PROPOSED, grade_id)) == 1

    # Public notice for 7 days; the organization asks for a review within it.
    response = post(registry, f"{url}publicize/", {"days": 7})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "publicized"
    assert response.json()["notice_ends"] == (TODAY + timedelta(days=7)).isoformat()
    assert len(events(AuditAction.GRADE_PUBLICIZED, grade_id)) == 1

    today(TODAY + timedelta(days=3))
    response = post(org_client, f"{url}review-request/", {"reason": "财务指标漏计"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "review_requested"
    assert len(events(AuditAction.GRADE_REVIEW_REQUESTED, grade_id)) == 1

    # The review corrects one score: 860 - 137.6 + 160 = 882.4, still 4A.
    finance = next(s for s in scores if s["indicator"] == "G4")
    response = post(
        registry,
        f"{url}review/",
        {"conclusion": "财务资产管理得分更正", "scores": [{"indicator": "G4", "score": "160"}]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "reviewed"
    expected = Decimal("860.0") - Decimal(finance["score"]) + Decimal("160")
    assert Decimal(body["total_score"]) == expected
    assert body["proposed_grade"] == "4A"
    assert len(events(AuditAction.GRADE_REVIEWED, grade_id)) == 1

    # The registry confirms; the grade is public and in force for five years.
    response = post(registry, f"{url}confirm/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["grade"]) == ("confirmed", "4A")
    assert body["valid_from"] == (TODAY + timedelta(days=3)).isoformat()
    assert body["valid_until"] == date(2031, 11, 27).isoformat()
    assert len(events(AuditAction.GRADE_CONFIRMED, grade_id)) == 1

    current = Client().get(f"/api/v1/organizations/{graded_org.pk}/grade/").json()
    assert (current["id"], current["grade"]) == (grade_id, "4A")
    listed = Client().get("/api/v1/organizations/", {"grade": "4A"}).json()["results"]
    assert [row["id"] for row in listed] == [graded_org.pk]


def test_the_registry_downgrades_a_confirmed_grade(client_for, registry_admin, confirmed):
    response = post(
        client_for(registry_admin), f"{GRADES}{confirmed.pk}/downgrade/", {"reason": "年检不合格"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["grade"]) == ("downgraded", "3A")
    assert response.json()["change_reason"] == "年检不合格"
    assert len(events(AuditAction.GRADE_DOWNGRADED, confirmed.pk)) == 1


def test_the_registry_cancels_a_grade(client_for, registry_admin, confirmed, graded_org):
    response = post(
        client_for(registry_admin), f"{GRADES}{confirmed.pk}/cancel/", {"reason": "弄虚作假"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert len(events(AuditAction.GRADE_CANCELLED, confirmed.pk)) == 1
    assert Client().get(f"/api/v1/organizations/{graded_org.pk}/grade/").json() is None


def test_the_registry_cancels_an_assessment_in_progress(client_for, registry_admin, requested):
    response = post(
        client_for(registry_admin), f"{GRADES}{requested.pk}/cancel/", {"reason": "撤回"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


# --- Dates ------------------------------------------------------------------------------------


def test_confirmation_waits_for_the_end_of_the_notice(
    today, client_for, registry_admin, assessing, assessor
):
    services.grade_scores_save(
        assessment=assessing, actor=assessor, scores=as_mapping(all_scores(assessing, "0.9"))
    )
    services.grade_propose(assessment=assessing, actor=assessor)
    services.grade_publicize(assessment=assessing, actor=registry_admin, days=7)
    client = client_for(registry_admin)
    response = post(client, f"{GRADES}{assessing.pk}/confirm/")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert events(AuditAction.GRADE_CONFIRMED, assessing.pk) == []
    today(TODAY + timedelta(days=8))
    response = post(client, f"{GRADES}{assessing.pk}/confirm/")
    assert response.status_code == 200
    assert response.json()["grade"] == "5A"


def test_a_review_after_the_notice_is_refused(
    today, client_for, graded_admin, registry_admin, assessing, assessor
):
    services.grade_scores_save(
        assessment=assessing, actor=assessor, scores=as_mapping(all_scores(assessing, "0.7"))
    )
    services.grade_propose(assessment=assessing, actor=assessor)
    services.grade_publicize(assessment=assessing, actor=registry_admin, days=7)
    today(TODAY + timedelta(days=10))
    url = f"{GRADES}{assessing.pk}/review-request/"
    response = post(client_for(graded_admin), url, {"reason": "不服"})
    assert response.status_code == 400
    assessing.refresh_from_db()
    assert assessing.status == "publicized"


# --- Requests ----------------------------------------------------------------------------------


def test_an_organization_that_is_not_eligible_gets_the_reasons(today, client_for, registry_admin):
    young = registered_org(registry_admin, "80000002", registered=TODAY - timedelta(days=300))
    admin = make_user("young_admin", Role.ORG_ADMIN, young)
    client = client_for(admin)
    response = client.post(
        GRADES,
        {"organization": young.pk},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    body = response.json()
    [reason] = body["fields"]["non_field_errors"]
    assert "two full years of registration" in reason
    assert body["detail"] == reason
    assert GradeAssessment.objects.count() == 0


def test_a_second_request_while_one_is_open_is_refused(client_for, graded_admin, requested):
    response = post(client_for(graded_admin), GRADES, {"organization": requested.organization_id})
    assert response.status_code == 400
    assert GradeAssessment.objects.count() == 1


def test_an_unknown_organization_is_a_400_naming_the_field(client_for, graded_admin):
    response = post(client_for(graded_admin), GRADES, {"organization": 987654})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["organization"]


@pytest.mark.parametrize("persona", ["org_member", "other_org_admin", "registry_admin", "assessor"])
def test_only_the_org_admin_requests_its_grade(request, client_for, graded_org, persona):
    user = request.getfixturevalue(persona)
    response = post(client_for(user), GRADES, {"organization": graded_org.pk})
    assert response.status_code == 403
    assert GradeAssessment.objects.count() == 0


def test_grades_are_not_deleted_or_replaced(client_for, registry_admin, requested):
    client = client_for(registry_admin)
    assert client.delete(f"{GRADES}{requested.pk}/").status_code == 405
    assert put(client, f"{GRADES}{requested.pk}/", {}).status_code == 405


# --- Roles on an assessment ---------------------------------------------------------------------


def test_someone_elses_assessment_is_a_404(client_for, other_org_admin, requested):
    client = client_for(other_org_admin)
    assert client.get(f"{GRADES}{requested.pk}/").status_code == 404
    assert client.get(GRADES).json()["results"] == []
    response = post(client, f"{GRADES}{requested.pk}/cancel/", {"reason": "x"})
    assert response.status_code == 404
    response = post(client, f"{GRADES}{requested.pk}/review-request/", {"reason": "x"})
    assert response.status_code == 404


def test_only_the_registry_assigns(client_for, graded_admin, requested, assessor):
    response = post(
        client_for(graded_admin), f"{GRADES}{requested.pk}/assign/", {"assessor": assessor.pk}
    )
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.status == "requested"


def test_assign_is_post_only(client_for, registry_admin, requested):
    assert client_for(registry_admin).get(f"{GRADES}{requested.pk}/assign/").status_code == 405


def test_assigning_someone_who_is_not_an_assessor_is_a_400(
    client_for, registry_admin, requested, official
):
    response = post(
        client_for(registry_admin), f"{GRADES}{requested.pk}/assign/", {"assessor": official.pk}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["assessor"]
    assert events(AuditAction.GRADE_ASSIGNED, requested.pk) == []


def test_an_assessor_sees_only_the_assessments_assigned_to_them(client_for, assessing):
    other = make_user("other_assessor", Role.ASSESSOR)
    client = client_for(other)
    assert client.get(GRADES).json()["results"] == []
    assert client.get(f"{GRADES}{assessing.pk}/").status_code == 404
    assert put(client, f"{GRADES}{assessing.pk}/scores/", {"scores": []}).status_code == 404


def test_the_org_cannot_score_its_own_assessment(client_for, graded_admin, assessing):
    response = put(
        client_for(graded_admin),
        f"{GRADES}{assessing.pk}/scores/",
        {"scores": [{"indicator": "B1", "score": "20"}]},
    )
    assert response.status_code == 403
    assert IndicatorScore.objects.count() == 0


def test_scores_are_put_not_posted(client_for, assessor, assessing):
    response = post(client_for(assessor), f"{GRADES}{assessing.pk}/scores/", {"scores": []})
    assert response.status_code == 405


def test_only_the_registry_confirms(client_for, assessor, graded_admin, assessing):
    for user in (assessor, graded_admin):
        assert post(client_for(user), f"{GRADES}{assessing.pk}/confirm/").status_code == 403


def test_only_the_registry_downgrades(client_for, graded_admin, confirmed):
    response = post(client_for(graded_admin), f"{GRADES}{confirmed.pk}/downgrade/", {"reason": "x"})
    assert response.status_code == 403


def test_an_action_in_the_wrong_state_is_a_400(client_for, registry_admin, requested):
    response = post(client_for(registry_admin), f"{GRADES}{requested.pk}/publicize/", {"days": 7})
    assert response.status_code == 400
    assert response.json()["detail"]
    requested.refresh_from_db()
    assert requested.status == "requested"


# --- Bad input ----------------------------------------------------------------------------------


def test_a_score_above_the_maximum_is_a_400_naming_the_indicator(client_for, assessor, assessing):
    response = put(
        client_for(assessor),
        f"{GRADES}{assessing.pk}/scores/",
        {"scores": [{"indicator": "B1", "score": "10"}, {"indicator": "B2", "score": "25"}]},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["B2"]
    assert IndicatorScore.objects.count() == 0


def test_an_unknown_indicator_is_a_400(client_for, assessor, assessing):
    response = put(
        client_for(assessor),
        f"{GRADES}{assessing.pk}/scores/",
        {"scores": [{"indicator": "Z9", "score": "1"}]},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["Z9"]


def test_an_indicator_scored_twice_is_a_400(client_for, assessor, assessing):
    response = put(
        client_for(assessor),
        f"{GRADES}{assessing.pk}/scores/",
        {"scores": [{"indicator": "B1", "score": "1"}, {"indicator": "B1", "score": "2"}]},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["scores"]
    assert IndicatorScore.objects.count() == 0


def test_a_score_that_is_not_a_number_is_a_400(client_for, assessor, assessing):
    response = put(
        client_for(assessor),
        f"{GRADES}{assessing.pk}/scores/",
        {"scores": [{"indicator": "B1", "score": "many"}]},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["scores"]


def test_proposing_with_missing_scores_is_refused(client_for, assessor, assessing):
    response = post(client_for(assessor), f"{GRADES}{assessing.pk}/propose/")
    assert response.status_code == 400
    assert "B1" in response.json()["detail"]
    assessing.refresh_from_db()
    assert assessing.status == "assessing"


def test_a_notice_of_zero_days_is_a_400(client_for, registry_admin, assessing, assessor):
    services.grade_scores_save(
        assessment=assessing, actor=assessor, scores=as_mapping(all_scores(assessing, "0.8"))
    )
    services.grade_propose(assessment=assessing, actor=assessor)
    response = post(client_for(registry_admin), f"{GRADES}{assessing.pk}/publicize/", {"days": 0})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["days"]


@pytest.mark.parametrize("verb", ["downgrade", "cancel"])
def test_downgrade_and_cancel_need_a_reason(client_for, registry_admin, confirmed, verb):
    response = post(client_for(registry_admin), f"{GRADES}{confirmed.pk}/{verb}/", {"reason": ""})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    confirmed.refresh_from_db()
    assert confirmed.status == "confirmed"


# --- Lists -------------------------------------------------------------------------------------


def test_the_registry_filters_by_organization_and_status(
    client_for, registry_admin, requested, graded_org
):
    client = client_for(registry_admin)
    assert client.get(GRADES, {"organization": graded_org.pk}).json()["count"] == 1
    assert client.get(GRADES, {"status": "confirmed"}).json()["count"] == 0
    assert client.get(GRADES, {"status": "nonsense"}).status_code == 400


def test_the_list_costs_the_same_queries_for_2_or_12_assessments(
    today, client_for, registry_admin, assessor
):
    client = client_for(registry_admin)

    def add(first: int, count: int) -> None:
        for n in range(first, first + count):
            org = registered_org(registry_admin, f"8100{n:04d}", registered=date(2018, 1, 1))
            admin = make_user(f"admin{n}", Role.ORG_ADMIN, org)
            assessment = services.grade_request(organization=org, actor=admin)
            services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(GRADES).status_code == 200
        return len(captured)

    add(0, 2)
    few = queries()
    add(2, 10)
    assert queries() == few


def test_the_organization_sees_its_scores_only_once_proposed(client, registry_admin, assessor):
    """Same rule as the page (permissions.can_view_grade_scores)."""
    org = services.organization_create(
        name="评分可见性",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="77000001"),
        actor=registry_admin,
        verified=True,
        registration_date=date(2016, 1, 1),
    )
    admin = make_user("scores_admin", Role.ORG_ADMIN, org)
    assessment = services.grade_request(organization=org, actor=admin)
    services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)
    services.grade_scores_save(
        assessment=assessment, actor=assessor, scores={"B1": (Decimal("18"), "")}
    )
    client.force_login(admin)
    url = f"/api/v1/grades/{assessment.pk}/"
    assert client.get(url).json()["scores"] == []
    client.force_login(assessor)
    assert len(client.get(url).json()["scores"]) == 1
