"""API v1 of delivery: reports filed by the supplier (JSON or multipart with files), accepted
or returned by an official, documents as attachments, survey sites, the satisfaction
result, and the public survey with its limits (409 answered again, 429 address limit);
every role × route refusal and the query counts of the lists.

The active contract of ``tests.contract_support`` is built once for the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation.services.performance import performance_evaluation_assign
from marketplace.models import AuditAction
from tenders import contracting
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
from tests.evaluation.test_api_support import (
    ERROR_KEYS,
    PDF,
    anonymous,
    api,
    delete,
    events,
    is_error,
    last_event,
    post,
    put,
)
from tests.tenders.test_award import AWARD_DAY, local

REPORT_DAY = local(2027, 1, 25, 10, 0)
MISSING = 999_999
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


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


def milestone(contract: Contract, sequence: int = 1) -> Milestone:
    return Milestone.objects.get(contract=contract, sequence=sequence)


def reports_url(contract: Contract | int) -> str:
    pk = contract if isinstance(contract, int) else contract.pk
    return f"/api/v1/contracts/{pk}/reports/"


def report_url(report: DeliveryReport | int, action: str = "") -> str:
    pk = report if isinstance(report, int) else report.pk
    return f"/api/v1/delivery-reports/{pk}/" + (f"{action}/" if action else "")


def body(contract: Contract, **overrides) -> dict:
    data = {
        "milestone": milestone(contract).pk,
        "period_start": "2027-01-04",
        "period_end": "2027-01-24",
        "activities": "上门探访独居老人 120 人次。",
        "people_served": 86,
        "service_sessions": 12,
        "spending": [{"item": "人员经费", "budget": "30000", "spent": "28000"}],
    }
    data.update(overrides)
    return data


def filed(contract: Contract) -> DeliveryReport:
    return services.delivery_report_file(
        milestone=milestone(contract),
        actor=supplier_member(contract),
        period_start=date(2027, 1, 4),
        period_end=date(2027, 1, 24),
        activities="上门探访",
        people_served=10,
        uploads=[SimpleUploadedFile("签到表.pdf", PDF)],
    )


# --- Reports ----------------------------------------------------------------------------------


def test_the_supplier_files_a_report_as_json(contract):
    since = last_event()
    response = post(api(supplier_member(contract)), reports_url(contract), body(contract))

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "submitted"
    assert data["milestone_status"] == "reported"
    assert data["spending"] == [{"item": "人员经费", "budget": "30000.00", "spent": "28000.00"}]
    assert data["budget_total"] == "30000.00"
    assert len(events(AuditAction.DELIVERY_REPORT_FILED, since=since)) == 1


def test_the_supplier_files_a_report_with_files_as_multipart(contract):
    form = body(contract, spending=json.dumps([{"item": "物资", "budget": "10", "spent": "9"}]))
    form["uploads"] = [
        SimpleUploadedFile("照片.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
        SimpleUploadedFile("签到表.pdf", PDF),
    ]
    response = api(supplier_admin(contract)).post(reports_url(contract), form)

    assert response.status_code == 201, response.json()
    documents = response.json()["documents"]
    assert sorted(d["kind"] for d in documents) == ["document", "photo"]
    assert all(
        d["download"].startswith("http://testserver/api/v1/delivery-documents/") for d in documents
    )


def test_spending_errors_name_the_row_and_column(contract):
    spending = [
        {"item": "人员经费", "budget": "1", "spent": "1"},
        {"item": "物资", "budget": "1", "spent": "abc"},
    ]
    response = post(
        api(supplier_member(contract)), reports_url(contract), body(contract, spending=spending)
    )

    assert is_error(response, 400, "spending")
    assert response.json()["fields"]["spending"] == ["spending row 2: spent: not a number"]
    assert milestone(contract).status == MilestoneStatus.PLANNED


def test_spending_that_is_not_json_is_refused_on_its_field(contract):
    form = body(contract, spending="[{oops")
    response = api(supplier_member(contract)).post(reports_url(contract), form)
    assert is_error(response, 400, "spending")


def test_a_program_upload_is_refused_and_nothing_is_stored(contract):
    form = body(contract, spending="")
    form["uploads"] = [SimpleUploadedFile("photo.jpg", EXECUTABLE)]
    response = api(supplier_member(contract)).post(reports_url(contract), form)

    assert is_error(response, 400, "uploads")
    assert response.json()["fields"]["uploads"][0].startswith("photo.jpg: ")
    assert not DeliveryReport.objects.exists()


def test_a_milestone_of_another_contract_is_refused(contract):
    response = post(
        api(supplier_member(contract)), reports_url(contract), body(contract, milestone=MISSING)
    )
    assert is_error(response, 400, "milestone")


def test_unknown_fields_are_refused(contract):
    response = post(
        api(supplier_member(contract)), reports_url(contract), body(contract, status="accepted")
    )
    assert is_error(response, 400, "status")


def test_a_second_report_while_one_waits_is_refused(contract):
    filed(contract)
    response = post(api(supplier_member(contract)), reports_url(contract), body(contract))
    assert is_error(response, 400)
    assert "waits for review" in response.json()["detail"]


def test_officials_and_auditors_read_the_reports(contract, auditor):
    report = filed(contract)
    for user in (contract_support.official(), auditor, supplier_admin(contract)):
        listed = api(user).get(reports_url(contract))
        assert listed.status_code == 200
        assert [r["id"] for r in listed.json()["results"]] == [report.pk]
        assert api(user).get(report_url(report)).json()["activities"] == "上门探访"


def test_the_contracts_assessor_reads_the_reports(contract, assessor):
    report = filed(contract)
    assert api(assessor).get(report_url(report)).status_code == 404
    performance_evaluation_assign(
        contract=contract,
        kind="mid_term",
        assessor=assessor,
        actor=contract_support.official(),
        due_date=date(2027, 7, 15),
    )
    assert api(assessor).get(report_url(report)).status_code == 200


def test_accepting_a_report_releases_the_payment(contract):
    report = filed(contract)
    since = last_event()
    response = post(
        api(contract_support.official()), report_url(report, "accept"), {"comment": "好"}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    assert response.json()["milestone_status"] == "paid"
    assert len(events(AuditAction.DELIVERY_REPORT_ACCEPTED, since=since)) == 1
    assert len(events(AuditAction.MILESTONE_RELEASED, since=since)) == 1


def test_returning_needs_a_comment_and_plans_the_milestone_again(contract):
    report = filed(contract)
    client = api(contract_support.official())
    assert is_error(post(client, report_url(report, "return"), {}), 400, "comment")

    since = last_event()
    response = post(client, report_url(report, "return"), {"comment": "请补充照片"})
    assert response.status_code == 200
    assert response.json()["status"] == "returned"
    assert response.json()["milestone_status"] == "planned"
    assert len(events(AuditAction.DELIVERY_REPORT_RETURNED, since=since)) == 1


def test_a_reviewed_report_is_not_reviewed_again(contract):
    report = filed(contract)
    client = api(contract_support.official())
    post(client, report_url(report, "accept"))
    response = post(client, report_url(report, "return"), {"comment": "x"})
    assert is_error(response, 400)
    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.ACCEPTED


def test_documents_are_served_only_as_attachments(contract, outsider):
    report = filed(contract)
    document = report.documents.get()
    url = f"/api/v1/delivery-documents/{document.pk}/"
    response = api(supplier_admin(contract)).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF
    assert api(outsider).get(url).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (put, "reports"),
        (delete, "reports"),
        (put, "report"),
        (delete, "report"),
        ("get", "accept"),
        ("get", "return"),
        (put, "sites"),
        (delete, "satisfaction"),
    ],
)
def test_wrong_methods_are_refused(contract, method, path):
    report = filed(contract)
    url = {
        "reports": reports_url(contract),
        "report": report_url(report),
        "accept": report_url(report, "accept"),
        "return": report_url(report, "return"),
        "sites": f"/api/v1/contracts/{contract.pk}/survey-sites/",
        "satisfaction": f"/api/v1/contracts/{contract.pk}/satisfaction/",
    }[path]
    client = api(contract_support.official())
    if method == "get":
        response = client.get(url)
    elif method is delete:
        response = delete(client, url)
    else:
        response = method(client, url, {})
    assert response.status_code == 405
    assert set(response.json()) == ERROR_KEYS


# --- Roles × routes ---------------------------------------------------------------------------

STRANGERS = ["outsider", "other_org_admin", "assessor", "registry_admin"]


@pytest.mark.parametrize("who", STRANGERS)
def test_strangers_find_nothing_of_the_delivery(contract, who, request):
    report = filed(contract)
    site = survey_services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="站点"
    )
    client = api(request.getfixturevalue(who))
    document = report.documents.get()
    for url in [
        reports_url(contract),
        report_url(report),
        f"/api/v1/delivery-documents/{document.pk}/",
        f"/api/v1/contracts/{contract.pk}/survey-sites/",
        f"/api/v1/contracts/{contract.pk}/satisfaction/",
    ]:
        assert client.get(url).status_code == 404, url
    assert post(client, reports_url(contract), body(contract)).status_code == 404
    assert post(client, report_url(report, "accept")).status_code == 404
    assert post(client, report_url(report, "return"), {"comment": "x"}).status_code == 404
    assert (
        post(client, f"/api/v1/contracts/{contract.pk}/survey-sites/", {"name": "x"}).status_code
        == 404
    )
    assert SurveySite.objects.filter(contract=contract).count() == 1
    assert site.pk


def test_anonymous_callers_must_sign_in(contract):
    report = filed(contract)
    client = anonymous()
    for url in [
        reports_url(contract),
        report_url(report),
        f"/api/v1/contracts/{contract.pk}/satisfaction/",
    ]:
        assert client.get(url).status_code in (401, 403)
    assert post(client, report_url(report, "accept")).status_code in (401, 403)


@pytest.mark.parametrize("who", ["official", "auditor"])
def test_only_the_supplier_files_reports(contract, who, request):
    user = contract_support.official() if who == "official" else request.getfixturevalue(who)
    response = post(api(user), reports_url(contract), body(contract))
    assert is_error(response, 403)


@pytest.mark.parametrize("who", ["supplier_admin", "supplier_member", "auditor"])
def test_only_officials_accept_or_return(contract, who, request):
    report = filed(contract)
    user = {
        "supplier_admin": lambda: supplier_admin(contract),
        "supplier_member": lambda: supplier_member(contract),
        "auditor": lambda: request.getfixturevalue("auditor"),
    }[who]()
    assert is_error(post(api(user), report_url(report, "accept")), 403)
    assert is_error(post(api(user), report_url(report, "return"), {"comment": "x"}), 403)
    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.SUBMITTED


def test_missing_reports_and_contracts_are_404(contract):
    client = api(contract_support.official())
    assert client.get(report_url(MISSING)).status_code == 404
    assert client.get(reports_url(MISSING)).status_code == 404
    assert post(client, report_url(MISSING, "accept")).status_code == 404


def test_the_report_list_takes_the_same_queries_however_many_reports(
    contract, django_assert_max_num_queries
):
    official = contract_support.official()
    for _ in range(4):
        report = filed(contract)
        services.delivery_report_return(report=report, actor=official, comment="再改")
    client = api(official)
    client.get(reports_url(contract))  # the session is loaded once
    with django_assert_max_num_queries(8):
        response = client.get(reports_url(contract))
    assert response.json()["count"] == 4


# --- Survey sites and satisfaction --------------------------------------------------------------


def test_an_official_adds_a_site_and_reads_its_link(contract):
    url = f"/api/v1/contracts/{contract.pk}/survey-sites/"
    since = last_event()
    response = post(api(contract_support.official()), url, {"name": "解放碑社区"})
    assert response.status_code == 201
    site = response.json()
    assert site["link"].startswith("http://testserver/survey/")
    assert site["qr"].endswith(f"/contracts/survey-sites/{site['id']}/qr.svg")
    assert len(events(AuditAction.SURVEY_SITE_ADDED, since=since)) == 1
    listed = api(supplier_member(contract)).get(url).json()["results"]
    assert [s["name"] for s in listed] == ["解放碑社区"]
    assert listed[0]["answers"] == 0


def test_a_member_cannot_add_a_site(contract):
    url = f"/api/v1/contracts/{contract.pk}/survey-sites/"
    assert is_error(post(api(supplier_member(contract)), url, {"name": "x"}), 403)
    assert is_error(post(api(contract_support.official()), url, {"name": ""}), 400, "name")


def test_the_satisfaction_result(contract, clock):
    site = survey_services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="站点"
    )
    for number, rating in enumerate([5, 4, 2]):
        token = survey_services.survey_form_token(site)
        clock.advance(seconds=10)
        survey_services.survey_answer(
            site=site,
            phone=f"1390000{number:04d}",
            overall=rating,
            quality=4,
            attitude=4,
            timeliness=4,
            address="10.0.0.1",
            started_at=token,
        )
    response = api(contract_support.official()).get(
        f"/api/v1/contracts/{contract.pk}/satisfaction/"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == {"answers": 3, "mean": "3.67", "rate": "66.7"}
    assert data["periods"][0]["period"] == "2027-01"
    assert [bar["count"] for bar in data["bars"]] == [0, 1, 0, 1, 1]


# --- The public survey --------------------------------------------------------------------------


@pytest.fixture
def site(contract) -> SurveySite:
    return survey_services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="解放碑社区"
    )


def survey_url(site: SurveySite | str) -> str:
    token = site if isinstance(site, str) else site.token
    return f"/api/v1/surveys/{token}/"


def send(client, site: SurveySite, clock: Clock, **overrides):
    started = client.get(survey_url(site)).json()["started"]
    clock.advance(seconds=10)
    data = {
        "phone": "13812345678",
        "overall": 5,
        "quality": 5,
        "attitude": 4,
        "timeliness": 4,
        "comment": "很好",
        "started": started,
    }
    data.update(overrides)
    return post(client, survey_url(site), data)


def test_anyone_reads_the_questions_without_signing_in(site):
    response = anonymous().get(survey_url(site))
    assert response.status_code == 200
    data = response.json()
    assert data["is_open"] is True
    assert [q["name"] for q in data["questions"]] == [
        "overall",
        "quality",
        "attitude",
        "timeliness",
    ]
    assert data["started"]


def test_an_anonymous_answer_is_accepted_and_a_repeat_is_409(site, clock):
    client = anonymous()
    response = send(client, site, clock)
    assert response.status_code == 201, response.json()
    assert response.json()["period"] == "2027-01"

    again = send(client, site, clock, phone="138 1234 5678")
    assert again.status_code == 409
    assert again.json()["error"] == "already_answered"
    assert set(again.json()) == ERROR_KEYS


def test_next_month_the_same_phone_answers_again(site, clock):
    client = anonymous()
    assert send(client, site, clock).status_code == 201
    clock.set(local(2027, 2, 2, 9, 0))
    assert send(client, site, clock).status_code == 201


def test_the_address_limit_answers_429(site, clock, monkeypatch):
    monkeypatch.setattr(contracting, "SURVEY_ANSWERS_PER_ADDRESS_PER_HOUR", 1)
    client = anonymous()
    assert send(client, site, clock, phone="13800000001").status_code == 201
    response = send(client, site, clock, phone="13800000002")
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"


def test_too_fast_and_honeypot_answers_are_refused(site, clock):
    client = anonymous()
    started = client.get(survey_url(site)).json()["started"]
    data = {"phone": "13812345678", "overall": 5, "quality": 5, "attitude": 5, "timeliness": 5}
    assert is_error(post(client, survey_url(site), {**data, "started": started}), 400)
    clock.advance(seconds=10)
    bot = post(client, survey_url(site), {**data, "started": started, "website": "x"})
    assert is_error(bot, 400)
    assert not site.responses.exists()


def test_field_problems_name_their_fields(site, clock):
    response = send(anonymous(), site, clock, phone="12345", overall=9)
    assert is_error(response, 400, "phone", "overall")


def test_a_closed_site_answers_403(site, clock):
    survey_services.survey_site_close(site=site, actor=contract_support.official())
    assert anonymous().get(survey_url(site)).json()["is_open"] is False
    response = send(anonymous(), site, clock)
    assert response.status_code == 403
    assert response.json()["error"] == "closed"


def test_an_unknown_survey_is_404(db):
    assert anonymous().get(survey_url("no-such-token")).status_code == 404
