"""API of the funding registries: imports (auditors only, 202 then done or failed), the
scoped reads with masked ID numbers, errors as {"error", "detail", "fields"}."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry.models import FundingImport
from orgs_registry.services_funding import funding_import_start
from tests.funding_support import (
    STAFFING_HEADER,
    SUBSIDY_HEADER,
    csv_bytes,
    staff_row,
    subsidy_row,
)

pytestmark = pytest.mark.django_db

STAFF_URL = "/api/v1/staffing-records/"
SUBSIDY_URL = "/api/v1/subsidies/"
IMPORTS_URL = "/api/v1/funding-imports/"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload(rows, header=STAFFING_HEADER, name="roster.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows, header), content_type="text/csv")


@pytest.fixture
def roster(auditor, django_capture_on_commit_callbacks) -> FundingImport:
    with django_capture_on_commit_callbacks(execute=True):
        queued = funding_import_start(
            kind="staffing", upload=upload([staff_row(1), staff_row(2)]), actor=auditor
        )
    return FundingImport.objects.get(pk=queued.pk)


def post_file(client, url, rows, header=STAFFING_HEADER, name="roster.csv"):
    return client.post(url, {"file": upload(rows, header, name)})


def test_an_auditor_imports_a_roster_and_follows_its_progress(
    auditor, client_for, django_capture_on_commit_callbacks
):
    client = client_for(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, STAFF_URL + "import/", [staff_row(1), staff_row(2)])
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "staffing"
    assert body["status"] == "pending"
    detail = client.get(f"{IMPORTS_URL}{body['id']}/").json()
    assert detail["status"] == "done"
    assert detail["progress"] == 100
    assert detail["is_current"] is True
    assert detail["row_count"] == 2
    records = client.get(STAFF_URL).json()
    assert records["count"] == 2
    assert records["results"][0]["id_number"] == staff_row(1)["id_number"]
    assert records["results"][0]["birth_date"] is not None
    assert AuditEvent.objects.filter(action=AuditAction.FUNDING_IMPORTED).count() == 1


def test_bad_rows_end_the_import_failed_with_every_problem(
    auditor, client_for, django_capture_on_commit_callbacks
):
    # The problems are kept in the importer's language.
    auditor.language = "en"
    auditor.save(update_fields=["language"])
    client = client_for(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(
            client, STAFF_URL + "import/", [staff_row(1, start="x"), staff_row(2, post_type="")]
        )
    detail = client.get(f"{IMPORTS_URL}{response.json()['id']}/").json()
    assert detail["status"] == "failed"
    assert detail["errors"] == [
        "row 2: start: “x” is not a date; write it as YYYY-MM-DD.",
        "row 3: post_type: A value is required.",
    ]
    assert client.get(STAFF_URL).json()["count"] == 0
    assert AuditEvent.objects.filter(action=AuditAction.FUNDING_IMPORT_FAILED).count() == 1


def test_a_ledger_is_imported_through_the_api(
    auditor, official, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(
            client_for(auditor), SUBSIDY_URL + "import/", [subsidy_row()], SUBSIDY_HEADER
        )
    assert response.status_code == 202
    listing = client_for(official).get(SUBSIDY_URL).json()
    assert listing["count"] == 1
    assert listing["results"][0]["amount"] == "120000.00"
    assert listing["results"][0]["category"] == "elderly_care"


def test_a_file_that_is_not_a_spreadsheet_is_a_400_naming_the_file(auditor, client_for):
    fake = SimpleUploadedFile("roster.csv", b"%PDF-1.4 not a roster")
    response = client_for(auditor).post(STAFF_URL + "import/", {"file": fake})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]
    assert "PDF" in body["fields"]["file"][0]
    assert not FundingImport.objects.exists()


def test_an_import_without_a_file_is_a_400(auditor, client_for):
    response = client_for(auditor).post(STAFF_URL + "import/", {})
    assert response.status_code == 400
    assert "file" in response.json()["fields"]


@pytest.mark.parametrize(
    "persona", ["official", "approver", "org_admin", "org_member", "assessor", "registry_admin"]
)
@pytest.mark.parametrize("url", [STAFF_URL + "import/", SUBSIDY_URL + "import/"])
def test_only_auditors_may_import(persona, url, request, client_for):
    user = request.getfixturevalue(persona)
    response = post_file(client_for(user), url, [staff_row(1)])
    assert response.status_code == 403
    assert not FundingImport.objects.exists()


@pytest.mark.parametrize("url", [STAFF_URL + "import/", SUBSIDY_URL + "import/", STAFF_URL])
def test_anonymous_callers_are_refused(url, client):
    response = client.get(url) if url == STAFF_URL else post_file(client, url, [staff_row(1)])
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("url", [STAFF_URL + "import/", SUBSIDY_URL + "import/"])
def test_import_takes_only_post(url, auditor, client_for):
    assert client_for(auditor).get(url).status_code == 405


@pytest.mark.parametrize("url", [STAFF_URL, SUBSIDY_URL, IMPORTS_URL])
def test_the_reads_take_no_post(url, auditor, client_for):
    response = client_for(auditor).post(url, {}, content_type="application/json")
    assert response.status_code == 405


def test_officials_read_masked_id_numbers_and_cannot_search_by_them(roster, official, client_for):
    client = client_for(official)
    results = client.get(STAFF_URL).json()["results"]
    full = staff_row(1)["id_number"]
    assert results[0]["id_number"] == full[:4] + "*" * 10 + full[-4:]
    assert results[0]["birth_date"] is None
    assert full not in str(results)
    assert client.get(STAFF_URL, {"q": full}).json()["count"] == 0


def test_auditors_search_by_id_number(roster, auditor, client_for):
    full = staff_row(2)["id_number"]
    results = client_for(auditor).get(STAFF_URL, {"q": full}).json()["results"]
    assert [r["id_number"] for r in results] == [full]


@pytest.mark.parametrize(
    "persona", ["approver", "org_admin", "org_member", "assessor", "registry_admin", "outsider"]
)
def test_other_roles_see_no_records_and_no_imports(roster, persona, request, client_for):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(STAFF_URL).json()["count"] == 0
    assert client.get(SUBSIDY_URL).json()["count"] == 0
    assert client.get(IMPORTS_URL).json()["count"] == 0
    assert client.get(f"{IMPORTS_URL}{roster.pk}/").status_code == 404


def test_a_missing_import_is_a_404(auditor, client_for):
    assert client_for(auditor).get(f"{IMPORTS_URL}999/").status_code == 404


def test_malformed_filters_are_a_400_naming_them(roster, auditor, client_for):
    client = client_for(auditor)
    body = client.get(STAFF_URL, {"version": "abc", "on": "someday"}).json()
    assert set(body["fields"]) == {"version", "on"}
    assert client.get(IMPORTS_URL, {"kind": "payroll"}).status_code == 400


def test_older_versions_stay_readable(
    roster, auditor, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        funding_import_start(kind="staffing", upload=upload([staff_row(3)]), actor=auditor)
    client = client_for(auditor)
    assert client.get(STAFF_URL).json()["count"] == 1
    assert client.get(STAFF_URL, {"version": roster.pk}).json()["count"] == 2
    versions = client.get(IMPORTS_URL, {"kind": "staffing"}).json()["results"]
    assert [v["is_current"] for v in versions] == [True, False]


def test_filters_narrow_the_roster(roster, auditor, client_for):
    client = client_for(auditor)
    assert client.get(STAFF_URL, {"on": "2019-12-31"}).json()["count"] == 0
    assert client.get(STAFF_URL, {"on": "2024-01-01"}).json()["count"] == 2
    assert client.get(STAFF_URL, {"unit": "解放碑"}).json()["count"] == 2
    assert client.get(STAFF_URL, {"post_type": "administrative"}).json()["count"] == 0


def test_the_roster_list_takes_a_constant_number_of_queries(
    auditor, client_for, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        funding_import_start(
            kind="staffing", upload=upload([staff_row(n) for n in range(30)]), actor=auditor
        )
        funding_import_start(
            kind="subsidy",
            upload=upload([subsidy_row() for _ in range(30)], SUBSIDY_HEADER),
            actor=auditor,
        )
    client = client_for(auditor)
    with django_assert_max_num_queries(8):
        assert client.get(STAFF_URL).json()["count"] == 30
    with django_assert_max_num_queries(8):
        assert client.get(SUBSIDY_URL).json()["count"] == 30
    with django_assert_max_num_queries(8):
        assert client.get(IMPORTS_URL).json()["count"] == 2
