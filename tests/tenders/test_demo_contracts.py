"""The contracts demo: contracts in every state, delivery reports, survey answers, performance
evaluations of every grade by independent assessors, payments released and one withheld by
its grade, the poor result's credit proposal, and the feedback into a later tender's
past-performance score. Built once for the module (seeding takes a while)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from evaluation import objective, performance
from evaluation.models import (
    ObjectiveScore,
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
)
from evaluation.selectors import past_performance_means
from evaluation.services.performance import independence_conflict
from marketplace.audit import audit_verify
from marketplace.demo import seed_demo
from marketplace.models import AuditAction, AuditEvent
from marketplace.uploads import sniff_document
from orgs_registry.models import CreditProposal, CreditProposalStatus
from tenders.demo import TENDERS
from tenders.demo_contracts import CONTRACTS, demo_contract_counts, demo_contracts, demo_png
from tenders.models import (
    Contract,
    ContractStatus,
    DeliveryDocumentKind,
    DeliveryReport,
    DeliveryReportStatus,
    EvaluationKind,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    PerformanceGrade,
    SurveyResponse,
    TeamChange,
    TeamChangeStatus,
    Tender,
    TenderStatus,
)
from tenders.services.surveys import redact_phones
from tests.conftest import building, module_database

RESULTS = sorted({PerformanceEvaluationStatus.SUBMITTED, PerformanceEvaluationStatus.REPLIED})


def snapshot() -> dict[str, object]:
    return {
        **demo_contract_counts(),
        "audit events": AuditEvent.objects.count(),
        "tenders": Tender.objects.count(),
        "contract states": Counter(Contract.objects.values_list("status", flat=True)),
        "milestone states": Counter(Milestone.objects.values_list("status", flat=True)),
    }


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    """The module's folder for uploaded files: the demo's documents live there."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, media_root) -> Iterator[dict[str, object]]:
    """One demo for the whole module, rolled back at its end; each test runs in a savepoint."""
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=timezone.now(), media=media_root),
    ):
        seed_demo()
        yield snapshot()


@pytest.fixture
def demo(seeded, db, settings, media_root) -> dict[str, object]:
    # The seeded documents live in the module's media folder, not the test's own.
    settings.MEDIA_ROOT = media_root
    return seeded


def contract(title: str) -> Contract:
    return Contract.objects.select_related("organization", "tender").get(title=title)


def by_stage(stage: str) -> list[Contract]:
    titles = [plan.tender.title for plan in CONTRACTS if plan.stage == stage]
    return [contract(title) for title in titles]


def results() -> list[PerformanceEvaluation]:
    return list(
        PerformanceEvaluation.objects.filter(status__in=RESULTS).select_related(
            "contract__organization", "assessor"
        )
    )


# --- Seeding ----------------------------------------------------------------------------------


def test_seeding_again_changes_nothing(demo):
    assert snapshot() == demo
    seed_demo()
    assert snapshot() == demo
    assert audit_verify().ok


def test_verify_audit_passes_after_seeding(demo):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_the_catalogue_is_copied_with_numbered_titles_for_a_larger_scale():
    copies = demo_contracts(3)
    assert len(copies) == 3 * len(CONTRACTS)
    titles = [plan.tender.display_title for plan in copies]
    assert len(set(titles)) == len(titles)
    third = copies[2 * len(CONTRACTS)]
    assert third.tender.display_title.endswith("（第3批）")
    assert third.tender.org_key(third.supplier) == f"{third.supplier}~2"
    # The tenders demo's own catalogue keeps other titles.
    assert not {plan.tender.title for plan in CONTRACTS} & {plan.title for plan in TENDERS}


# --- Contracts --------------------------------------------------------------------------------


def test_every_contract_state_is_there(demo):
    states = Counter(Contract.objects.values_list("status", flat=True))
    assert set(states) == set(ContractStatus.values)
    assert states[ContractStatus.DRAFT] == 2
    assert Contract.objects.count() == len(CONTRACTS)
    tender_states = {c.title: c.tender.status for c in Contract.objects.select_related("tender")}
    for plan in CONTRACTS:
        expected = {
            "draft": TenderStatus.AWARDED,
            "draft_overdue": TenderStatus.AWARDED,
            "signed": TenderStatus.CONTRACTED,
            "active": TenderStatus.IN_DELIVERY,
            "completed": TenderStatus.COMPLETED,
            "terminated": TenderStatus.COMPLETED,
        }[plan.stage]
        assert tender_states[plan.tender.title] == expected, plan.key


