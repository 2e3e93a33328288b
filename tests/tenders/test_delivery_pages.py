"""Delivery pages: the milestones and reports of a contract, filing a report (with spending
rows and files), accepting and returning it, documents as attachments, survey sites with
their QR codes and posters, the satisfaction results; every role × route refusal and the
query counts.

The active contract of ``tests.contract_support`` is built once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent
from tenders.models import (
    Contract,
    DeliveryReport,
    DeliveryReportStatus,
    Milestone,
    MilestoneStatus,
    SurveySite,
)
from tenders.services import delivery as services
from tenders.services import surveys as survey_services
from tests import contract_support
from tests.conftest import Clock, building, module_database
from tests.contract_support import supplier_admin, supplier_member
from tests.tenders.test_award import AWARD_DAY, local

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
REPORT_DAY = local(2027, 1, 25, 10, 0)
STRANGERS = ["outsider", "other_org_admin", "assessor", "registry_admin"]


@pytest.fixture(scope="module")
def _active_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        yield contract_support.make_active_contract(clock).pk


@pytest.fixture
def contract(_active_once, db, clock: Clock) -> Contract:
    clock.set(REPORT_DAY)
    return Contract.objects.get(pk=_active_once)


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def milestone(contract: Contract, sequence: int = 1) -> Milestone:
    return Milestone.objects.get(contract=contract, sequence=sequence)


def filed(contract: Contract) -> DeliveryReport:
    return services.delivery_report_file(
        milestone=milestone(contract),
        actor=supplier_member(contract),
        period_start=date(2027, 1, 4),
        period_end=date(2027, 1, 24),
        activities="上门探访独居老人",
        people_served=10,
        spending=[{"item": "人员经费", "budget": "100", "spent": "90"}],
        uploads=[SimpleUploadedFile("签到表.pdf", PDF)],
    )


def a_site(contract: Contract) -> SurveySite:
    return survey_services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="解放碑社区"
    )


def form_data(**overrides) -> dict:
    data = {
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
    }
    data.update(overrides)
    return data


# --- The contract's delivery ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["official", "supplier_admin", "supplier_member", "auditor"])
def test_the_parties_and_auditors_see_the_milestones_and_reports(
    contract, client_for, who, request
):
    report = filed(contract)
    user = {
        "official": contract_support.official,
        "supplier_admin": lambda: supplier_admin(contract),
        "supplier_member": lambda: supplier_member(contract),
        "auditor": lambda: request.getfixturevalue("auditor"),
    }[who]()
    response = english(client_for(user)).get(reverse("tenders:delivery", args=[contract.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "144000.00" in html
    assert reverse("tenders:delivery_report", args=[report.pk]) in html


def test_the_file_button_is_shown_to_the_supplier_only(contract, client_for):
    url = reverse("tenders:delivery", args=[contract.pk])
    file_url = reverse("tenders:delivery_report_file", args=[milestone(contract).pk])
    assert file_url in client_for(supplier_member(contract)).get(url).content.decode()
    assert file_url not in client_for(contract_support.official()).get(url).content.decode()


@pytest.mark.parametrize("who", STRANGERS)
def test_strangers_find_no_delivery_page(contract, client_for, who, request):
    report = filed(contract)
    site = a_site(contract)
    client = client_for(request.getfixturevalue(who))
    document = report.documents.get()
    for url in [
        reverse("tenders:delivery", args=[contract.pk]),
        reverse("tenders:delivery_report_file", args=[milestone(contract).pk]),
        reverse("tenders:delivery_report", args=[report.pk]),
        reverse("tenders:delivery_document", args=[document.pk]),
        reverse("tenders:survey_sites", args=[contract.pk]),
        reverse("tenders:survey_qr", args=[site.pk]),
        reverse("tenders:survey_poster", args=[site.pk]),
        reverse("tenders:satisfaction", args=[contract.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        reverse("tenders:delivery_report_file", args=[milestone(contract).pk]),
        reverse("tenders:delivery_report_accept", args=[report.pk]),
        reverse("tenders:delivery_report_return", args=[report.pk]),
        reverse("tenders:survey_sites", args=[contract.pk]),
        reverse("tenders:survey_site_close", args=[site.pk]),
        reverse("tenders:survey_site_open", args=[site.pk]),
    ]:
        assert client.post(url, {"comment": "x", "name": "x"}).status_code == 404, url
    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.SUBMITTED
    assert SurveySite.objects.get(pk=site.pk).is_open


def test_anonymous_visitors_are_sent_to_sign_in(contract, client):
    report = filed(contract)
    site = a_site(contract)
    gets = [
        reverse("tenders:delivery", args=[contract.pk]),
        reverse("tenders:delivery_report_file", args=[milestone(contract).pk]),
        reverse("tenders:delivery_report", args=[report.pk]),
        reverse("tenders:delivery_document", args=[report.documents.get().pk]),
        reverse("tenders:survey_sites", args=[contract.pk]),
        reverse("tenders:survey_qr", args=[site.pk]),
        reverse("tenders:survey_poster", args=[site.pk]),
        reverse("tenders:satisfaction", args=[contract.pk]),
    ]
    posts = [
        reverse("tenders:delivery_report_accept", args=[report.pk]),
        reverse("tenders:delivery_report_return", args=[report.pk]),
        reverse("tenders:survey_site_close", args=[site.pk]),
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login"))
    for url in posts:
        assert client.post(url, {"comment": "x"}).status_code == 302, url
    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.SUBMITTED
    assert SurveySite.objects.get(pk=site.pk).is_open


def test_missing_contracts_and_reports_are_404(contract, client_for):
    client = client_for(contract_support.official())
    assert client.get(reverse("tenders:delivery", args=[999_999])).status_code == 404
    assert client.get(reverse("tenders:delivery_report", args=[999_999])).status_code == 404


def test_the_delivery_page_takes_the_same_queries_however_many_reports(
    contract, client_for, django_assert_max_num_queries
):
    official = contract_support.official()
    client = client_for(official)
    url = reverse("tenders:delivery", args=[contract.pk])
    filed_report = filed(contract)
    services.delivery_report_return(report=filed_report, actor=official, comment="再改")
    client.get(url)
    with django_assert_max_num_queries(14) as one:
        client.get(url)
    for _ in range(4):
        report = filed(contract)
        services.delivery_report_return(report=report, actor=official, comment="再改")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


# --- Filing -----------------------------------------------------------------------------------


def test_the_supplier_files_a_report_with_spending_and_files(contract, client_for):
    client = english(client_for(supplier_member(contract)))
    url = reverse("tenders:delivery_report_file", args=[milestone(contract).pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()

    data = form_data(uploads=[SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)])
    response = client.post(url, data)

    report = DeliveryReport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("tenders:delivery_report", args=[report.pk])
    assert report.spending == [
        {"item": "人员经费", "budget": "30000.00", "spent": "28000.00"},
        {"item": "活动物资", "budget": "5000.00", "spent": "4200.00"},
    ]
    assert report.documents.get().kind == "photo"
    assert milestone(contract).status == MilestoneStatus.REPORTED
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY_REPORT_FILED).count() == 1
    shown = client.get(response.url).content.decode()
    assert "上门探访独居老人 120 人次。" in shown
    assert "32200.00" in shown


def test_a_bad_spending_row_is_named_and_nothing_is_filed(contract, client_for):
    client = english(client_for(supplier_member(contract)))
    url = reverse("tenders:delivery_report_file", args=[milestone(contract).pk])
    response = client.post(url, form_data(**{"spending-1-spent": "abc"}))
    assert response.status_code == 400
    assert "spending row 2: spent: not a number" in response.content.decode()
    assert not DeliveryReport.objects.exists()


def test_a_program_upload_is_refused_naming_the_file(contract, client_for):
    client = english(client_for(supplier_member(contract)))
    url = reverse("tenders:delivery_report_file", args=[milestone(contract).pk])
    executable = b"MZ\x90\x00" + b"\x00" * 200
    response = client.post(url, form_data(uploads=[SimpleUploadedFile("a.jpg", executable)]))
    assert response.status_code == 400
    assert "a.jpg: " in response.content.decode()
    assert not DeliveryReport.objects.exists()


@pytest.mark.parametrize("who", ["official", "auditor"])
def test_only_the_supplier_opens_the_report_form(contract, client_for, who, request):
    user = contract_support.official() if who == "official" else request.getfixturevalue(who)
    url = reverse("tenders:delivery_report_file", args=[milestone(contract).pk])
    assert client_for(user).get(url).status_code == 403
    assert client_for(user).post(url, form_data()).status_code == 403


def test_the_report_form_refuses_other_methods(contract, client_for):
    url = reverse("tenders:delivery_report_file", args=[milestone(contract).pk])
    assert client_for(supplier_member(contract)).put(url).status_code == 405


# --- Review -----------------------------------------------------------------------------------


def test_an_official_accepts_a_report_and_the_payment_is_released(contract, client_for):
    report = filed(contract)
    client = english(client_for(contract_support.official()))
    page = client.get(reverse("tenders:delivery_report", args=[report.pk])).content.decode()
    assert "releases the milestone's payment of 144000.00 yuan" in page

    response = client.post(
        reverse("tenders:delivery_report_accept", args=[report.pk]), {"comment": "资料齐全"}
    )
    assert response.status_code == 302
    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.ACCEPTED
    assert milestone(contract).status == MilestoneStatus.PAID
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY_REPORT_ACCEPTED).count() == 1
    after = client.get(response.url).content.decode()
    assert "资料齐全" in after
    assert reverse("tenders:delivery_report_accept", args=[report.pk]) not in after


def test_returning_without_a_comment_is_refused_on_the_page(contract, client_for):
    report = filed(contract)
    client = english(client_for(contract_support.official()))
    url = reverse("tenders:delivery_report_return", args=[report.pk])
    response = client.post(url, {"comment": ""})
    assert response.status_code == 400
    assert "Say what must be corrected." in response.content.decode()
    assert milestone(contract).status == MilestoneStatus.REPORTED

    assert client.post(url, {"comment": "请补充照片"}).status_code == 302
    assert milestone(contract).status == MilestoneStatus.PLANNED
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY_REPORT_RETURNED).count() == 1


@pytest.mark.parametrize("who", ["supplier_admin", "auditor"])
def test_only_officials_review_on_the_pages(contract, client_for, who, request):
    report = filed(contract)
    user = supplier_admin(contract) if who == "supplier_admin" else request.getfixturevalue(who)
    client = client_for(user)
    page = client.get(reverse("tenders:delivery_report", args=[report.pk])).content.decode()
    assert reverse("tenders:delivery_report_accept", args=[report.pk]) not in page
    for name in ("tenders:delivery_report_accept", "tenders:delivery_report_return"):
        assert client.post(reverse(name, args=[report.pk]), {"comment": "x"}).status_code == 403
    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.SUBMITTED


def test_review_routes_take_only_post(contract, client_for):
    report = filed(contract)
    client = client_for(contract_support.official())
    for name in ("tenders:delivery_report_accept", "tenders:delivery_report_return"):
        assert client.get(reverse(name, args=[report.pk])).status_code == 405


def test_documents_are_downloads(contract, client_for):
    report = filed(contract)
    document = report.documents.get()
    response = client_for(contract_support.official()).get(
        reverse("tenders:delivery_document", args=[document.pk])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == PDF


# --- Survey sites -----------------------------------------------------------------------------


def test_an_official_adds_closes_and_reopens_a_site(contract, client_for):
    client = english(client_for(contract_support.official()))
    url = reverse("tenders:survey_sites", args=[contract.pk])
    assert client.post(url, {"name": "解放碑社区"}).status_code == 302
    site = SurveySite.objects.get()
    page = client.get(url).content.decode()
    assert reverse("tenders:survey", args=[site.token]) in page
    assert reverse("tenders:survey_poster", args=[site.pk]) in page

    assert client.post(reverse("tenders:survey_site_close", args=[site.pk])).status_code == 302
    assert not SurveySite.objects.get(pk=site.pk).is_open
    assert client.post(reverse("tenders:survey_site_open", args=[site.pk])).status_code == 302
    assert SurveySite.objects.get(pk=site.pk).is_open
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        AuditAction.SURVEY_SITE_ADDED,
        AuditAction.SURVEY_SITE_CLOSED,
        AuditAction.SURVEY_SITE_OPENED,
    } <= actions


def test_a_site_without_a_name_is_refused_on_the_page(contract, client_for):
    client = english(client_for(supplier_admin(contract)))
    response = client.post(reverse("tenders:survey_sites", args=[contract.pk]), {"name": ""})
    assert response.status_code == 400
    assert not SurveySite.objects.exists()


def test_a_member_or_auditor_cannot_change_sites(contract, client_for, auditor):
    site = a_site(contract)
    for user in (supplier_member(contract), auditor):
        client = client_for(user)
        assert client.get(reverse("tenders:survey_sites", args=[contract.pk])).status_code == 200
        response = client.post(reverse("tenders:survey_sites", args=[contract.pk]), {"name": "x"})
        assert response.status_code == 403
        assert client.post(reverse("tenders:survey_site_close", args=[site.pk])).status_code == 403
    assert SurveySite.objects.count() == 1


def test_site_switches_take_only_post(contract, client_for):
    site = a_site(contract)
    client = client_for(contract_support.official())
    assert client.get(reverse("tenders:survey_site_close", args=[site.pk])).status_code == 405


def test_the_qr_code_is_an_svg_of_the_link_for_the_parties(contract, client_for, auditor):
    site = a_site(contract)
    url = reverse("tenders:survey_qr", args=[site.pk])
    response = client_for(supplier_member(contract)).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    assert client_for(auditor).get(url).status_code == 403


def test_the_poster_shows_the_code_and_the_link(contract, client_for):
    site = a_site(contract)
    response = client_for(contract_support.official()).get(
        reverse("tenders:survey_poster", args=[site.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html
    assert f"http://testserver/survey/{site.token}/" in html


# --- Satisfaction -----------------------------------------------------------------------------


def test_the_results_show_the_chart_and_comments_without_phones(contract, client_for, clock):
    site = a_site(contract)
    for number, (rating, comment) in enumerate([(5, "很好，电话13912345678"), (2, "")]):
        token = survey_services.survey_form_token(site)
        clock.advance(seconds=10)
        survey_services.survey_answer(
            site=site,
            phone=f"1380000{number:04d}",
            overall=rating,
            quality=4,
            attitude=4,
            timeliness=4,
            comment=comment,
            address="10.0.0.1",
            started_at=token,
        )
    response = english(client_for(contract_support.official())).get(
        reverse("tenders:satisfaction", args=[contract.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html
    assert "50.0% satisfied" in html
    assert "很好，电话139****5678" in html
    assert "13912345678" not in html
    assert "13800000000" not in html
    assert "2027-01" in html


def test_the_contracts_assessor_reads_the_results(contract, client_for, assessor):
    from evaluation.services.performance import performance_evaluation_assign

    url = reverse("tenders:satisfaction", args=[contract.pk])
    assert client_for(assessor).get(url).status_code == 404
    performance_evaluation_assign(
        contract=contract,
        kind="final",
        assessor=assessor,
        actor=contract_support.official(),
        due_date=date(2027, 12, 31),
    )
    assert client_for(assessor).get(url).status_code == 200


# --- The review queue -------------------------------------------------------------------------


def test_officials_find_the_reports_waiting_for_review(
    contract, client_for, django_assert_max_num_queries
):
    report = filed(contract)
    client = client_for(contract_support.official())
    url = reverse("tenders:delivery_reports_waiting")
    client.get(url)
    with django_assert_max_num_queries(8):
        html = client.get(url).content.decode()
    assert reverse("tenders:delivery_report", args=[report.pk]) in html
    services.delivery_report_accept(report=report, actor=contract_support.official())
    assert (
        reverse("tenders:delivery_report", args=[report.pk]) not in client.get(url).content.decode()
    )


def test_the_official_dashboard_counts_the_reports_waiting_for_review(contract, client_for):
    client = client_for(contract_support.official())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    queue = reverse("tenders:delivery_reports_waiting")
    before = client.get(reverse("dashboard")).content.decode()
    filed(contract)
    after = client.get(reverse("dashboard")).content.decode()
    assert "No delivery report waits for review." in before
    assert "No delivery report waits for review." not in after
    assert queue in after


@pytest.mark.parametrize("who", ["org_admin", "auditor", "assessor", "outsider"])
def test_the_review_queue_is_the_street_offices(contract, client_for, who, request):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("tenders:delivery_reports_waiting")).status_code == 403
    assert client.post(reverse("tenders:delivery_reports_waiting")).status_code == 405


def test_the_sites_and_results_pages_take_the_same_queries_however_many_answers(
    contract, client_for, clock, django_assert_max_num_queries
):
    client = client_for(contract_support.official())
    pages = [
        reverse("tenders:survey_sites", args=[contract.pk]),
        reverse("tenders:satisfaction", args=[contract.pk]),
    ]

    def add_answers(site: SurveySite, count: int, offset: int) -> None:
        for number in range(count):
            token = survey_services.survey_form_token(site)
            clock.advance(seconds=10)
            survey_services.survey_answer(
                site=site,
                phone=f"1370000{offset + number:04d}",
                overall=1 + number % 5,
                quality=4,
                attitude=4,
                timeliness=4,
                comment=f"意见{number}",
                address=f"10.2.{offset + number}.1",
                started_at=token,
            )

    add_answers(a_site(contract), 1, 0)
    counts = []
    for url in pages:
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            client.get(url)
        counts.append(len(captured.captured_queries))
    second = survey_services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="较场口社区"
    )
    add_answers(second, 6, 100)
    for url, count in zip(pages, counts, strict=True):
        with django_assert_max_num_queries(count):
            assert client.get(url).status_code == 200


def test_a_milestone_with_a_report_waiting_offers_no_form(contract, client_for):
    filed(contract)
    client = english(client_for(supplier_member(contract)))
    response = client.get(reverse("tenders:delivery_report_file", args=[milestone(contract).pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This milestone takes no report now" in html
    assert 'name="activities"' not in html
