"""Performance evaluation pages: the assessor's workspace and score form, the evaluation's page
with its group chart, the official's assignment and withdrawal, the organization's reply, the
indicator set, the dashboard cards; every role refused on every route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluation.models import PerformanceEvaluation, PerformanceEvaluationStatus, PerformanceScore
from evaluation.services import performance as services
from marketplace.models import AuditAction, AuditEvent, Role, User
from tenders.models import MilestoneStatus
from tests.conftest import building, module_database, persona
from tests.evaluation.performance_support import (
    CONCLUSION,
    Built,
    answer_survey,
    assign,
    build_active,
    evaluate,
    indicators,
    scores_at,
)
from tests.tenders.test_award import RANKED_AT


@pytest.fixture(scope="module")
def _built_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Built]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        persona("auditor", Role.AUDITOR)
        yield build_active(clock)


@pytest.fixture
def built(_built_once, db, clock) -> Built:
    clock.set(_built_once.built_until)
    return _built_once


def browser(user: User | None) -> Client:
    """A signed-in browser reading English (the user's language), or an anonymous one."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        User.objects.filter(pk=user.pk).update(language="en")
        client.force_login(user)
    return client


def page(name: str, *args: int) -> str:
    return reverse(f"evaluation:{name}", args=args)


@pytest.fixture
def assigned(built) -> PerformanceEvaluation:
    return assign(built, "mid_term", built.assessor("independent"))


@pytest.fixture
def declared(built, assigned) -> PerformanceEvaluation:
    services.performance_declare(evaluation=assigned, actor=built.assessor("independent"))
    return PerformanceEvaluation.objects.get(pk=assigned.pk)


@pytest.fixture
def final(built) -> PerformanceEvaluation:
    return evaluate(built, "final", built.assessor("second"), "0.95")


def _events(action: AuditAction) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- The workspace and the evaluation's page ------------------------------------------------------


def test_the_assessor_sees_their_evaluations_in_the_workspace_and_assignments(built, assigned):
    client = browser(built.assessor("independent"))

    listing = client.get(page("performance_list")).content.decode()
    seats = client.get(page("assignments")).content.decode()

    assert built.contract.reference in listing
    assert "Declare independence" in listing
    assert "My performance evaluations" in seats
    assert page("performance_detail", assigned.pk) in seats
    other = browser(built.assessor("second")).get(page("performance_list")).content.decode()
    assert built.contract.reference not in other


def test_the_detail_page_shows_the_declaration_then_the_score_form(built, assigned):
    client = browser(built.assessor("independent"))
    assert (
        "I declare my independence"
        in client.get(page("performance_detail", assigned.pk)).content.decode()
    )
    assert client.get(page("performance_declare", assigned.pk)).status_code == 405

    response = client.post(page("performance_declare", assigned.pk))

    assert response.status_code == 302
    assert response["Location"] == page("performance_scores", assigned.pk)
    form = client.get(response["Location"]).content.decode()
    assert "score_O1" in form
    assert "evidence_O1" in form
    assert "Running total" in form
    assert _events(AuditAction.PERFORMANCE_DECLARED) == 1


def test_a_declaration_in_conflict_is_refused_on_the_page(built, assigned):
    from evaluation.services import assessor_relation_add

    assessor = built.assessor("independent")
    assessor_relation_add(
        profile=assessor.assessor_profile,
        actor=assessor,
        organization_name=built.contract.organization.name,
        organization=built.contract.organization,
        relation="亲属任理事",
    )

    response = browser(assessor).post(page("performance_declare", assigned.pk))

    assert response.status_code == 400
    assert "a declared relation with the supplier" in response.content.decode()


def _form_data(evaluation: PerformanceEvaluation, fraction: str, action: str) -> dict[str, str]:
    data = {"action": action, "conclusion": CONCLUSION}
    for code, (score, evidence) in scores_at(evaluation, fraction).items():
        data[f"score_{code}"] = str(score)
        data[f"evidence_{code}"] = evidence
    return data


def test_the_score_form_saves_a_draft_and_names_a_bad_score(built, declared):
    client = browser(built.assessor("independent"))
    data = _form_data(declared, "0.8", "save")
    data["score_O1"] = "16"

    refused = client.post(page("performance_scores", declared.pk), data)

    assert refused.status_code == 400
    assert "The score must be between 0 and 15." in refused.content.decode()
    assert not PerformanceScore.objects.filter(evaluation=declared).exists()
    data["score_O1"] = "12"
    saved = client.post(page("performance_scores", declared.pk), data)
    assert saved.status_code == 302
    assert PerformanceScore.objects.filter(evaluation=declared).count() == len(indicators(declared))


def test_the_score_form_submits_and_the_page_shows_the_result(built, declared):
    client = browser(built.assessor("independent"))

    response = client.post(
        page("performance_scores", declared.pk), _form_data(declared, "0.7", "submit")
    )

    assert response.status_code == 302
    evaluation = PerformanceEvaluation.objects.get(pk=declared.pk)
    assert evaluation.grade == "fair"
    assert built.milestone("mid_term").status == MilestoneStatus.PAID
    html = (
        browser(built.supplier_admin)
        .get(page("performance_detail", evaluation.pk))
        .content.decode()
    )
    assert "<svg" in html
    assert "Fair" in html
    assert "192,000.00" in html or "192000" in html
    assert "Publish the reply" in html


def test_an_incomplete_submission_saves_nothing_and_names_the_gaps(built, declared):
    data = _form_data(declared, "0.8", "submit")
    data["score_B2"] = ""
    data["conclusion"] = ""

    response = browser(built.assessor("independent")).post(
        page("performance_scores", declared.pk), data
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Score this indicator." in html
    assert "Write the conclusion of the evaluation." in html
    assert not PerformanceScore.objects.filter(evaluation=declared).exists()


def test_a_public_final_result_is_shown_to_anyone_without_the_assessor(built, final):
    html = browser(None).get(page("performance_detail", final.pk)).content.decode()

    assert "Excellent" in html
    assert built.assessor("second").get_full_name() not in html
    assert "<svg" in html


def test_a_draft_is_hidden_from_everyone_but_the_assessor_and_the_office(built, declared, outsider):
    for user in (
        built.supplier_admin,
        built.supplier_member,
        outsider,
        built.assessor("second"),
        None,
    ):
        assert browser(user).get(page("performance_detail", declared.pk)).status_code == 404
    html = browser(built.official).get(page("performance_detail", declared.pk)).content.decode()
    assert "Withdraw the evaluation" in html
    assert "score_D1" not in html


# --- The official's pages ------------------------------------------------------------------------


def test_an_official_assigns_from_the_contract(built):
    client = browser(built.official)
    assert client.get(page("performance_assign", built.contract_id)).status_code == 200
    due = (timezone.localdate() + timezone.timedelta(days=20)).isoformat()

    conflict = client.post(
        page("performance_assign", built.contract_id),
        {"kind": "final", "assessor": built.assessor_ids["purchasing"], "due_date": due},
    )
    assert conflict.status_code == 400
    assert "staff of the purchasing unit" in conflict.content.decode()
    response = client.post(
        page("performance_assign", built.contract_id),
        {"kind": "final", "assessor": built.assessor_ids["independent"], "due_date": due},
    )

    assert response.status_code == 302
    evaluation = PerformanceEvaluation.objects.get()
    assert response["Location"] == page("performance_detail", evaluation.pk)
    assert _events(AuditAction.PERFORMANCE_ASSIGNED) == 1


def test_an_official_withdraws_with_a_reason(built, assigned):
    client = browser(built.official)
    refused = client.post(page("performance_withdraw", assigned.pk), {"reason": ""})
    assert refused.status_code == 400

    response = client.post(page("performance_withdraw", assigned.pk), {"reason": "评估人员回避"})

    assert response.status_code == 302
    assert (
        PerformanceEvaluation.objects.get(pk=assigned.pk).status
        == PerformanceEvaluationStatus.WITHDRAWN
    )
    assert _events(AuditAction.PERFORMANCE_WITHDRAWN) == 1


def test_the_supplier_admin_replies_once_on_the_page(built, final):
    client = browser(built.supplier_admin)

    response = client.post(page("performance_reply", final.pk), {"reply": "感谢评价，继续保持。"})

    assert response.status_code == 302
    assert PerformanceEvaluation.objects.get(pk=final.pk).reply == "感谢评价，继续保持。"
    assert (
        client.post(page("performance_reply", final.pk), {"reply": "再说一句"}).status_code == 403
    )
    assert "感谢评价" in browser(None).get(page("performance_detail", final.pk)).content.decode()
    assert _events(AuditAction.PERFORMANCE_REPLIED) == 1


def test_the_indicator_set_page_shows_groups_and_weights(built):
    assert browser(None).get(page("performance_indicators")).status_code == 200
    html = browser(built.supplier_member).get(page("performance_indicators")).content.decode()

    for text in ("Decision", "Process", "Output", "Benefit", "35 points", "from the survey"):
        assert text in html


def test_the_list_page_takes_a_constant_number_of_queries(built, final, assigned):
    client = browser(built.official)
    with CaptureQueriesContext(connection) as two:
        assert client.get(page("performance_list")).status_code == 200
    services.performance_evaluation_withdraw(
        evaluation=assigned, actor=built.official, reason="换人"
    )
    assign(built, "mid_term", built.assessor("former"))
    with CaptureQueriesContext(connection) as three:
        assert client.get(page("performance_list")).status_code == 200

    assert len(three) == len(two)


def test_the_dashboards_count_the_evaluations(built, assigned, final):
    def cards(user):
        response = browser(user).get(reverse("dashboard"))
        return {str(card.title): card.value for card in response.context["cards"]}

    assert cards(built.assessor("independent"))["Performance evaluations to do"] == 1
    assert cards(built.official)["Performance evaluations due"] == 1
    assert cards(built.supplier_admin)["Evaluation results to answer"] == 1


# --- Every role refused on every route ------------------------------------------------------------

ROUTES = [
    ("post", "performance_declare", {}),
    ("get", "performance_scores", None),
    ("post", "performance_scores", {"action": "save", "score_D1": "1"}),
    ("post", "performance_reply", {"reply": "回复"}),
    ("post", "performance_withdraw", {"reason": "理由"}),
]


@pytest.mark.parametrize(("method", "name", "data"), ROUTES)
@pytest.mark.parametrize(
    "who",
    [
        "supplier_admin",
        "supplier_member",
        "other_assessor",
        "outsider",
        "auditor",
        "registry_admin",
    ],
)
def test_every_role_is_refused_on_a_draft(built, declared, who, method, name, data, request):
    users = {
        "supplier_admin": built.supplier_admin,
        "supplier_member": built.supplier_member,
        "other_assessor": built.assessor("second"),
        "outsider": request.getfixturevalue("outsider"),
        "auditor": persona("auditor", Role.AUDITOR),
        "registry_admin": request.getfixturevalue("registry_admin"),
    }
    client = browser(users[who])
    url = page(name, declared.pk)

    response = client.get(url) if method == "get" else client.post(url, data)

    # Invisible to all but the assessor and the street office; the auditor reads, never acts.
    assert response.status_code == (403 if who == "auditor" else 404)
    assert PerformanceEvaluation.objects.get(pk=declared.pk).status == "assigned"
    assert not PerformanceScore.objects.filter(evaluation=declared).exists()


@pytest.mark.parametrize("who", ["supplier_admin", "assessor", "auditor", "registry_admin"])
def test_only_officials_reach_the_assignment_page(built, who, request):
    users = {
        "supplier_admin": built.supplier_admin,
        "assessor": built.assessor("independent"),
        "auditor": persona("auditor", Role.AUDITOR),
        "registry_admin": request.getfixturevalue("registry_admin"),
    }
    client = browser(users[who])

    assert client.get(page("performance_assign", built.contract_id)).status_code == 404
    assert client.post(page("performance_assign", built.contract_id), {}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(built, declared):
    for name in (
        "performance_declare",
        "performance_scores",
        "performance_reply",
        "performance_withdraw",
    ):
        response = browser(None).post(page(name, declared.pk), {})
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_the_public_list_holds_final_results_only(built, declared, final):
    listing = browser(None).get(
        page("performance_list"), {"organization": built.contract.organization_id}
    )

    assert listing.status_code == 200
    assert listing.context["evaluations"] == [final]


def test_the_contract_section_lists_evaluations_and_the_assignment_link(built, declared, final):
    def render(user):
        return Template(
            "{% load performance_tags %}{% contract_performance_evaluations contract user %}"
        ).render(Context({"contract": built.contract, "user": user}))

    office = render(built.official)
    supplier = render(built.supplier_admin)

    assert page("performance_assign", built.contract_id) in office
    assert page("performance_detail", declared.pk) in office
    assert page("performance_assign", built.contract_id) not in supplier
    assert page("performance_detail", declared.pk) not in supplier
    assert page("performance_detail", final.pk) in supplier


def test_with_survey_answers_the_satisfaction_indicator_has_no_input(built, declared, clock):
    answer_survey(built, clock, [5, 4, 3, 5])
    client = browser(built.assessor("independent"))

    html = client.get(page("performance_scores", declared.pk)).content.decode()

    assert "score_B3" not in html
    assert "score_B2" in html
    assert "75.0% satisfied (4 answers)" in html
    assert "Scored from the survey when you save or submit." in html
