"""The evaluation report, the performance evaluation report, the grade certificate and the
integrity report: printed from real data in Chinese and English, visible exactly as their
pages are, with masked ID numbers for everyone but auditors and a bounded number of queries.

The module builds its state once with the real services (each test rolls back to it): a
confirmed 4A grade; the awarded tender of ``tests.tenders.test_award`` (four bids ranked by a
five-member panel) and its active contract, with a beneficiary survey, a submitted final
performance evaluation and a mid-term one still assigned; a second tender opened but not
evaluated; and a finished integrity screen run over a roster whose posts give flags.
"""

from __future__ import annotations

import io
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from evaluation.models import (
    FlagStatus,
    IntegrityFlag,
    IntegrityRun,
    MemberStatus,
    PanelMember,
    PerformanceEvaluation,
    RankingRow,
    RunStatus,
    Score,
)
from evaluation.services import integrity as integrity_services
from marketplace.models import Role, User
from orgs_registry import services as registry_services
from orgs_registry.identifiers import make_uscc, mask_id_number
from orgs_registry.models import GradeAssessment, GradeAssessmentStatus, ServiceCategory
from reports import documents
from reports.documents_evaluation import (
    evaluation_report_context,
    performance_report_context,
)
from reports.documents_integrity import evidence_summary, integrity_report_context, run_flags
from reports.documents_registry import validity
from tenders.models import Bid, Contract, Tender
from tests.conftest import building, make_user, module_database, persona
from tests.contract_support import make_active_contract
from tests.evaluation.conftest import make_assessor
from tests.evaluation.integrity_light import build_light
from tests.evaluation.performance_support import (
    CONCLUSION,
    EVIDENCE,
    Built,
    answer_survey,
    assign,
    evaluate,
    make_assessors,
)
from tests.evaluation.test_api_support import build_opened

START = datetime(2026, 7, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
GRADED_NAME = "渝中区等级评估示范社工服务中心"
RATINGS = [5, 5, 5, 5, 4, 4, 4, 4, 3, 2]


@dataclass(frozen=True)
class World:
    grade_id: int
    graded_admin_id: int
    tender_id: int
    unranked_tender_id: int
    contract_id: int
    final_id: int
    draft_id: int
    run_id: int
    id_number: str


def _confirmed_grade(clock) -> tuple[GradeAssessment, User]:
    """A 4A grade (860 of 1,000 points) confirmed after a one-day public notice."""
    registry = persona("registry_admin", Role.REGISTRY_ADMIN)
    organization = registry_services.organization_create(
        name=GRADED_NAME,
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="77000001"),
        actor=registry,
        verified=True,
        registration_date=date(2018, 6, 1),
    )
    admin = make_user("graded_admin", Role.ORG_ADMIN, organization)
    grader = make_assessor(
        "grade_assessor",
        agency="重庆市社会组织评估中心",
        categories=[ServiceCategory.objects.get(code="disability")],
    )
    assessment = registry_services.grade_request(organization=organization, actor=admin)
    assessment = registry_services.grade_assign(
        assessment=assessment, actor=registry, assessor=grader
    )
    registry_services.grade_scores_save(
        assessment=assessment,
        actor=grader,
        scores={
            indicator.code: ((Decimal(indicator.max_points) * Decimal("0.86")), "")
            for indicator in assessment.indicator_set.indicators.all()
        },
    )
    registry_services.grade_propose(assessment=assessment, actor=grader)
    registry_services.grade_publicize(assessment=assessment, actor=registry, days=1)
    clock.set(clock.current + timedelta(days=2))
    assessment = registry_services.grade_confirm(assessment=assessment, actor=registry)
    return assessment, admin


def build_world(clock, tmp) -> World:
    grade, graded_admin = _confirmed_grade(clock)
    contract = make_active_contract(clock)
    assessors = make_assessors(contract, prefix="docs")
    built = Built(contract_id=contract.pk, assessor_ids=assessors, built_until=clock.current)
    answer_survey(built, clock, RATINGS)
    final = evaluate(
        contract,
        "final",
        User.objects.get(pk=assessors["independent"]),
        "0.9",
        skip_satisfaction=True,
    )
    draft = assign(contract, "mid_term", User.objects.get(pk=assessors["second"]))
    light = build_light(tmp)
    unranked = build_opened(clock)
    run = IntegrityRun.objects.filter(status=RunStatus.FINISHED).latest("finished_at")
    return World(
        grade_id=grade.pk,
        graded_admin_id=graded_admin.pk,
        tender_id=contract.tender_id,
        unranked_tender_id=unranked.tender.pk,
        contract_id=contract.pk,
        final_id=final.pk,
        draft_id=draft.pk,
        run_id=run.pk,
        id_number=light.id_number,
    )


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=START, media=tmp_path_factory.mktemp("media")) as clock,
    ):
        yield build_world(clock, tmp_path_factory.mktemp("roster"))


