"""Grade assessments in the assessor's workspace, and the independence of the assessor the
registry assigns (the panel conflict rules with the organization as the one party)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from evaluation.models import AssessorProfile
from evaluation.selectors import grades as grade_selectors
from evaluation.services import assessor_employment_add, assessor_relation_add
from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import services
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import GradeAssessment, IndicatorScore, Organization
from tests.conftest import make_user
from tests.evaluation.conftest import make_assessor


def graded(name: str, body: str) -> Organization:
    """An organization registered long enough ago to ask for a grade."""
    return services.organization_create(
        name=name,
        uscc=make_uscc(authority="5", category="2", region="500103", org_body=body),
        actor=None,
        verified=True,
        registration_date=date(2018, 6, 1),
    )


@pytest.fixture
def graded_org(db) -> Organization:
    return graded("渝中区阳光社工服务中心", "80000001")


@pytest.fixture
def graded_admin(graded_org) -> User:
    return make_user("graded_admin", Role.ORG_ADMIN, graded_org)


@pytest.fixture
def requested(graded_org, graded_admin) -> GradeAssessment:
    return services.grade_request(organization=graded_org, actor=graded_admin)


@pytest.fixture
def assessing(requested, registry_admin, assessor) -> GradeAssessment:
    return services.grade_assign(assessment=requested, actor=registry_admin, assessor=assessor)


@pytest.fixture
def other_assessor(db) -> User:
    return make_assessor("other_assessor", agency="另一家评估所")


def english(user: User) -> Client:
    user.language = "en"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def all_scores(assessment: GradeAssessment, fraction: str) -> dict[str, str]:
    """The workspace form's data: every indicator at ``fraction`` of its points."""
    data = {"comment": "制度健全，服务规范"}
    for indicator in assessment.indicator_set.indicators.all():
        value = (Decimal(indicator.max_points) * Decimal(fraction)).quantize(Decimal("0.1"))
        data[f"score_{indicator.code}"] = str(value)
        data[f"note_{indicator.code}"] = "查阅台账"
    return data


def url(name: str, assessment: GradeAssessment) -> str:
    return reverse(f"evaluation:{name}", args=[assessment.pk])


def profile_of(user: User) -> AssessorProfile:
    return AssessorProfile.objects.get(user=user)


# --- Independence ------------------------------------------------------------------------------


def test_an_assessor_employed_by_the_organization_within_three_years_is_refused(
    requested, registry_admin, assessor, graded_org
):
    today = timezone.localdate()
    assessor_employment_add(
        profile=profile_of(assessor),
        actor=assessor,
        employer_name=graded_org.name,
        organization=graded_org,
        start_date=today - timedelta(days=5 * 365),
        end_date=today - timedelta(days=365),
    )
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.grade_assign(assessment=requested, actor=registry_admin, assessor=assessor)
    [message] = caught.value.message_dict["assessor"]
    assert "cannot assess this organization" in message
    assert "employed by the organization within the last 3 years" in message
    assert GradeAssessment.objects.get(pk=requested.pk).status == "requested"
    assert not AuditEvent.objects.filter(action=AuditAction.GRADE_ASSIGNED).exists()


def test_an_assessor_with_a_declared_relation_is_refused(
    requested, registry_admin, assessor, graded_org
):
    assessor_relation_add(
        profile=profile_of(assessor),
        actor=assessor,
        organization_name=graded_org.name,
        organization=graded_org,
        relation="理事会成员的配偶",
    )
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.grade_assign(assessment=requested, actor=registry_admin, assessor=assessor)
    assert "a declared relation with the organization" in caught.value.message_dict["assessor"][0]


def test_a_relation_matched_by_credit_code_alone_is_a_conflict(
    requested, registry_admin, assessor, graded_org
):
    assessor_relation_add(
        profile=profile_of(assessor),
        actor=assessor,
        organization_name="阳光社工",
        organization_uscc=graded_org.uscc,
        relation="曾任理事",
    )
    with pytest.raises(ValidationError):
        services.grade_assign(assessment=requested, actor=registry_admin, assessor=assessor)


def test_a_former_employee_of_more_than_three_years_ago_and_an_outsider_may_assess(
    requested, registry_admin, assessor, graded_org, other_organization
):
    today = timezone.localdate()
    assessor_employment_add(
        profile=profile_of(assessor),
        actor=assessor,
        employer_name=graded_org.name,
        organization=graded_org,
        start_date=today - timedelta(days=10 * 365),
        end_date=today - timedelta(days=4 * 365),
    )
    assessor_employment_add(
        profile=profile_of(assessor),
        actor=assessor,
        employer_name=other_organization.name,
        organization=other_organization,
        start_date=today - timedelta(days=365),
    )
    assessment = services.grade_assign(
        assessment=requested, actor=registry_admin, assessor=assessor
    )
    assert (assessment.status, assessment.assessor) == ("assessing", assessor)


