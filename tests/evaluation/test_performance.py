"""Third-party performance evaluation services: assignment and evaluator independence, the
declaration, scores with evidence, payment release and withholding by the grade, the poor
final result's credit proposal and the organization's one reply (DESIGN 4.5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from evaluation.models import (
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
    PerformanceScore,
)
from evaluation.services import assessor_relation_add
from evaluation.services import performance as services
from marketplace.models import AuditAction, AuditEvent
from marketplace.record_language import in_language_of_record
from orgs_registry.models import CreditList, CreditProposal, CreditProposalStatus
from tenders.models import ContractStatus, MilestoneStatus, PerformanceGrade
from tenders.services import contracts as contract_services
from tests.conftest import building, module_database
from tests.evaluation.performance_support import (
    CONCLUSION,
    EVIDENCE,
    Built,
    answer_survey,
    assign,
    build_active,
    evaluate,
    scores_at,
)
from tests.tenders.test_award import RANKED_AT


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def _built_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Built]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        yield build_active(clock)


@pytest.fixture
def built(_built_once, db, clock) -> Built:
    clock.set(_built_once.built_until)
    return _built_once


def _events(action: AuditAction, evaluation: PerformanceEvaluation) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type="evaluation.performanceevaluation", object_id=evaluation.pk
        )
    )


def _declared(built: Built, kind: str = "mid_term", name: str = "independent"):
    assessor = built.assessor(name)
    evaluation = assign(built, kind, assessor)
    services.performance_declare(evaluation=evaluation, actor=assessor)
    return PerformanceEvaluation.objects.get(pk=evaluation.pk), assessor


# --- Assignment and independence -----------------------------------------------------------------


def test_an_official_assigns_an_independent_assessor_tied_to_the_milestone(
    built, django_capture_on_commit_callbacks
):
    assessor = built.assessor("independent")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = assign(built, "mid_term", assessor)

    assert evaluation.status == PerformanceEvaluationStatus.ASSIGNED
    assert evaluation.milestone == built.milestone("mid_term")
    assert evaluation.indicator_set.is_current
    assert evaluation.assigned_by == built.official
    (event,) = _events(AuditAction.PERFORMANCE_ASSIGNED, evaluation)
    assert event.details["kind"] == "mid_term"
    assert event.details["assessor"] == assessor.pk
    assert [m.to for m in mail.outbox] == [[assessor.email]]
    assert built.contract.reference in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("employed", "employed by the supplier within the last 3 years"),
        ("related", "a declared relation with the supplier"),
        ("purchasing", "staff of the purchasing unit"),
    ],
)
def test_an_assessor_in_conflict_with_the_supplier_is_refused(built, name, words):
    with pytest.raises(ValidationError) as caught:
        assign(built, "final", built.assessor(name))

    (error,) = caught.value.error_dict["assessor"]
    assert error.code == "conflict"
    (message,) = caught.value.message_dict["assessor"]
    assert words in message
    assert not PerformanceEvaluation.objects.exists()


def test_an_assessor_who_left_the_supplier_more_than_three_years_ago_is_accepted(built):
    evaluation = assign(built, "final", built.assessor("former"))

    assert evaluation.assessor == built.assessor("former")


def test_someone_who_is_not_an_assessor_cannot_be_assigned(built):
    with pytest.raises(ValidationError) as caught:
        assign(built, "final", built.official)

    assert "assessor" in caught.value.message_dict


def test_one_standing_evaluation_per_kind_until_it_is_withdrawn(built):
    first = assign(built, "final", built.assessor("independent"))
    with pytest.raises(ValidationError) as caught:
        assign(built, "final", built.assessor("second"))
    assert "already has a Final evaluation" in caught.value.message_dict["kind"][0]

    services.performance_evaluation_withdraw(
        evaluation=first, actor=built.official, reason="评估人员工作调整。"
    )
    second = assign(built, "final", built.assessor("second"))

    assert second.assessor == built.assessor("second")
    first.refresh_from_db()
    assert first.status == PerformanceEvaluationStatus.WITHDRAWN
    (event,) = _events(AuditAction.PERFORMANCE_WITHDRAWN, first)
    assert event.details["reason"] == "评估人员工作调整。"


def test_only_an_official_assigns(built):
    with pytest.raises(PermissionDenied):
        services.performance_evaluation_assign(
            contract=built.contract,
            kind="final",
            assessor=built.assessor("independent"),
            actor=built.supplier_admin,
            due_date=timezone.localdate() + timedelta(days=10),
        )


def test_bad_input_names_its_fields(built):
    with pytest.raises(ValidationError) as caught:
        services.performance_evaluation_assign(
            contract=built.contract,
            kind="yearly",
            assessor=built.assessor("independent"),
            actor=built.official,
            due_date=date(2020, 1, 1),
        )

    assert set(caught.value.message_dict) == {"kind", "due_date"}


def test_a_terminated_contract_is_not_evaluated(built):
    contract_services.contract_terminate(
        contract=built.contract, actor=built.official, reason="服务机构严重违约。"
    )

    with pytest.raises(ValidationError) as caught:
        assign(built, "final", built.assessor("independent"))

    assert caught.value.code == "invalid_state"


def test_withdrawal_needs_a_reason_and_comes_before_the_submission(built):
    evaluation = assign(built, "mid_term", built.assessor("independent"))
    with pytest.raises(ValidationError) as caught:
        services.performance_evaluation_withdraw(
            evaluation=evaluation, actor=built.official, reason=" "
        )
    assert "reason" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.performance_evaluation_withdraw(
            evaluation=evaluation, actor=built.assessor("independent"), reason="不想做了"
        )

    submitted = evaluate(built, "final", built.assessor("second"), "0.9")
    with pytest.raises(ValidationError) as caught:
        services.performance_evaluation_withdraw(
            evaluation=submitted, actor=built.official, reason="重新评价"
        )
    assert caught.value.code == "invalid_state"


# --- The declaration -----------------------------------------------------------------------------


def test_the_assessor_declares_independence_before_scoring(built):
    assessor = built.assessor("independent")
    evaluation = assign(built, "mid_term", assessor)
    with pytest.raises(PermissionDenied):
        services.performance_scores_save(
            evaluation=evaluation, actor=assessor, scores={"D1": ("8", "")}
        )

    services.performance_declare(evaluation=evaluation, actor=assessor)

    evaluation.refresh_from_db()
    assert evaluation.declared_at == timezone.now()
    assert len(_events(AuditAction.PERFORMANCE_DECLARED, evaluation)) == 1
    with pytest.raises(ValidationError):
        services.performance_declare(evaluation=evaluation, actor=assessor)


def test_the_declaration_checks_the_conflicts_again(built):
    assessor = built.assessor("independent")
    evaluation = assign(built, "mid_term", assessor)
    assessor_relation_add(
        profile=assessor.assessor_profile,
        actor=assessor,
        organization_name=built.contract.organization.name,
        organization=built.contract.organization,
        relation="兼任该机构督导",
    )

    with pytest.raises(ValidationError) as caught:
        services.performance_declare(evaluation=evaluation, actor=assessor)

    assert caught.value.code == "conflict"
    assert "a declared relation with the supplier" in caught.value.messages[0]
    evaluation.refresh_from_db()
    assert evaluation.declared_at is None


def test_only_the_assigned_assessor_declares(built):
    evaluation = assign(built, "mid_term", built.assessor("independent"))

    for actor in (built.assessor("second"), built.official, built.supplier_admin):
        with pytest.raises(PermissionDenied):
            services.performance_declare(evaluation=evaluation, actor=actor)


# --- Scores --------------------------------------------------------------------------------------


def test_a_partial_draft_is_saved_without_its_values_in_the_log(built):
    evaluation, assessor = _declared(built)

    services.performance_scores_save(
        evaluation=evaluation,
        actor=assessor,
        scores={"D1": ("7.5", EVIDENCE), "O1": (Decimal("15"), "")},
        conclusion="初稿",
    )

    saved = dict(
        PerformanceScore.objects.filter(evaluation=evaluation).values_list(
            "indicator__code", "score"
        )
    )
    assert saved == {"D1": Decimal("7.5"), "O1": Decimal("15.0")}
    (event,) = _events(AuditAction.PERFORMANCE_SCORES_SAVED, evaluation)
    assert event.details["indicators"] == ["D1", "O1"]
    assert "7.5" not in str(event.details)
    evaluation.refresh_from_db()
    assert evaluation.conclusion == "初稿"


def test_scores_out_of_bounds_are_named_by_indicator_and_nothing_is_saved(built):
    evaluation, assessor = _declared(built)

    with pytest.raises(ValidationError) as caught:
        services.performance_scores_save(
            evaluation=evaluation,
            actor=assessor,
            scores={
                "D1": ("5", EVIDENCE),
                "O1": ("16", EVIDENCE),
                "O2": ("-1", EVIDENCE),
                "O3": ("2.25", EVIDENCE),
                "P1": ("很好", EVIDENCE),
                "X9": ("1", EVIDENCE),
            },
        )

    errors = caught.value.message_dict
    assert set(errors) == {"O1", "O2", "O3", "P1", "X9"}
    assert errors["O1"] == ["The score must be between 0 and 15."]
    assert errors["O3"] == ["The score has at most one decimal place."]
    assert errors["P1"] == ["The score must be a number."]
    assert not PerformanceScore.objects.filter(evaluation=evaluation).exists()


def test_an_empty_score_clears_a_saved_one(built):
    evaluation, assessor = _declared(built)
    services.performance_scores_save(
        evaluation=evaluation, actor=assessor, scores={"D1": ("5", EVIDENCE)}
    )

    services.performance_scores_save(evaluation=evaluation, actor=assessor, scores={"D1": ("", "")})

    assert not PerformanceScore.objects.filter(evaluation=evaluation).exists()


def test_submission_needs_every_score_evidence_below_the_maximum_and_a_conclusion(built):
    evaluation, assessor = _declared(built)
    scores = scores_at(evaluation, "0.8")
    del scores["B2"]
    scores["D1"] = (scores["D1"][0], "")
    services.performance_scores_save(evaluation=evaluation, actor=assessor, scores=scores)

    with pytest.raises(ValidationError) as caught:
        services.performance_evaluation_submit(evaluation=evaluation, actor=assessor)

    errors = caught.value.message_dict
    assert errors["B2"] == ["Score this indicator."]
    assert errors["D1"] == ["Give the evidence for a score below the maximum (8)."]
    assert errors["conclusion"] == ["Write the conclusion of the evaluation."]
    evaluation.refresh_from_db()
    assert evaluation.status == PerformanceEvaluationStatus.ASSIGNED
    assert built.milestone("mid_term").status == MilestoneStatus.PLANNED


def test_a_full_score_needs_no_evidence(built):
    evaluation, assessor = _declared(built)
    services.performance_scores_save(
        evaluation=evaluation,
        actor=assessor,
        scores=scores_at(evaluation, "1", evidence=""),
        conclusion=CONCLUSION,
    )

    services.performance_evaluation_submit(evaluation=evaluation, actor=assessor)

    evaluation.refresh_from_db()
    assert evaluation.total_score == Decimal("100.0")
    assert evaluation.grade == PerformanceGrade.EXCELLENT


def test_the_satisfaction_indicator_comes_from_the_survey(built, clock):
    answer_survey(built, clock, [5, 5, 5, 5, 4, 4, 4, 4, 3, 2])
    evaluation, assessor = _declared(built)

    with pytest.raises(ValidationError) as caught:
        services.performance_scores_save(
            evaluation=evaluation, actor=assessor, scores={"B3": ("12", EVIDENCE)}
        )
    assert "scored from the satisfaction survey (9.6)" in caught.value.message_dict["B3"][0]

    services.performance_scores_save(
        evaluation=evaluation,
        actor=assessor,
        scores=scores_at(evaluation, "1", skip_satisfaction=True),
        conclusion=CONCLUSION,
    )
    services.performance_evaluation_submit(evaluation=evaluation, actor=assessor)

    evaluation.refresh_from_db()
    assert evaluation.satisfaction_answers == 10
    assert evaluation.satisfaction_rate == Decimal("80.0")
    survey_score = PerformanceScore.objects.get(evaluation=evaluation, indicator__code="B3")
    assert survey_score.score == Decimal("9.6")
    assert "10" in survey_score.evidence
    assert evaluation.total_score == Decimal("97.6")


# --- Payment by results --------------------------------------------------------------------------


def _grade_label(grade: str) -> str:
    return in_language_of_record(PerformanceGrade(grade).label)


def test_a_fair_mid_term_result_releases_the_milestone_payment(
    built, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = evaluate(built, "mid_term", built.assessor("independent"), "0.7")

    assert evaluation.status == PerformanceEvaluationStatus.SUBMITTED
    assert evaluation.total_score == Decimal("70.0")
    assert evaluation.grade == PerformanceGrade.FAIR
    milestone = built.milestone("mid_term")
    assert milestone.status == MilestoneStatus.PAID
    assert milestone.released_amount == Decimal("192000.00")
    assert milestone.withheld_amount == Decimal("0")
    assert _grade_label("fair") in milestone.decision_reason
    assert "70" in milestone.decision_reason
    (event,) = _events(AuditAction.PERFORMANCE_SUBMITTED, evaluation)
    assert event.details["grade"] == "fair"
    assert event.details["payment"]["released"] is True
    assert event.details["credit_proposal"] is None
    recipients = {address for m in mail.outbox for address in m.to}
    assert built.supplier_admin.email in recipients
    assert built.official.email in recipients


def test_a_poor_mid_term_result_withholds_the_payment_with_the_reason(built):
    evaluation = evaluate(built, "mid_term", built.assessor("independent"), "0.5")

    assert evaluation.total_score == Decimal("50.0")
    assert evaluation.grade == PerformanceGrade.POOR
    milestone = built.milestone("mid_term")
    assert milestone.status == MilestoneStatus.WITHHELD
    assert milestone.withheld_amount == Decimal("192000.00")
    assert milestone.released_amount == Decimal("0")
    assert _grade_label("poor") in milestone.decision_reason
    assert _grade_label("fair") in milestone.decision_reason  # the threshold
    # A poor mid-term result proposes no credit entry: only the final result counts.
    assert not CreditProposal.objects.exists()


def test_a_poor_final_result_proposes_an_abnormal_list_entry(built):
    evaluation = evaluate(built, "final", built.assessor("independent"), "0.5")

    proposal = CreditProposal.objects.get()
    assert proposal.organization_id == built.contract.organization_id
    assert proposal.credit_list == CreditList.ABNORMAL
    assert proposal.status == CreditProposalStatus.PROPOSED
    # Stored in the language of record (Chinese): the evaluation's number and the contract.
    assert re.search(rf"\b{evaluation.pk}\b", proposal.source)
    assert built.contract.reference in proposal.source
    assert proposal.source_url.endswith(f"/performance/{evaluation.pk}/")
    assert built.milestone("final").status == MilestoneStatus.WITHHELD
    (event,) = _events(AuditAction.PERFORMANCE_SUBMITTED, evaluation)
    assert event.details["credit_proposal"] == proposal.pk


def test_the_last_settled_milestone_completes_the_contract(built):
    report = built.contract.milestones.get(sequence=1)
    contract_services.milestone_settle(
        milestone=report, release=True, reason="报告已验收", actor=built.official
    )
    evaluate(built, "mid_term", built.assessor("independent"), "0.85")
    evaluate(built, "final", built.assessor("second"), "0.95")

    contract = built.contract
    assert contract.status == ContractStatus.COMPLETED
    assert built.milestone("final").released_amount == Decimal("144000.00")


def test_only_the_declared_assessor_submits(built):
    evaluation, assessor = _declared(built)
    services.performance_scores_save(
        evaluation=evaluation,
        actor=assessor,
        scores=scores_at(evaluation, "0.9"),
        conclusion=CONCLUSION,
    )

    for actor in (built.assessor("second"), built.official, built.supplier_admin):
        with pytest.raises(PermissionDenied):
            services.performance_evaluation_submit(evaluation=evaluation, actor=actor)


# --- The organization's reply --------------------------------------------------------------------


def test_the_supplier_admin_replies_once(built, other_org_admin):
    evaluation = evaluate(built, "mid_term", built.assessor("independent"), "0.7")
    for actor in (built.supplier_member, other_org_admin, built.official):
        with pytest.raises(PermissionDenied):
            services.performance_reply(evaluation=evaluation, actor=actor, reply="我们有异议。")
    with pytest.raises(ValidationError) as caught:
        services.performance_reply(evaluation=evaluation, actor=built.supplier_admin, reply="")
    assert "reply" in caught.value.message_dict

    services.performance_reply(
        evaluation=evaluation, actor=built.supplier_admin, reply="感谢评价，将加强档案管理。"
    )

    evaluation.refresh_from_db()
    assert evaluation.status == PerformanceEvaluationStatus.REPLIED
    assert evaluation.replied_by == built.supplier_admin
    assert len(_events(AuditAction.PERFORMANCE_REPLIED, evaluation)) == 1
    with pytest.raises(ValidationError) as caught:
        services.performance_reply(
            evaluation=evaluation, actor=built.supplier_admin, reply="再补充一点。"
        )
    assert "once" in caught.value.messages[0]


def test_a_draft_cannot_be_replied_to(built):
    evaluation, _assessor = _declared(built)

    with pytest.raises(PermissionDenied):
        services.performance_reply(
            evaluation=evaluation, actor=built.supplier_admin, reply="提前回复"
        )


def test_the_assessor_is_told_of_a_withdrawal_and_of_the_reply(
    built, django_capture_on_commit_callbacks
):
    assessor = built.assessor("independent")
    evaluation = assign(built, "mid_term", assessor)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.performance_evaluation_withdraw(
            evaluation=evaluation, actor=built.official, reason="评估人员回避。"
        )
    assert [m.to for m in mail.outbox] == [[assessor.email]]
    assert "评估人员回避。" in mail.outbox[0].body

    final = evaluate(built, "final", built.assessor("second"), "0.9")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.performance_reply(
            evaluation=final, actor=built.supplier_admin, reply="感谢评价，将持续改进。"
        )
    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert recipients == sorted([built.assessor("second").email, built.official.email])
    assert all("感谢评价" in m.body for m in mail.outbox)