@pytest.fixture
def world(_world, db) -> World:
    return _world


# --- Helpers -------------------------------------------------------------------------------------


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """The text without line breaks (a long cell wraps inside its column)."""
    return "".join(text.split())


def render(kind: str, obj, user=None, language: str = "zh-hans") -> str:
    return text_of(documents.render_document(kind, obj, user=user, language=language))


def download(client: Client, kind: str, pk: int, language: str = "zh-hans"):
    return client.get(reverse("reports:document_pdf", args=[kind, pk]), {"lang": language})


def downloaded_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Disposition"].startswith("attachment")
    return text_of(b"".join(response.streaming_content))


def panel_members(tender_id: int) -> list[User]:
    return [
        member.user
        for member in PanelMember.objects.filter(panel__tender_id=tender_id)
        .exclude(status=MemberStatus.REPLACED)
        .select_related("user")
        .order_by("seat")
    ]


def bidder_admins(tender_id: int) -> list[User]:
    organizations = Bid.objects.filter(tender_id=tender_id).values("organization_id")
    return list(User.objects.filter(organization_id__in=organizations, role=Role.ORG_ADMIN))


# --- The evaluation report -----------------------------------------------------------------------


def test_the_evaluation_report_prints_the_panel_scores_and_ranking_in_chinese(world, official):
    tender = Tender.objects.get(pk=world.tender_id)
    text = render("evaluation_report", tender, official)
    flat_text = flat(text)
    assert flat(tender.title) in flat_text
    assert tender.reference in text
    for member in panel_members(world.tender_id):
        assert member.get_full_name() in text
    for row in RankingRow.objects.filter(ranking__tender=tender).select_related(
        "bid__organization"
    ):
        assert flat(row.bid.organization.name) in flat_text
        assert f"{row.total:.2f}" in text
        assert f"{row.price_score:.2f}" in text
    # The winner's row of the matrix: the five members' plan scores (45 of 50), their mean.
    assert "服务方案/50" + "45.00" * 5 + "45.00" in flat_text
    reasons = set(
        Score.objects.filter(sheet__member__panel__tender=tender).values_list("reason", flat=True)
    )
    assert reasons
    assert all(reason in text for reason in reasons)
    assert "430000.00" in text  # the base price, the lowest valid price
    assert "解放碑街道" in text or "Jiefangbei" in text


def test_the_english_evaluation_report_has_english_labels(world, auditor):
    tender = Tender.objects.get(pk=world.tender_id)
    text = render("evaluation_report", tender, auditor, language="en")
    for label in [
        "Evaluation report",
        "The evaluation panel",
        "Each member's scores",
        "Price score",
        "Totals and ranking",
        "Signatures of the panel",
    ]:
        assert label in text, label


def test_the_evaluation_report_is_for_the_office_auditors_and_the_panel(
    world, client_for, official, approver, auditor
):
    for reader in [official, approver, auditor, panel_members(world.tender_id)[0]]:
        response = download(client_for(reader), "evaluation_report", world.tender_id)
        assert Tender.objects.get(pk=world.tender_id).reference in downloaded_text(response)


def test_bidders_the_public_and_other_assessors_get_404_for_the_evaluation_report(
    world, client, client_for, assessor, outsider
):
    assert download(client, "evaluation_report", world.tender_id).status_code == 404
    for reader in [*bidder_admins(world.tender_id), assessor, outsider]:
        response = download(client_for(reader), "evaluation_report", world.tender_id)
        assert response.status_code == 404, reader


def test_there_is_no_evaluation_report_before_the_ranking(world, client_for, official):
    assert (
        download(client_for(official), "evaluation_report", world.unranked_tender_id).status_code
        == 404
    )
    document = documents.document_for("evaluation_report")
    with pytest.raises(LookupError, match="no frozen ranking"):
        document.by_id(world.unranked_tender_id)
    latest = document.latest()
    assert latest is not None
    assert latest.pk == world.tender_id


def test_the_evaluation_report_context_takes_a_bounded_number_of_queries(
    world, official, django_assert_max_num_queries
):
    tender = Tender.objects.get(pk=world.tender_id)
    with django_assert_max_num_queries(16):
        context = evaluation_report_context(tender, official)
    report = context["report"]
    assert len(report.matrices) == 4
    assert len(report.signers) == 5
    assert [line.position for line in report.ranked] == [1, 2, 3, 4]