def test_the_registry_page_names_the_conflict(requested, registry_admin, assessor, graded_org):
    assessor_relation_add(
        profile=profile_of(assessor),
        actor=assessor,
        organization_name=graded_org.name,
        organization=graded_org,
        relation="理事会成员的配偶",
    )
    response = english(registry_admin).post(
        reverse("orgs_registry:grade_assign", args=[requested.pk]),
        {"assign-assessor": assessor.pk},
    )
    assert response.status_code == 200
    assert "a declared relation with the organization" in response.content.decode()
    assert GradeAssessment.objects.get(pk=requested.pk).status == "requested"


def test_the_api_names_the_conflict_on_the_assessor_field(
    requested, registry_admin, assessor, graded_org
):
    assessor_relation_add(
        profile=profile_of(assessor),
        actor=assessor,
        organization_name=graded_org.name,
        organization=graded_org,
        relation="理事会成员的配偶",
    )
    response = english(registry_admin).post(
        f"/api/v1/grades/{requested.pk}/assign/",
        {"assessor": assessor.pk},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "a declared relation" in " ".join(response.json()["fields"]["assessor"])


def test_a_conflict_recorded_after_the_assignment_stops_the_submission(
    assessor, assessing, graded_org
):
    services.grade_scores_save(
        assessment=assessing,
        actor=assessor,
        scores={
            i.code: (Decimal(i.max_points), "") for i in assessing.indicator_set.indicators.all()
        },
    )
    assessor_relation_add(
        profile=profile_of(assessor),
        actor=assessor,
        organization_name=graded_org.name,
        organization=graded_org,
        relation="新任理事",
    )
    response = english(assessor).post(url("grade_workspace_propose", assessing))
    assert response.status_code == 200
    assert "You are not independent of this organization" in response.content.decode()
    assert GradeAssessment.objects.get(pk=assessing.pk).status == "assessing"
    assert not AuditEvent.objects.filter(action=AuditAction.GRADE_PROPOSED).exists()


# --- The workspace list ------------------------------------------------------------------------


def test_the_assessor_sees_the_assessment_in_the_workspace(client_for, assessor, assessing):
    response = client_for(assessor).get(reverse("evaluation:assignments"))
    assert response.status_code == 200
    page = response.content.decode()
    assert url("grade_workspace", assessing) in page
    assert assessing.organization.name in page


def test_another_assessor_and_an_official_do_not(client_for, other_assessor, official, assessing):
    for user in (other_assessor, official):
        response = client_for(user).get(reverse("evaluation:assignments"))
        assert response.status_code == 200
        assert url("grade_workspace", assessing) not in response.content.decode()


def test_the_workspace_lists_waiting_assessments_first_with_their_progress(
    assessor, assessing, registry_admin
):
    second_org = graded("渝中区夕阳红服务中心", "80000002")
    second_admin = make_user("second_admin", Role.ORG_ADMIN, second_org)
    second = services.grade_request(organization=second_org, actor=second_admin)
    services.grade_assign(assessment=second, actor=registry_admin, assessor=assessor)
    indicator = assessing.indicator_set.indicators.first()
    services.grade_scores_save(
        assessment=assessing, actor=assessor, scores={indicator.code: (Decimal(1), "")}
    )
    rows = list(grade_selectors.grade_workspace_list(assessor))
    assert {row.pk for row in rows} == {assessing.pk, second.pk}
    first = next(row for row in rows if row.pk == assessing.pk)
    assert first.scored == 1
    assert first.indicator_count == assessing.indicator_set.indicators.count()


def test_the_workspace_list_takes_a_constant_number_of_queries(
    client_for, assessor, assessing, registry_admin, django_assert_max_num_queries
):
    client = client_for(assessor)
    target = reverse("evaluation:assignments")
    client.get(target)
    with django_assert_max_num_queries(40) as few:
        client.get(target)
    for number in range(2, 7):
        organization = graded(f"渝中区第{number}社工服务中心", f"8000001{number}")
        admin = make_user(f"graded_admin_{number}", Role.ORG_ADMIN, organization)
        assessment = services.grade_request(organization=organization, actor=admin)
        services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(target)
    assert response.content.decode().count('href="/evaluation/grades/') >= 6


# --- Scoring and submitting ---------------------------------------------------------------------


def test_the_assigned_assessor_scores_and_submits_in_the_workspace(assessor, assessing):
    client = english(assessor)
    page = client.get(url("grade_workspace", assessing))
    assert page.status_code == 200
    assert url("grade_workspace_scores", assessing) in page.content.decode()
    assert reverse("orgs_registry:grade_detail", args=[assessing.pk]) in page.content.decode()

    response = client.post(url("grade_workspace_scores", assessing), all_scores(assessing, "0.86"))
    assert response.status_code == 302
    assert response.url == url("grade_workspace", assessing)
    assert IndicatorScore.objects.filter(assessment=assessing).count() == (
        assessing.indicator_set.indicators.count()
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.GRADE_SCORED, object_id=str(assessing.pk)
    ).exists()

    response = client.post(url("grade_workspace_propose", assessing))
    assert response.status_code == 302
    assessment = GradeAssessment.objects.get(pk=assessing.pk)
    assert (assessment.status, assessment.total_score, assessment.proposed_grade) == (
        "proposed",
        Decimal("860.0"),
        "4A",
    )
    assert assessment.assessor_comment == "制度健全，服务规范"
    [event] = AuditEvent.objects.filter(action=AuditAction.GRADE_PROPOSED)
    assert (event.object_id, event.state_before, event.state_after) == (
        str(assessing.pk),
        "assessing",
        "proposed",
    )
    after = client.get(url("grade_workspace", assessing)).content.decode()
    assert url("grade_workspace_scores", assessing) not in after
    assert "860.0" in after


def test_a_score_above_the_maximum_is_shown_and_nothing_is_saved(assessor, assessing):
    data = all_scores(assessing, "0.5")
    indicator = assessing.indicator_set.indicators.first()
    data[f"score_{indicator.code}"] = str(indicator.max_points + 1)
    response = english(assessor).post(url("grade_workspace_scores", assessing), data)
    assert response.status_code == 200
    assert "less than or equal to" in response.content.decode()
    assert not IndicatorScore.objects.filter(assessment=assessing).exists()


def test_submitting_before_every_indicator_is_scored_says_what_is_missing(assessor, assessing):
    response = english(assessor).post(url("grade_workspace_propose", assessing))
    assert response.status_code == 200
    assert "Score every indicator first" in response.content.decode()
    assert GradeAssessment.objects.get(pk=assessing.pk).status == "assessing"


def test_the_write_routes_refuse_get(client_for, assessor, assessing):
    client = client_for(assessor)
    for name in ("grade_workspace_scores", "grade_workspace_propose"):
        assert client.get(url(name, assessing)).status_code == 405


def test_a_submitted_assessment_cannot_be_rescored_from_the_workspace(assessor, assessing):
    services.grade_scores_save(
        assessment=assessing,
        actor=assessor,
        scores={
            i.code: (Decimal(i.max_points), "") for i in assessing.indicator_set.indicators.all()
        },
    )
    services.grade_propose(assessment=assessing, actor=assessor)
    client = english(assessor)
    response = client.post(url("grade_workspace_scores", assessing), all_scores(assessing, "0.1"))
    assert response.status_code == 403
    assert client.post(url("grade_workspace_propose", assessing)).status_code == 403
    assert GradeAssessment.objects.get(pk=assessing.pk).total_score == Decimal("1000.0")


@pytest.mark.parametrize(
    "persona",
    ["other_assessor", "registry_admin", "auditor", "graded_admin", "official", "outsider"],
)
def test_nobody_but_the_assigned_assessor_reaches_the_workspace(
    request, client_for, persona, assessing
):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(url("grade_workspace", assessing)).status_code == 404
    data = all_scores(assessing, "0.5")
    assert client.post(url("grade_workspace_scores", assessing), data).status_code == 404
    assert client.post(url("grade_workspace_propose", assessing)).status_code == 404
    assert not IndicatorScore.objects.filter(assessment=assessing).exists()
    assert GradeAssessment.objects.get(pk=assessing.pk).status == "assessing"


def test_the_workspace_needs_a_sign_in(assessing):
    for name in ("grade_workspace", "grade_workspace_scores", "grade_workspace_propose"):
        response = Client().get(url(name, assessing))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_a_missing_assessment_is_not_found(client_for, assessor, db):
    response = client_for(assessor).get(reverse("evaluation:grade_workspace", args=[999999]))
    assert response.status_code == 404


def test_the_registry_page_links_the_assessor_to_the_workspace(client_for, assessor, assessing):
    response = client_for(assessor).get(reverse("orgs_registry:grade_detail", args=[assessing.pk]))
    assert url("grade_workspace", assessing) in response.content.decode()


def test_the_assessor_dashboard_sends_the_assessor_to_the_workspace(
    client_for, assessor, assessing
):
    response = client_for(assessor).get(reverse("dashboard"))
    with translation.override("en"):
        card = next(
            card
            for card in response.context["cards"]
            if str(card.title) == "Grade assessments waiting for your scores"
        )
    assert (card.value, card.url) == (1, reverse("evaluation:assignments"))
