"""Pages of the funding registries: the auditors' upload and its progress, the versions,
the roster and ledger browsers; every other role refused; ID numbers masked for officials."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orgs_registry.models import FundingImport, FundingImportStatus
from orgs_registry.services_funding import funding_import_start
from tests.funding_support import (
    STAFFING_HEADER,
    SUBSIDY_HEADER,
    csv_bytes,
    staff_row,
    subsidy_row,
)

pytestmark = pytest.mark.django_db

READ_ROUTES = ["funding_imports", "staffing_records", "subsidies"]
REFUSED = ["approver", "org_admin", "org_member", "assessor", "registry_admin", "outsider"]


@pytest.fixture(autouse=True)
def _english(auditor, official):
    for user in (auditor, official):
        user.language = "en"
        user.save(update_fields=["language"])


@pytest.fixture
def client_for(client_for):
    """Clients that read the pages in English (the messages below are the English ones)."""

    def build(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return build


def upload(rows, header=STAFFING_HEADER) -> SimpleUploadedFile:
    return SimpleUploadedFile("roster.csv", csv_bytes(rows, header), content_type="text/csv")


@pytest.fixture
def roster(auditor, django_capture_on_commit_callbacks) -> FundingImport:
    with django_capture_on_commit_callbacks(execute=True):
        queued = funding_import_start(
            kind="staffing", upload=upload([staff_row(1), staff_row(2)]), actor=auditor
        )
    return FundingImport.objects.get(pk=queued.pk)


@pytest.fixture
def ledger(auditor, django_capture_on_commit_callbacks) -> FundingImport:
    with django_capture_on_commit_callbacks(execute=True):
        queued = funding_import_start(
            kind="subsidy", upload=upload([subsidy_row()], SUBSIDY_HEADER), actor=auditor
        )
    return FundingImport.objects.get(pk=queued.pk)


def test_an_auditor_uploads_and_lands_on_the_import_with_its_progress(
    auditor, client_for, django_capture_on_commit_callbacks
):
    client = client_for(auditor)
    page = client.get(reverse("orgs_registry:funding_upload"))
    assert page.status_code == 200
    assert "person_name (姓名)" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orgs_registry:funding_upload"),
            {"kind": "staffing", "file": upload([staff_row(1)]), "note": "2026 roster"},
        )
    item = FundingImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orgs_registry:funding_import", args=[item.pk])
    assert item.status == FundingImportStatus.DONE
    detail = client.get(response.url).content.decode()
    assert '<progress max="100" value="100"' in detail
    assert "1 row imported." in detail
    assert "hx-trigger" not in detail  # finished: no more polling


def test_a_running_import_polls_its_progress_and_refreshes_without_javascript(auditor, client_for):
    upload_file = upload([staff_row(1)])
    # Queued but not yet run (no commit callbacks executed): pending.
    item = funding_import_start(kind="staffing", upload=upload_file, actor=auditor)
    client = client_for(auditor)
    detail = client.get(reverse("orgs_registry:funding_import", args=[item.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in detail
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in detail
    fragment = client.get(reverse("orgs_registry:funding_import_progress", args=[item.pk]))
    assert fragment.status_code == 200
    assert 'id="funding-progress"' in fragment.content.decode()


def test_bad_rows_are_listed_on_the_import_page(
    auditor, client_for, django_capture_on_commit_callbacks
):
    client = client_for(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orgs_registry:funding_upload"),
            {"kind": "staffing", "file": upload([staff_row(1, post_type="临时")])},
        )
    page = client.get(response.url).content.decode()
    assert "1 problem in the file" in page
    assert "row 2: post_type: Unknown value “临时”" in page
    assert "Nothing was imported." in page


def test_a_file_of_the_wrong_type_is_shown_on_the_form(auditor, client_for):
    client = client_for(auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("orgs_registry:funding_upload"),
        {"kind": "staffing", "file": SimpleUploadedFile("a.csv", b"%PDF-1.4 x")},
    )
    assert response.status_code == 200
    assert "by its content it is a PDF document" in response.content.decode()
    assert not FundingImport.objects.exists()


def test_the_upload_takes_get_and_post_only(auditor, client_for):
    response = client_for(auditor).put(reverse("orgs_registry:funding_upload"))
    assert response.status_code == 405


@pytest.mark.parametrize("route", READ_ROUTES)
def test_the_browsers_take_get_only(route, auditor, client_for):
    assert client_for(auditor).post(reverse(f"orgs_registry:{route}")).status_code == 405


def test_the_roster_shows_full_id_numbers_to_auditors_and_masked_to_officials(
    roster, auditor, official, client_for
):
    full = staff_row(1)["id_number"]
    url = reverse("orgs_registry:staffing_records")
    assert full in client_for(auditor).get(url).content.decode()
    seen = client_for(official).get(url).content.decode()
    assert full not in seen
    assert full[:4] + "*" * 10 + full[-4:] in seen


def test_the_roster_filters_by_name_and_period(roster, auditor, client_for):
    url = reverse("orgs_registry:staffing_records")
    client = client_for(auditor)
    name = staff_row(2)["person_name"]
    page = client.get(url, {"q": name}).content.decode()
    assert staff_row(2)["id_number"] in page
    assert staff_row(1)["id_number"] not in page
    assert "No record matches." in client.get(url, {"on": "2019-01-01"}).content.decode()


def test_an_older_version_stays_browsable(
    roster, auditor, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        funding_import_start(kind="staffing", upload=upload([staff_row(3)]), actor=auditor)
    client = client_for(auditor)
    url = reverse("orgs_registry:staffing_records")
    current = client.get(url).content.decode()
    assert staff_row(1)["id_number"] not in current
    old = client.get(url, {"version": roster.pk}).content.decode()
    assert staff_row(1)["id_number"] in old
    assert "Show the current version" in old
    history = client.get(reverse("orgs_registry:funding_imports")).content.decode()
    assert history.count("roster.csv") >= 2


def test_a_version_of_the_other_registry_is_a_404(roster, ledger, auditor, client_for):
    response = client_for(auditor).get(reverse("orgs_registry:subsidies"), {"version": roster.pk})
    assert response.status_code == 404


def test_the_ledger_lists_grants(ledger, official, client_for):
    page = client_for(official).get(reverse("orgs_registry:subsidies")).content.decode()
    assert "120000.00" in page
    assert "解放碑社工服务中心" in page


def test_officials_may_read_but_not_upload(roster, official, client_for):
    client = client_for(official)
    assert client.get(reverse("orgs_registry:funding_upload")).status_code == 403
    assert client.get(reverse("orgs_registry:funding_import", args=[roster.pk])).status_code == 200
    page = client.get(reverse("orgs_registry:funding_imports")).content.decode()
    assert reverse("orgs_registry:funding_upload") not in page


@pytest.mark.parametrize("persona", REFUSED)
@pytest.mark.parametrize(
    "route", [*READ_ROUTES, "funding_upload", "funding_import", "funding_import_progress"]
)
def test_every_other_role_is_refused(roster, persona, route, request, client_for):
    args = [roster.pk] if route.startswith("funding_import") and route != "funding_imports" else []
    response = client_for(request.getfixturevalue(persona)).get(
        reverse(f"orgs_registry:{route}", args=args)
    )
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("orgs_registry:funding_imports"))
    assert response.status_code == 302
    assert "login" in response.url


def test_a_missing_import_is_a_404(auditor, client_for):
    response = client_for(auditor).get(reverse("orgs_registry:funding_import", args=[999]))
    assert response.status_code == 404


def test_the_browsers_take_a_constant_number_of_queries(
    auditor, client_for, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        funding_import_start(
            kind="staffing", upload=upload([staff_row(n) for n in range(25)]), actor=auditor
        )
        funding_import_start(
            kind="subsidy",
            upload=upload([subsidy_row() for _ in range(25)], SUBSIDY_HEADER),
            actor=auditor,
        )
    client = client_for(auditor)
    for route in READ_ROUTES:
        with django_assert_max_num_queries(14):
            assert client.get(reverse(f"orgs_registry:{route}")).status_code == 200


def test_auditors_find_the_registries_in_the_navigation(auditor, org_admin, client_for):
    url = reverse("orgs_registry:funding_imports")
    assert f'href="{url}"' in client_for(auditor).get(reverse("dashboard")).content.decode()
    assert f'href="{url}"' not in client_for(org_admin).get(reverse("dashboard")).content.decode()