def test_the_ranking_page_links_the_evaluation_report(world, client_for, official):
    html = (
        client_for(official)
        .get(reverse("evaluation:ranking", args=[world.tender_id]))
        .content.decode()
    )
    assert reverse("reports:document_pdf", args=["evaluation_report", world.tender_id]) in html


def test_render_report_writes_the_latest_evaluation_report(world, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("render_report", "evaluation_report", "--out", str(out))
    assert Tender.objects.get(pk=world.tender_id).reference in text_of(out.read_bytes())


# --- The performance evaluation report -----------------------------------------------------------


def test_the_performance_report_prints_scores_grade_and_conclusion_in_chinese(world, official):
    evaluation = PerformanceEvaluation.objects.get(pk=world.final_id)
    text = flat(render("performance_report", evaluation, official))
    contract = Contract.objects.select_related("organization").get(pk=world.contract_id)
    assert flat(contract.organization.name) in text
    assert contract.reference in text
    assert f"{evaluation.total_score:.1f}" in text
    with translation.override("zh-hans"):
        assert str(evaluation.get_grade_display()) in text
    assert flat(EVIDENCE) in text
    assert flat(CONCLUSION) in text
    assert evaluation.assessor.get_full_name() in text


def test_the_performance_report_has_its_two_charts_in_english(world, official):
    evaluation = PerformanceEvaluation.objects.get(pk=world.final_id)
    with translation.override("en"):
        context = performance_report_context(evaluation, official)
    assert context["group_chart"].svg.startswith("<svg")
    assert context["rating_chart"].svg.startswith("<svg")
    assert [line.count for line in context["ratings"]] == [0, 1, 1, 4, 4]
    text = render("performance_report", evaluation, official, language="en")
    # The charts are vector drawings whose text stays text: their titles are in the PDF.
    assert "Score of each group of indicators against its maximum" in text
    assert "Overall satisfaction ratings" in text
    for label in ["Performance evaluation report", "Beneficiary satisfaction", "Conclusion"]:
        assert label in text


def test_a_final_result_is_public_and_a_draft_has_no_report(world, client, client_for, official):
    public = downloaded_text(download(client, "performance_report", world.final_id, "en"))
    assert "Performance evaluation report" in public
    assert "A third-party assessor from the pool" in public  # named only to the office
    assert download(client_for(official), "performance_report", world.draft_id).status_code == 404
    with pytest.raises(Http404):
        documents.document_for("performance_report").for_user(
            PerformanceEvaluation.objects.get(pk=world.draft_id).assessor, world.draft_id
        )


def test_the_performance_page_links_its_report(world, client):
    html = client.get(reverse("evaluation:performance_detail", args=[world.final_id])).content
    assert reverse("reports:document_pdf", args=["performance_report", world.final_id]) in (
        html.decode()
    )


# --- The grade certificate -----------------------------------------------------------------------


def test_the_grade_certificate_prints_the_grade_and_validity(world, client_for):
    assessment = GradeAssessment.objects.select_related("organization").get(pk=world.grade_id)
    admin = User.objects.get(pk=world.graded_admin_id)
    text = downloaded_text(download(client_for(admin), "grade_certificate", world.grade_id))
    assert GRADED_NAME in text
    assert assessment.organization.uscc in text
    assert "4A" in text
    assert assessment.valid_from.isoformat() in text
    assert assessment.valid_until.isoformat() in text
    english = render("grade_certificate", assessment, admin, language="en")
    assert "Grade certificate" in english
    assert "no longer valid" not in english


def test_a_cancelled_grade_is_printed_as_no_longer_valid(world, registry_admin):
    assessment = GradeAssessment.objects.get(pk=world.grade_id)
    registry_services.grade_cancel(assessment=assessment, actor=registry_admin, reason="年检不合格")
    assessment.refresh_from_db()
    assert assessment.status == GradeAssessmentStatus.CANCELLED
    assert not validity(assessment).current
    text = render("grade_certificate", assessment, registry_admin, language="en")
    assert "Cancelled: this certificate is no longer valid" in text
    assert "年检不合格" in text


def test_the_grade_certificate_is_read_as_the_assessment_is(
    world, client, client_for, other_org_admin, registry_admin, auditor
):
    assert download(client, "grade_certificate", world.grade_id).status_code == 404
    assert (
        download(client_for(other_org_admin), "grade_certificate", world.grade_id).status_code
        == 404
    )
    for reader in [registry_admin, auditor]:
        assert download(client_for(reader), "grade_certificate", world.grade_id).status_code == 200
    html = (
        client_for(registry_admin)
        .get(reverse("orgs_registry:grade_detail", args=[world.grade_id]))
        .content.decode()
    )
    assert reverse("reports:document_pdf", args=["grade_certificate", world.grade_id]) in html


def test_an_assessment_without_a_grade_has_no_certificate(world, client_for, registry_admin):
    organization = registry_services.organization_create(
        name="渝中区尚未评级社会工作服务中心",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="77000002"),
        actor=registry_admin,
        verified=True,
        registration_date=date(2018, 6, 1),
    )
    admin = make_user("ungraded_admin", Role.ORG_ADMIN, organization)
    waiting = registry_services.grade_request(organization=organization, actor=admin)
    assert download(client_for(registry_admin), "grade_certificate", waiting.pk).status_code == 404
    assert download(client_for(admin), "grade_certificate", waiting.pk).status_code == 404