def test_one_draft_is_overdue_with_only_the_suppliers_signature(demo):
    today = timezone.localdate()
    (overdue,) = by_stage("draft_overdue")
    assert overdue.status == ContractStatus.DRAFT
    assert overdue.sign_due < today
    assert overdue.supplier_signed_at is not None
    assert overdue.purchaser_signed_at is None
    (fresh,) = by_stage("draft")
    assert fresh.sign_due >= today
    assert fresh.supplier_signed_at is None
    assert fresh.purchaser_signed_at is None
    award = fresh.award
    assert timezone.localdate(award.notice_published_at) < today
    assert award.challenge_deadline < timezone.localdate(fresh.created_at)


def test_a_signed_contract_waits_for_its_first_day_with_its_survey_sites(demo):
    (signed,) = by_stage("signed")
    assert signed.status == ContractStatus.SIGNED
    assert signed.service_start > timezone.localdate()
    assert signed.published_at is not None
    assert signed.purchaser_signed_by.username == "approver"
    assert signed.supplier_signed_by.organization == signed.organization
    assert signed.survey_sites.count() == 2
    assert not signed.survey_responses.exists()


def test_signed_contracts_were_signed_by_both_sides_in_time_and_started_on_their_first_day(demo):
    for signed in Contract.objects.exclude(status=ContractStatus.DRAFT):
        assert signed.supplier_signed_at <= signed.purchaser_signed_at
        assert timezone.localdate(signed.purchaser_signed_at) <= signed.sign_due
        assert signed.created_at < signed.supplier_signed_at
        assert signed.tender.awarded_at < signed.created_at
        if signed.status != ContractStatus.SIGNED:
            assert timezone.localdate(signed.started_at) == signed.service_start
        assert AuditEvent.objects.filter(
            action=AuditAction.CONTRACT_SIGNED, object_id=str(signed.pk)
        ).exists()


def test_the_terminated_contract_has_its_reason_and_its_open_milestones_withheld(demo):
    (ended,) = by_stage("terminated")
    assert ended.status == ContractStatus.TERMINATED
    assert ended.termination_reason
    assert ended.terminated_by.username == "official"
    assert ended.terminated_at.date() < ended.service_end
    withheld = ended.milestones.filter(status=MilestoneStatus.WITHHELD)
    assert withheld.count() == 2
    for milestone in withheld:
        assert ended.termination_reason in milestone.decision_reason
        assert milestone.released_amount == 0
        assert milestone.withheld_amount == milestone.amount
    assert ended.milestones.get(sequence=1).status == MilestoneStatus.PAID
    assert ended.reports.filter(status=DeliveryReportStatus.RETURNED).exists()


def test_milestone_amounts_of_every_contract_add_up_to_its_price(demo):
    for found in Contract.objects.prefetch_related("milestones"):
        milestones = list(found.milestones.all())
        assert [m.sequence for m in milestones] == [1, 2, 3], found
        assert sum(m.amount for m in milestones) == found.price, found
        assert [m.share for m in milestones] == [Decimal(30), Decimal(40), Decimal(30)]
        assert [m.kind for m in milestones] == [
            MilestoneKind.REPORT,
            MilestoneKind.EVALUATION,
            MilestoneKind.EVALUATION,
        ]
        if found.status in (ContractStatus.COMPLETED, ContractStatus.TERMINATED):
            assert all(m.is_settled for m in milestones), found
            settled = sum(m.released_amount + m.withheld_amount for m in milestones)
            assert settled == found.price
        assert found.price == found.award.bid.price


def test_exactly_one_payment_is_withheld_by_its_grade_and_a_credit_entry_is_proposed(demo):
    by_grade = Milestone.objects.filter(status=MilestoneStatus.WITHHELD).exclude(
        contract__status=ContractStatus.TERMINATED
    )
    (withheld,) = by_grade
    assert withheld.kind == MilestoneKind.EVALUATION
    assert withheld.evaluation_kind == EvaluationKind.FINAL
    assert withheld.withheld_amount == withheld.amount > 0
    assert withheld.released_amount == 0
    assert withheld.paid_on is None
    assert withheld.decision_reason
    evaluation = withheld.performance_evaluations.get()
    assert evaluation.grade == PerformanceGrade.POOR
    assert withheld.contract.pass_grade == PerformanceGrade.FAIR
    assert not performance.meets(evaluation.grade, withheld.contract.pass_grade)
    assert withheld.contract.status == ContractStatus.COMPLETED
    assert AuditEvent.objects.filter(
        action=AuditAction.MILESTONE_WITHHELD, object_id=str(withheld.pk)
    ).exists()
    proposal = CreditProposal.objects.get()
    assert proposal.organization == withheld.contract.organization
    assert proposal.status == CreditProposalStatus.PROPOSED
    assert proposal.source_url.endswith(f"/{evaluation.pk}/")
    assert evaluation.reply


