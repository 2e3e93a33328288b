"""Grade pages: the organization requests, the registry decides, the assessor scores."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry import services
from orgs_registry.models import GradeAssessment, GradeAssessmentStatus, Organization
from tests.conftest import make_user


def events(action: AuditAction, assessment: GradeAssessment) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(assessment.pk)).count()


def grade_url(name: str, assessment: GradeAssessment) -> str:
    return reverse(f"orgs_registry:{name}", args=[assessment.pk])


@pytest.fixture
def eligible(organization, org_admin, registry_admin) -> Organization:
    """The organization, registered more than two years ago (through a change request)."""
    change = services.change_request_create(
        organization=organization,
        actor=org_admin,
        changes={"registration_date": date(2019, 6, 1)},
        reason="补录登记日期",
    )
    services.change_request_decide(change_request=change, actor=registry_admin, approve=True)
    organization.refresh_from_db()
    return organization


@pytest.fixture
def requested(eligible, org_admin) -> GradeAssessment:
    return services.grade_request(organization=eligible, actor=org_admin)


@pytest.fixture
def assessing(requested, registry_admin, assessor) -> GradeAssessment:
    return services.grade_assign(assessment=requested, actor=registry_admin, assessor=assessor)


def full_scores(assessment: GradeAssessment, share: Decimal = Decimal("0.9")) -> dict:
    return {
        i.code: (Decimal(i.max_points) * share, "")
        for i in assessment.indicator_set.indicators.all()
    }


@pytest.fixture
def proposed(assessing, assessor) -> GradeAssessment:
    services.grade_scores_save(assessment=assessing, actor=assessor, scores=full_scores(assessing))
    return services.grade_propose(assessment=assessing, actor=assessor)


@pytest.fixture
def publicized(proposed, registry_admin) -> GradeAssessment:
    return services.grade_publicize(assessment=proposed, actor=registry_admin)


@pytest.fixture
def confirmed(publicized, org_admin, registry_admin) -> GradeAssessment:
    services.grade_review_request(assessment=publicized, actor=org_admin, reason="分数偏低")
    reviewed = services.grade_review_conclude(
        assessment=publicized, actor=registry_admin, conclusion="维持原评分"
    )
    return services.grade_confirm(assessment=reviewed, actor=registry_admin)


# --- The organization's grade page -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["org_admin", "org_member", "registry_admin", "auditor"])
def test_the_grade_page_is_open_to_the_organization_registry_and_auditors(
    request, client_for, organization, persona
):
    url = reverse("orgs_registry:organization_grades", args=[organization.pk])
    assert client_for(request.getfixturevalue(persona)).get(url).status_code == 200


@pytest.mark.parametrize("persona", ["other_org_admin", "official", "assessor", "outsider"])
def test_the_grade_page_is_404_for_anyone_else(request, client_for, organization, persona):
    url = reverse("orgs_registry:organization_grades", args=[organization.pk])
    assert client_for(request.getfixturevalue(persona)).get(url).status_code == 404


def test_a_refused_request_shows_the_reasons_and_creates_nothing(
    client_for, org_admin, organization
):
    response = client_for(org_admin).post(
        reverse("orgs_registry:grade_request", args=[organization.pk])
    )
    assert response.status_code == 200
    reasons = " ".join(response.context["request_errors"])
    assert "登记日期" in reasons or "registration date" in reasons
    assert not GradeAssessment.objects.exists()


def test_an_eligible_organization_requests_an_assessment(client_for, org_admin, eligible):
    response = client_for(org_admin).post(
        reverse("orgs_registry:grade_request", args=[eligible.pk])
    )
    assessment = GradeAssessment.objects.get(organization=eligible)
    assert response.status_code == 302
    assert response.url == grade_url("grade_detail", assessment)
    assert events(AuditAction.GRADE_REQUESTED, assessment) == 1


def test_a_member_cannot_request_an_assessment(client_for, org_member, eligible):
    url = reverse("orgs_registry:grade_request", args=[eligible.pk])
    assert client_for(org_member).post(url).status_code == 403
    assert not GradeAssessment.objects.exists()


def test_the_grade_page_lists_the_assessments(client_for, org_member, requested, organization):
    response = client_for(org_member).get(
        reverse("orgs_registry:organization_grades", args=[organization.pk])
    )
    assert response.context["assessments"] == [requested]


# --- Lists and who sees an assessment ----------------------------------------------------------


def test_an_assessor_lists_only_the_assessments_assigned_to_them(
    client_for, assessing, assessor, registry_admin, db
):
    other = make_user("assessor2", Role.ASSESSOR)
    assert list(
        client_for(assessor).get(reverse("orgs_registry:grade_list")).context["page"].object_list
    ) == [assessing]
    assert (
        list(client_for(other).get(reverse("orgs_registry:grade_list")).context["page"].object_list)
        == []
    )
    waiting = client_for(registry_admin).get(
        reverse("orgs_registry:grade_list"), {"status": "waiting"}
    )
    assert list(waiting.context["page"].object_list) == []


def test_the_registry_lists_what_waits_for_it(client_for, registry_admin, requested):
    response = client_for(registry_admin).get(
        reverse("orgs_registry:grade_list"), {"status": "waiting"}
    )
    assert list(response.context["page"].object_list) == [requested]


def test_the_assessment_list_needs_a_sign_in(client, db):
    response = client.get(reverse("orgs_registry:grade_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["other_org_admin", "official", "outsider"])
def test_strangers_get_404_on_an_assessment(request, client_for, assessing, persona):
    response = client_for(request.getfixturevalue(persona)).get(
        grade_url("grade_detail", assessing)
    )
    assert response.status_code == 404


def test_an_assessor_not_assigned_gets_404(client_for, assessing, db):
    other = make_user("assessor2", Role.ASSESSOR)
    assert client_for(other).get(grade_url("grade_detail", assessing)).status_code == 404


# --- Assigning ---------------------------------------------------------------------------------


def test_the_registry_assigns_an_assessor(client_for, registry_admin, requested, assessor):
    response = client_for(registry_admin).post(
        grade_url("grade_assign", requested), {"assign-assessor": assessor.pk}
    )
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == GradeAssessmentStatus.ASSESSING
    assert requested.assessor == assessor
    assert events(AuditAction.GRADE_ASSIGNED, requested) == 1


def test_assigning_needs_an_assessor(client_for, registry_admin, requested, official):
    client = client_for(registry_admin)
    for data in ({}, {"assign-assessor": official.pk}):
        response = client.post(grade_url("grade_assign", requested), data)
        assert response.status_code == 200
        assert "assessor" in response.context["action"]["assign"].errors
    requested.refresh_from_db()
    assert requested.status == GradeAssessmentStatus.REQUESTED


def test_assigning_twice_is_explained_not_a_crash(client_for, registry_admin, assessing, assessor):
    response = client_for(registry_admin).post(
        grade_url("grade_assign", assessing), {"assign-assessor": assessor.pk}
    )
    assert response.status_code == 200
    assert response.context["action_errors"]
    assert events(AuditAction.GRADE_ASSIGNED, assessing) == 1


def test_the_organization_cannot_assign(client_for, org_admin, requested, assessor):
    response = client_for(org_admin).post(
        grade_url("grade_assign", requested), {"assign-assessor": assessor.pk}
    )
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.status == GradeAssessmentStatus.REQUESTED


# --- Scoring -----------------------------------------------------------------------------------


def score_data(assessment: GradeAssessment, share: str = "0.9", **overrides) -> dict[str, str]:
    data = {
        f"score_{i.code}": str(Decimal(i.max_points) * Decimal(share))
        for i in assessment.indicator_set.indicators.all()
    }
    data["comment"] = "管理规范"
    data.update(overrides)
    return data


def test_the_assessor_sees_every_indicator_grouped_with_the_cutoffs(
    client_for, assessor, assessing
):
    response = client_for(assessor).get(grade_url("grade_detail", assessing))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert len(groups) == 4
    assert sum(g["max"] for g in groups) == 1000
    html = response.content.decode()
    assert 'name="score_B1"' in html
    assert "900" in html  # the 5A cut-off


def test_the_assessor_saves_a_draft_and_sees_the_total(client_for, assessor, assessing):
    client = client_for(assessor)
    response = client.post(grade_url("grade_scores_save", assessing), score_data(assessing))
    assert response.status_code == 302
    assert events(AuditAction.GRADE_SCORED, assessing) == 1
    page = client.get(grade_url("grade_detail", assessing))
    assert page.context["total"] == Decimal("900")
    assert page.context["grade_for_total"] == "5A"
    assessing.refresh_from_db()
    assert assessing.assessor_comment == "管理规范"


def test_a_score_above_the_maximum_is_refused_on_its_field(client_for, assessor, assessing):
    response = client_for(assessor).post(
        grade_url("grade_scores_save", assessing), score_data(assessing, score_B1="25")
    )
    assert response.status_code == 200
    assert "score_B1" in response.context["scores_form"].errors
    assert not assessing.scores.exists()


def test_submitting_an_incomplete_sheet_lists_what_is_missing(client_for, assessor, assessing):
    client = client_for(assessor)
    client.post(grade_url("grade_scores_save", assessing), {"score_B1": "18", "comment": ""})
    response = client.post(grade_url("grade_propose", assessing))
    assert response.status_code == 200
    assert "B2" in " ".join(response.context["propose_errors"])
    assessing.refresh_from_db()
    assert assessing.status == GradeAssessmentStatus.ASSESSING


def test_the_assessor_submits_the_saved_scores(client_for, assessor, assessing):
    client = client_for(assessor)
    client.post(grade_url("grade_scores_save", assessing), score_data(assessing, "0.8"))
    response = client.post(grade_url("grade_propose", assessing))
    assert response.status_code == 302
    assessing.refresh_from_db()
    assert assessing.status == GradeAssessmentStatus.PROPOSED
    assert assessing.proposed_grade == "4A"
    assert events(AuditAction.GRADE_PROPOSED, assessing) == 1


def test_nobody_else_scores(client_for, org_admin, registry_admin, assessing):
    for user in (org_admin, registry_admin):
        response = client_for(user).post(
            grade_url("grade_scores_save", assessing), score_data(assessing)
        )
        assert response.status_code == 403
        assert client_for(user).post(grade_url("grade_propose", assessing)).status_code == 403
    assert not assessing.scores.exists()


def test_the_organization_sees_scores_only_once_proposed(
    client_for, org_member, assessing, assessor
):
    services.grade_scores_save(
        assessment=assessing,
        actor=assessor,
        scores={"B1": (Decimal("17"), "章程齐全")},
    )
    client = client_for(org_member)
    html = client.get(grade_url("grade_detail", assessing)).content.decode()
    assert "章程齐全" not in html

    services.grade_scores_save(assessment=assessing, actor=assessor, scores=full_scores(assessing))
    services.grade_propose(assessment=assessing, actor=assessor)
    response = client.get(grade_url("grade_detail", assessing))
    assert response.context["can"]["see_scores"]
    assert 'name="score_B1"' not in response.content.decode()


def test_the_registry_reads_the_scores_without_inputs(client_for, registry_admin, proposed):
    response = client_for(registry_admin).get(grade_url("grade_detail", proposed))
    html = response.content.decode()
    assert response.context["total"] == Decimal("900")
    assert 'name="score_B1"' not in html
    assert response.context["can"]["publicize"]


# --- Notice, review, confirmation, downgrade, cancellation -------------------------------------


def test_the_registry_puts_the_result_on_public_notice(client_for, registry_admin, proposed):
    response = client_for(registry_admin).post(
        grade_url("grade_publicize", proposed), {"publicize-days": "7"}
    )
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == GradeAssessmentStatus.PUBLICIZED
    assert events(AuditAction.GRADE_PUBLICIZED, proposed) == 1


def test_a_confirmation_during_the_notice_is_refused_with_the_date(
    client_for, registry_admin, publicized
):
    response = client_for(registry_admin).post(grade_url("grade_confirm", publicized))
    assert response.status_code == 200
    assert str(publicized.notice_ends) in " ".join(response.context["action_errors"])
    publicized.refresh_from_db()
    assert publicized.status == GradeAssessmentStatus.PUBLICIZED


def test_the_organization_requests_a_review_during_the_notice(client_for, org_admin, publicized):
    client = client_for(org_admin)
    empty = client.post(grade_url("grade_review_request", publicized), {"review-reason": ""})
    assert "reason" in empty.context["action"]["review"].errors

    response = client.post(
        grade_url("grade_review_request", publicized), {"review-reason": "社会评价得分有误"}
    )
    assert response.status_code == 302
    publicized.refresh_from_db()
    assert publicized.status == GradeAssessmentStatus.REVIEW_REQUESTED
    assert events(AuditAction.GRADE_REVIEW_REQUESTED, publicized) == 1


def test_a_member_or_another_organization_cannot_request_a_review(
    client_for, org_member, other_org_admin, publicized
):
    data = {"review-reason": "x"}
    assert (
        client_for(org_member).post(grade_url("grade_review_request", publicized), data).status_code
        == 403
    )
    assert (
        client_for(other_org_admin)
        .post(grade_url("grade_review_request", publicized), data)
        .status_code
        == 404
    )
    publicized.refresh_from_db()
    assert publicized.status == GradeAssessmentStatus.PUBLICIZED


def test_the_registry_concludes_a_review_with_a_corrected_score(
    client_for, registry_admin, org_admin, publicized
):
    services.grade_review_request(assessment=publicized, actor=org_admin, reason="分数偏低")
    client = client_for(registry_admin)
    page = client.get(grade_url("grade_detail", publicized))
    assert page.context["can"]["conclude_review"]

    response = client.post(
        grade_url("grade_review_conclude", publicized),
        {"conclude-conclusion": "B1 计分有误，已更正", "conclude-score_B1": "20"},
    )
    assert response.status_code == 302
    publicized.refresh_from_db()
    assert publicized.status == GradeAssessmentStatus.REVIEWED
    assert publicized.total_score == Decimal("902")
    assert events(AuditAction.GRADE_REVIEWED, publicized) == 1


def test_a_review_conclusion_is_required(client_for, registry_admin, org_admin, publicized):
    services.grade_review_request(assessment=publicized, actor=org_admin, reason="分数偏低")
    response = client_for(registry_admin).post(
        grade_url("grade_review_conclude", publicized), {"conclude-conclusion": ""}
    )
    assert response.status_code == 200
    assert "conclusion" in response.context["action"]["conclude"].errors
    publicized.refresh_from_db()
    assert publicized.status == GradeAssessmentStatus.REVIEW_REQUESTED


def test_the_registry_confirms_a_reviewed_grade(client_for, registry_admin, org_admin, publicized):
    services.grade_review_request(assessment=publicized, actor=org_admin, reason="分数偏低")
    services.grade_review_conclude(assessment=publicized, actor=registry_admin, conclusion="维持")
    response = client_for(registry_admin).post(grade_url("grade_confirm", publicized))
    assert response.status_code == 302
    publicized.refresh_from_db()
    assert publicized.status == GradeAssessmentStatus.CONFIRMED
    assert publicized.grade == "5A"
    assert events(AuditAction.GRADE_CONFIRMED, publicized) == 1


def test_the_registry_downgrades_a_grade_in_force(client_for, registry_admin, confirmed):
    client = client_for(registry_admin)
    empty = client.post(grade_url("grade_downgrade", confirmed), {"downgrade-reason": ""})
    assert "reason" in empty.context["action"]["downgrade"].errors

    response = client.post(
        grade_url("grade_downgrade", confirmed), {"downgrade-reason": "年检不合格"}
    )
    assert response.status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.grade == "4A"
    assert events(AuditAction.GRADE_DOWNGRADED, confirmed) == 1


def test_the_registry_cancels_an_assessment(client_for, registry_admin, requested):
    client = client_for(registry_admin)
    empty = client.post(grade_url("grade_cancel", requested), {"cancel-reason": ""})
    assert "reason" in empty.context["action"]["cancel"].errors
    requested.refresh_from_db()
    assert requested.status == GradeAssessmentStatus.REQUESTED

    response = client.post(grade_url("grade_cancel", requested), {"cancel-reason": "机构申请撤回"})
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == GradeAssessmentStatus.CANCELLED
    assert events(AuditAction.GRADE_CANCELLED, requested) == 1


def test_the_organization_cannot_take_registry_decisions(client_for, org_admin, confirmed):
    client = client_for(org_admin)
    for name, data in [
        ("grade_publicize", {"publicize-days": "7"}),
        ("grade_confirm", {}),
        ("grade_downgrade", {"downgrade-reason": "x"}),
        ("grade_cancel", {"cancel-reason": "x"}),
        ("grade_review_conclude", {"conclude-conclusion": "x"}),
    ]:
        assert client.post(grade_url(name, confirmed), data).status_code == 403, name
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.grade) == (GradeAssessmentStatus.CONFIRMED, "5A")


def test_the_profile_shows_the_confirmed_grade(client, confirmed, organization):
    html = client.get(reverse("orgs_registry:profile", args=[organization.pk])).content.decode()
    assert "5A" in html
    assert str(confirmed.valid_until) in html


POST_ONLY = [
    "grade_scores_save",
    "grade_propose",
    "grade_review_request",
    "grade_assign",
    "grade_publicize",
    "grade_review_conclude",
    "grade_confirm",
    "grade_downgrade",
    "grade_cancel",
]


@pytest.mark.parametrize("name", POST_ONLY)
def test_grade_actions_refuse_get(client_for, registry_admin, requested, name):
    assert client_for(registry_admin).get(grade_url(name, requested)).status_code == 405


@pytest.mark.parametrize("name", POST_ONLY)
def test_another_organizations_admin_can_never_act_on_the_assessment(
    client_for, other_org_admin, requested, name
):
    client = client_for(other_org_admin)
    before = AuditEvent.objects.count()
    assert client.post(grade_url(name, requested), {}).status_code == 404
    assert AuditEvent.objects.count() == before