# --- The integrity report ------------------------------------------------------------------------


def test_the_integrity_report_lists_the_runs_flags_by_kind(world, official):
    run = IntegrityRun.objects.get(pk=world.run_id)
    flags = list(run_flags(run))
    assert flags
    assert {flag.last_run_id for flag in flags} == {run.pk}
    text = render("integrity_report", run, official, language="en")
    assert "Integrity report" in text
    assert "Purchasing unit keeps staff for the function" in text
    for flag in flags:
        assert flat(flag.subject_label) in flat(text)


def test_officials_read_masked_id_numbers_and_auditors_whole_ones(
    world, client_for, official, auditor
):
    masked = mask_id_number(world.id_number)
    text = flat(downloaded_text(download(client_for(official), "integrity_report", world.run_id)))
    assert masked in text
    assert world.id_number not in text
    text = flat(downloaded_text(download(client_for(auditor), "integrity_report", world.run_id)))
    assert world.id_number in text
    system = flat(render("integrity_report", IntegrityRun.objects.get(pk=world.run_id)))
    assert world.id_number not in system


def test_the_integrity_report_shows_each_flags_review(world, official):
    flag = IntegrityFlag.objects.filter(last_run_id=world.run_id).order_by("pk").first()
    integrity_services.flag_dismiss(
        flag=flag, actor=official, reason="该岗位为综合岗，非同一职能。"
    )
    run = IntegrityRun.objects.get(pk=world.run_id)
    text = flat(render("integrity_report", run, official))
    assert "该岗位为综合岗，非同一职能。" in text
    assert official.get_full_name() in text
    assert IntegrityFlag.objects.get(pk=flag.pk).status == FlagStatus.DISMISSED


@pytest.mark.parametrize("who", ["org_admin", "org_member", "assessor", "registry_admin"])
def test_the_integrity_report_is_404_for_everyone_but_the_office_and_auditors(
    request, world, client_for, client, who
):
    reader = request.getfixturevalue(who)
    assert download(client_for(reader), "integrity_report", world.run_id).status_code == 404
    assert download(client, "integrity_report", world.run_id).status_code == 404


def test_an_unfinished_run_has_no_report(world, client_for, official):
    queued = integrity_services.run_request(actor=official)
    assert download(client_for(official), "integrity_report", queued.pk).status_code == 404
    with pytest.raises(LookupError, match="not finished"):
        documents.document_for("integrity_report").by_id(queued.pk)
    latest = documents.document_for("integrity_report").latest()
    assert latest is not None
    assert latest.pk == world.run_id


def test_the_integrity_pages_link_the_report(world, client_for, auditor):
    url = reverse("reports:document_pdf", args=["integrity_report", world.run_id])
    client = client_for(auditor)
    assert url in client.get(reverse("evaluation:integrity_report")).content.decode()
    assert (
        url in client.get(reverse("evaluation:integrity_run", args=[world.run_id])).content.decode()
    )


def test_the_integrity_report_context_takes_a_bounded_number_of_queries(
    world, auditor, django_assert_max_num_queries
):
    run = IntegrityRun.objects.get(pk=world.run_id)
    with django_assert_max_num_queries(3):
        context = integrity_report_context(run, auditor)
    assert context["total_listed"] == len(run_flags(run))


def test_the_evidence_summary_is_short_and_labelled():
    with translation.override("en"):
        lines = evidence_summary(
            {"probability": 0.97, "posts": [{"name": "王敏"}] * 5, "note": "x" * 1000}
        )
    labels = dict(lines)
    assert labels["probability"] == "0.97"
    assert labels["roster posts"].count("王敏") == 3
    assert "(+2)" in labels["roster posts"]
    assert len(labels["note"]) <= 240


def test_the_performance_report_context_takes_a_bounded_number_of_queries(
    world, official, django_assert_max_num_queries
):
    evaluation = documents.document_for("performance_report").for_user(official, world.final_id)
    with django_assert_max_num_queries(5):
        context = performance_report_context(evaluation, official)
    assert sum(len(group.lines) for group in context["groups"]) > 0
