"""Acceptance journey of issue 6 on the pages: a contract runs from the award to its final
evaluation and last payment through the HTML forms, following the links a user would.

The official draws up the contract from the tender page, both sides sign, the supplier files
a report with spending rows and a photo, the official accepts it, beneficiaries answer the
public survey, an independent assessor declares, scores and submits the mid-term (released)
and final (poor: withheld) evaluations, the organization replies; the contract page shows
the paid and withheld amounts and the public profile the final grade. Only the awarded
tender before the contract is built with the services directly.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from evaluation.models import PerformanceEvaluation
from marketplace.audit import audit_verify
from marketplace.models import AuditAction, AuditEvent, User
from tenders.models import (
    Contract,
    ContractStatus,
    DeliveryReport,
    Milestone,
    MilestoneStatus,
    SurveyResponse,
    Tender,
)
from tenders.services import contracts as contract_services
from tests import contract_support
from tests.conftest import Clock
from tests.contract_support import ACTIVE_DAY, supplier_admin, supplier_member
from tests.evaluation.performance_support import CONCLUSION, make_assessors, scores_at
from tests.tenders.test_award import local

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
REPLY = "感谢评价，我们已制定整改方案。"


def browser(user: User | None = None) -> Client:
    """A browser reading English, signed in afresh (the clock jumps past sessions' ends)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        User.objects.filter(pk=user.pk).update(language="en")
        client.force_login(user)
    return client


def html_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def link(html: str, url: str) -> str:
    """The page links ``url``; the user follows it."""
    assert f'href="{url}"' in html or f'action="{url}"' in html, url
    return url


def milestone(contract: Contract, sequence: int) -> Milestone:
    return Milestone.objects.get(contract=contract, sequence=sequence)


def answer_survey(survey_url: str, clock: Clock, phone: str, rating: str) -> str:
    """A beneficiary scans the poster's code, takes twenty seconds, and sends the form."""
    client = browser()
    form = html_of(client, survey_url)
    started = re.search(r'name="started" value="([^"]+)"', form)
    assert started, "the form carries its signed start"
    clock.advance(seconds=20)
    response = client.post(
        survey_url,
        {
            "overall": rating,
            "quality": rating,
            "attitude": rating,
            "timeliness": rating,
            "comment": "服务很好",
            "phone": phone,
            "website": "",
            "started": started.group(1),
        },
    )
    assert response.status_code in (200, 409), response.status_code
    return response.content.decode()


def evaluate_on_pages(
    clock: Clock, contract: Contract, kind: str, assessor: User, fraction: str
) -> PerformanceEvaluation:
    """The official assigns from the contract page; the assessor declares, scores, submits."""
    official = contract_support.official()
    contract_page = html_of(
        browser(official), reverse("tenders:contract_detail", args=[contract.pk])
    )
    assign_url = link(contract_page, reverse("evaluation:performance_assign", args=[contract.pk]))
    html_of(browser(official), assign_url)
    due = (clock.current.date() + timedelta(days=20)).isoformat()
    assigned = browser(official).post(
        assign_url, {"kind": kind, "assessor": assessor.pk, "due_date": due}
    )
    assert assigned.status_code == 302, assigned.content.decode()
    evaluation = PerformanceEvaluation.objects.get(contract=contract, kind=kind)
    detail_url = reverse("evaluation:performance_detail", args=[evaluation.pk])
    assert assigned["Location"] == detail_url

    desk = browser(assessor)
    workspace = html_of(desk, reverse("evaluation:performance_list"))
    assert contract.reference in workspace
    detail = html_of(desk, link(workspace, detail_url))
    assert "I declare my independence" in detail
    declared = desk.post(
        link(detail, reverse("evaluation:performance_declare", args=[evaluation.pk]))
    )
    assert declared.status_code == 302
    form = html_of(desk, declared["Location"])
    assert "score_B3" not in form  # the survey scores the satisfaction indicator
    assert "score_O1" in form
    data = {"action": "submit", "conclusion": CONCLUSION}
    for code, (score, evidence) in scores_at(evaluation, fraction, skip_satisfaction=True).items():
        data[f"score_{code}"] = str(score)
        data[f"evidence_{code}"] = evidence
    submitted = desk.post(declared["Location"], data)
    assert submitted.status_code == 302, submitted.content.decode()
    return PerformanceEvaluation.objects.get(pk=evaluation.pk)


def test_a_contract_runs_from_the_award_to_the_last_payment_on_the_pages(clock, other_org_admin):
    official = contract_support.official()
    tender = contract_support.awarded_ready_tender(clock)

    # --- The official draws up the contract from the tender's page ------------------------
    tender_page = html_of(browser(official), reverse("tenders:detail", args=[tender.pk]))
    create_url = link(tender_page, reverse("tenders:contract_create", args=[tender.pk]))
    assert 'name="deliverables"' in html_of(browser(official), create_url)
    created = browser(official).post(
        create_url,
        {
            "service_start": "2027-01-01",
            "service_end": "2027-12-31",
            "long_term_reason": "",
            "deliverables": "每周上门探访高龄独居老人两次，全年助餐不少于 5000 人次。",
        },
    )
    contract = Contract.objects.get(tender=tender)
    contract_url = reverse("tenders:contract_detail", args=[contract.pk])
    assert created.status_code == 302
    assert created["Location"] == contract_url
    assert browser(other_org_admin).get(contract_url).status_code == 404  # a draft is private

    # --- Both sides sign on the contract page -------------------------------------------------
    sign_url = reverse("tenders:contract_sign", args=[contract.pk])
    for signer in (official, supplier_admin(contract)):
        page = html_of(browser(signer), contract_url)
        assert browser(signer).post(link(page, sign_url)).status_code == 302
    assert browser(supplier_member(contract)).post(sign_url).status_code == 403
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED
    public = html_of(browser(), contract_url)
    for member in contract.team.select_related("person"):
        assert member.person.name not in public  # published with the team's names masked
        assert member.person.id_number not in public

    # --- The service starts; the supplier files the first report -----------------------------
    clock.set(ACTIVE_DAY)
    assert contract_services.contracts_start_due() == 1
    clock.set(local(2027, 1, 25, 10, 0))
    member = supplier_member(contract)
    page = html_of(browser(member), contract_url)
    delivery = html_of(browser(member), link(page, reverse("tenders:delivery", args=[contract.pk])))
    file_url = link(
        delivery, reverse("tenders:delivery_report_file", args=[milestone(contract, 1).pk])
    )
    assert 'enctype="multipart/form-data"' in html_of(browser(member), file_url)
    filed = browser(member).post(
        file_url,
        {
            "period_start": "2027-01-04",
            "period_end": "2027-01-24",
            "activities": "上门探访独居老人 120 人次。",
            "people_served": "86",
            "service_sessions": "12",
            "spending-TOTAL_FORMS": "3",
            "spending-INITIAL_FORMS": "0",
            "spending-MIN_NUM_FORMS": "0",
            "spending-MAX_NUM_FORMS": "50",
            "spending-0-item": "人员经费",
            "spending-0-budget": "30000",
            "spending-0-spent": "28000",
            "spending-1-item": "活动物资",
            "spending-1-budget": "5000",
            "spending-1-spent": "4200",
            "uploads": [SimpleUploadedFile("活动照片.png", PNG)],
        },
    )
    assert filed.status_code == 302, filed.content.decode()
    report = DeliveryReport.objects.get(milestone__contract=contract)
    report_url = reverse("tenders:delivery_report", args=[report.pk])
    assert filed["Location"] == report_url
    assert report.documents.get().kind == "photo"

    # --- The official finds it waiting and accepts it: the first payment is released ---------
    waiting = html_of(browser(official), reverse("tenders:delivery_reports_waiting"))
    review = html_of(browser(official), link(waiting, report_url))
    assert "32200.00" in review  # the spending total
    accept_url = link(review, reverse("tenders:delivery_report_accept", args=[report.pk]))
    assert browser(official).post(accept_url, {"comment": "资料齐全"}).status_code == 302
    assert milestone(contract, 1).status == MilestoneStatus.PAID

    # --- A survey site and the beneficiaries' answers on the public page ---------------------
    page = html_of(browser(official), contract_url)
    sites_url = link(page, reverse("tenders:survey_sites", args=[contract.pk]))
    assert browser(official).post(sites_url, {"name": "解放碑社区服务站"}).status_code == 302
    sites = html_of(browser(official), sites_url)
    token = re.search(r"/survey/([^/\"<\s]+)/", sites)
    assert token, "the sites page shows the survey's link"
    survey_url = reverse("tenders:survey", args=[token.group(1)])
    for number, rating in enumerate(["5", "5", "4", "5"]):
        assert "Thank you!" in answer_survey(survey_url, clock, f"1380000{number:04d}", rating)
    again = answer_survey(survey_url, clock, "138 0000 0000", "1")
    assert "answered this survey this month already" in again
    assert SurveyResponse.objects.filter(site__contract=contract).count() == 4

    # --- The mid-term evaluation by an independent assessor releases the second payment ------
    clock.set(local(2027, 6, 20, 10, 0))
    assessors = {name: User.objects.get(pk=pk) for name, pk in make_assessors(contract).items()}
    refused = browser(official).post(
        reverse("evaluation:performance_assign", args=[contract.pk]),
        {"kind": "mid_term", "assessor": assessors["related"].pk, "due_date": "2027-07-10"},
    )
    assert refused.status_code == 400
    assert "a declared relation with the supplier" in refused.content.decode()
    mid_term = evaluate_on_pages(clock, contract, "mid_term", assessors["independent"], "0.85")
    assert mid_term.grade in {"good", "excellent"}
    assert mid_term.satisfaction_answers == 4
    assert milestone(contract, 2).status == MilestoneStatus.PAID

    # --- The final evaluation grades it poor: the last payment is withheld --------------------
    clock.set(local(2027, 12, 20, 10, 0))
    final = evaluate_on_pages(clock, contract, "final", assessors["second"], "0.4")
    assert final.grade == "poor"
    assert milestone(contract, 3).status == MilestoneStatus.WITHHELD
    contract.refresh_from_db()
    assert contract.status == ContractStatus.COMPLETED
    assert Tender.objects.get(pk=tender.pk).status == "completed"

    # --- The organization replies on the evaluation's page ---------------------------------
    admin = supplier_admin(contract)
    final_url = reverse("evaluation:performance_detail", args=[final.pk])
    final_page = html_of(browser(admin), final_url)
    assert "Publish the reply" in final_page
    reply_url = link(final_page, reverse("evaluation:performance_reply", args=[final.pk]))
    assert browser(admin).post(reply_url, {"reply": REPLY}).status_code == 302
    assert browser(admin).post(reply_url, {"reply": "再说一句"}).status_code == 403

    # --- The contract page shows the paid and withheld money; the profile the final grade ----
    page = html_of(browser(admin), contract_url)
    assert "Completed" in page
    assert page.count("144,000.00") >= 3  # milestone 1 and 3's amounts, 1 released, 3 withheld
    assert "192,000.00" in page
    assert "336,000.00" in page  # released in all
    assert "Paid" in page
    assert "Payment withheld" in page
    withheld = milestone(contract, 3)
    assert str(final.total_score) in withheld.decision_reason
    assert escape(withheld.decision_reason) in page  # the reason, with the grade and points
    profile = html_of(browser(), reverse("orgs_registry:profile", args=[contract.organization_id]))
    assert contract.reference in profile
    assert str(final.total_score) in profile
    assert '<span class="badge performance-poor">Poor</span>' in profile
    assert "Poor 1" in profile  # the count of results by grade
    assert REPLY in profile
    assert CONCLUSION in profile

    # --- Each state change left one event of an intact audit chain ---------------------------
    for action, count in [
        (AuditAction.CONTRACT_DRAFTED, 1),
        (AuditAction.CONTRACT_SIGNED, 1),
        (AuditAction.DELIVERY_REPORT_ACCEPTED, 1),
        (AuditAction.PERFORMANCE_SUBMITTED, 2),
        (AuditAction.MILESTONE_RELEASED, 2),
        (AuditAction.MILESTONE_WITHHELD, 1),
        (AuditAction.CONTRACT_COMPLETED, 1),
        (AuditAction.PERFORMANCE_REPLIED, 1),
    ]:
        assert AuditEvent.objects.filter(action=action).count() == count, action
    verification = audit_verify()
    assert verification.ok, verification.problem