def test_released_payments_are_recorded_except_the_latest_of_a_contract_in_delivery(demo):
    paid = Milestone.objects.filter(status=MilestoneStatus.PAID).select_related("contract")
    waiting = [m for m in paid if m.paid_on is None]
    assert len(waiting) == 1
    assert waiting[0].contract.status == ContractStatus.ACTIVE
    for milestone in paid:
        assert milestone.released_amount == milestone.amount
        if milestone.paid_on is not None:
            assert milestone.payment_reference
            assert timezone.localdate(milestone.settled_at) <= milestone.paid_on
            assert milestone.paid_on <= timezone.localdate()


def test_team_changes_were_approved_and_one_waits_for_the_official(demo):
    changes = Counter(TeamChange.objects.values_list("status", flat=True))
    assert changes == {TeamChangeStatus.APPROVED: 1, TeamChangeStatus.REQUESTED: 1}
    approved = TeamChange.objects.get(status=TeamChangeStatus.APPROVED)
    assert approved.leaving.left_on is not None
    assert approved.contract.team.filter(person=approved.joining, left_on__isnull=True).exists()
    assert approved.decided_by.username == "official"


# --- Delivery reports -------------------------------------------------------------------------


def test_reports_were_accepted_returned_and_one_waits_for_review(demo):
    states = Counter(DeliveryReport.objects.values_list("status", flat=True))
    assert states[DeliveryReportStatus.ACCEPTED] >= 6
    assert states[DeliveryReportStatus.RETURNED] == 2
    assert states[DeliveryReportStatus.SUBMITTED] == 1
    for returned in DeliveryReport.objects.filter(status=DeliveryReportStatus.RETURNED):
        assert returned.review_comment
        assert returned.reviewed_by.username == "official"
    waiting = DeliveryReport.objects.get(status=DeliveryReportStatus.SUBMITTED)
    assert waiting.milestone.status == MilestoneStatus.REPORTED
    assert waiting.period_end < timezone.localdate()


def test_reports_carry_activities_people_spending_a_photo_and_a_pdf(demo, settings, media_root):
    for report in DeliveryReport.objects.select_related("contract"):
        contract = report.contract
        assert contract.service_start <= report.period_start <= report.period_end
        assert report.period_end <= contract.service_end
        assert report.period_end < timezone.localdate(report.submitted_at)
        assert report.activities.strip()
        assert report.people_served > 0
        assert report.service_sessions > 0
        assert {line["item"] for line in report.spending} >= {"人员经费", "管理费用"}
        assert 0 < report.spent_total <= report.budget_total
        kinds = Counter(report.documents.values_list("kind", flat=True))
        assert kinds[DeliveryDocumentKind.PHOTO] == 1
        assert kinds[DeliveryDocumentKind.DOCUMENT] <= 1
    for report in DeliveryReport.objects.filter(status=DeliveryReportStatus.ACCEPTED):
        assert report.documents.filter(kind=DeliveryDocumentKind.DOCUMENT).exists()
        for document in report.documents.all():
            with document.file.open("rb") as handle:
                kind = sniff_document(handle.read())
            assert kind == ("png" if document.kind == DeliveryDocumentKind.PHOTO else "pdf")


def test_the_demo_photo_is_a_valid_png():
    data = demo_png((10, 120, 200), size=4)
    assert sniff_document(data) == "png"
    assert data.endswith(b"IEND\xaeB`\x82")


# --- Surveys ----------------------------------------------------------------------------------


def test_survey_answers_span_several_periods_with_varied_ratings(demo):
    answered = Contract.objects.annotate(answers=Count("survey_responses")).filter(answers__gt=0)
    assert answered.count() == 5
    assert SurveyResponse.objects.count() >= 80
    for found in answered:
        rows = list(found.survey_responses.all())
        assert len({r.period for r in rows}) >= 2, found
        assert len({r.overall for r in rows}) >= 3, found
        assert len({(r.period, r.respondent) for r in rows}) == len(rows)
        assert len({r.site_id for r in rows}) == 2
        for row in rows:
            # Answered while the contract was in delivery, within its service period.
            assert found.service_start <= timezone.localdate(row.submitted_at) <= found.service_end
            if found.terminated_at is not None:
                assert row.submitted_at < found.terminated_at
            assert redact_phones(row.comment) == row.comment
            assert len(row.respondent) == 64  # a keyed hash, never the number
    assert SurveyResponse.objects.exclude(comment="").exists()


def test_satisfaction_follows_the_service_quality(demo):
    rates = {}
    for plan in CONTRACTS:
        if plan.stage in ("completed",):
            final = contract(plan.tender.title).performance_evaluations.get(kind="final")
            rates[plan.final.grade] = final.satisfaction_rate
            assert (
                final.satisfaction_answers == contract(plan.tender.title).survey_responses.count()
            )
    assert rates["excellent"] > 80 > rates["poor"]


# --- Performance evaluations ------------------------------------------------------------------


def test_every_grade_and_both_kinds_of_evaluation_are_there(demo):
    found = results()
    assert {e.grade for e in found} == set(PerformanceGrade.values)
    assert {e.kind for e in found} == set(EvaluationKind.values)
    for evaluation in found:
        assert performance.grade_for(evaluation.total_score) == evaluation.grade
        assert evaluation.conclusion
        assert evaluation.declared_at is not None
        assert evaluation.declared_at < evaluation.submitted_at
        assert evaluation.scores.count() == evaluation.indicator_set.indicators.count()
        for score in evaluation.scores.select_related("indicator"):
            if score.score < score.indicator.max_points:
                assert score.evidence
        assert evaluation.satisfaction_answers > 0
        assert evaluation.milestone.status in (MilestoneStatus.PAID, MilestoneStatus.WITHHELD)
    replied = [e for e in found if e.status == PerformanceEvaluationStatus.REPLIED]
    assert len(replied) >= 2
    assert all(e.reply and e.replied_by.organization == e.contract.organization for e in replied)


def test_the_demo_assessor_has_an_evaluation_waiting(demo):
    waiting = PerformanceEvaluation.objects.get(status=PerformanceEvaluationStatus.ASSIGNED)
    assert waiting.assessor.username == "assessor"
    assert waiting.kind == EvaluationKind.MID_TERM
    assert waiting.declared_at is None
    assert waiting.due_date >= timezone.localdate()
    assert waiting.contract.status == ContractStatus.ACTIVE
    assert waiting.milestone.status == MilestoneStatus.REPORTED


def test_every_assessor_was_independent_of_the_supplier(demo):
    for evaluation in PerformanceEvaluation.objects.select_related("contract__organization"):
        day = timezone.localdate(evaluation.assigned_at)
        assert independence_conflict(evaluation.assessor, evaluation.contract, day) is None
        assert evaluation.assessor.organization_id != evaluation.contract.organization_id
    assert len({e.assessor_id for e in PerformanceEvaluation.objects.all()}) >= 4


def test_completed_contracts_end_with_their_final_evaluation(demo):
    for found in by_stage("completed"):
        final = found.performance_evaluations.get(kind=EvaluationKind.FINAL)
        mid_term = found.performance_evaluations.get(kind=EvaluationKind.MID_TERM)
        assert mid_term.submitted_at < final.submitted_at <= found.completed_at
        assert found.service_end <= timezone.localdate(final.submitted_at)
        assert found.completed_at < timezone.now() - timedelta(days=7)


def test_final_evaluations_feed_the_past_performance_of_a_later_tender(demo):
    excellent = contract("困境儿童关爱保护服务项目")
    final = excellent.performance_evaluations.get(kind=EvaluationKind.FINAL)
    later = contract("青少年心理健康教育服务项目").tender
    assert excellent.organization_id in set(later.bids.values_list("organization_id", flat=True))
    since = timezone.localdate() - timedelta(days=3 * 365)
    means = past_performance_means([excellent.organization_id], since)
    assert means[excellent.organization_id] == final.total_score
    criterion = later.criteria.get(code="performance")
    scores = {
        row.bid.organization_id: row.score
        for row in ObjectiveScore.objects.filter(
            bid__tender=later, criterion=criterion
        ).select_related("bid")
    }
    expected = objective.past_performance_score(criterion.points, final.total_score, criterion.rule)
    assert scores[excellent.organization_id] == expected == criterion.points
    others = [score for org, score in scores.items() if org != excellent.organization_id]
    assert len(others) == 2
    assert all(score == 0 for score in others)
