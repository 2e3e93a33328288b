"""API v1 staff rosters: who sees and edits them, masked ID numbers, imports, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, User
from orgs_registry import services
from orgs_registry.identifiers import make_id_number, mask_id_number
from orgs_registry.models import Employment, Organization, Person, Qualification
from tests.conftest import PASSWORD

ERROR_KEYS = {"error", "detail", "fields"}


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Token {response.json()['token']}"})


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def staff_url(organization: Organization, person_id: int | None = None) -> str:
    url = f"/api/v1/organizations/{organization.pk}/staff/"
    return url if person_id is None else f"{url}{person_id}/"


def id_number(sequence: int, *, born: date = date(1990, 5, 17)) -> str:
    return make_id_number(region="500103", born=born, sequence=sequence, male=True)


def employ(organization: Organization, admin: User, sequence: int, **extra) -> Employment:
    data = services.StaffInput(
        name=extra.pop("name", f"员工{sequence}"),
        id_number=id_number(sequence),
        role=extra.pop("role", "社工"),
        start_date=extra.pop("start_date", date(2024, 3, 1)),
        **extra,
    )
    return services.staff_add(organization=organization, actor=admin, data=data)


def staff_events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def roster(organization, org_admin) -> Employment:
    return employ(
        organization,
        org_admin,
        1,
        name="李四",
        phone="13900001111",
        qualification="social_worker",
        certificate_number="SW-2020-001",
    )


# --- Adding people (CONTRACTS section 3) -------------------------------------------------------


def test_the_org_admin_adds_a_person_and_gets_the_contract_shape(org_admin, organization):
    number = id_number(7)
    response = post(
        token_client(org_admin),
        staff_url(organization),
        {"name": "张三", "id_number": number, "qualification": "assistant_social_worker"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(id_number=number)
    assert body["id"] == person.pk
    assert body["name"] == "张三"
    assert body["id_number_masked"] == mask_id_number(number)
    # The organization's own administrator sees the whole number.
    assert body["id_number"] == number
    assert body["role"] == "staff"
    assert body["weekly_hours"] == "40.0"
    assert body["start_date"] == timezone.localdate().isoformat()
    assert body["end_date"] is None
    assert [q["level"] for q in body["qualifications"]] == ["assistant_social_worker"]
    employment = Employment.objects.get(person=person, organization=organization)
    [event] = staff_events(AuditAction.STAFF_ADDED)
    assert event.object_id == str(employment.pk)
    assert event.details["person"] == person.pk


def test_the_person_id_is_the_one_the_roster_lists(client_for, org_admin, organization):
    created = post(
        client_for(org_admin), staff_url(organization), {"name": "张三", "id_number": id_number(7)}
    ).json()
    listed = client_for(org_admin).get(staff_url(organization)).json()["results"]
    assert [row["id"] for row in listed] == [created["id"]]


def test_optional_facts_are_stored(client_for, org_admin, organization):
    response = post(
        client_for(org_admin),
        staff_url(organization),
        {
            "name": "王五",
            "id_number": id_number(8),
            "role": "项目主管",
            "weekly_hours": "20",
            "start_date": "2025-01-06",
            "phone": "13800002222",
            "qualification": "social_worker",
            "certificate_number": "SW-9",
            "certified_on": "2021-06-30",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["role"], body["weekly_hours"], body["start_date"]) == (
        "项目主管",
        "20.0",
        "2025-01-06",
    )
    assert body["phone"] == "13800002222"
    assert body["qualifications"] == [
        {
            "level": "social_worker",
            "level_label": body["qualifications"][0]["level_label"],
            "certificate_number": "SW-9",
            "certified_on": "2021-06-30",
        }
    ]


def test_a_15_digit_legacy_number_is_converted(client_for, org_admin, organization):
    legacy = "500103900517011"
    response = post(
        client_for(org_admin), staff_url(organization), {"name": "老员工", "id_number": legacy}
    )
    assert response.status_code == 201, response.content
    assert response.json()["id_number"] == "50010319900517011" + response.json()["id_number"][-1]


def test_a_bad_id_number_is_a_400_naming_the_rule_and_saves_nothing(
    client_for, org_admin, organization
):
    good = id_number(9)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = (Person.objects.count(), Employment.objects.count())
    response = post(
        client_for(org_admin), staff_url(organization), {"name": "张三", "id_number": bad}
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert list(body["fields"]) == ["id_number"]
    assert "check character (position 18)" in body["fields"]["id_number"][0]
    assert (Person.objects.count(), Employment.objects.count()) == before
    assert staff_events(AuditAction.STAFF_ADDED) == []


def test_missing_name_and_number_are_named(client_for, org_admin, organization):
    response = post(client_for(org_admin), staff_url(organization), {})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "id_number"}


def test_a_name_that_does_not_match_the_record_is_refused(
    client_for, org_admin, organization, roster
):
    response = post(
        client_for(org_admin),
        staff_url(organization),
        {"name": "冒名", "id_number": roster.person.id_number},
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name"}


def test_the_same_person_twice_is_a_400(client_for, org_admin, organization, roster):
    response = post(
        client_for(org_admin),
        staff_url(organization),
        {"name": "李四", "id_number": roster.person.id_number},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["id_number"]
    assert Employment.objects.filter(person=roster.person).count() == 1


@pytest.mark.parametrize("persona", ["org_member", "registry_admin", "auditor"])
def test_only_the_org_admin_adds_staff(request, client_for, organization, persona):
    user = request.getfixturevalue(persona)
    response = post(
        client_for(user), staff_url(organization), {"name": "张三", "id_number": id_number(7)}
    )
    assert response.status_code == 403
    assert Person.objects.count() == 0


@pytest.mark.parametrize("persona", ["other_org_admin", "official", "assessor", "outsider"])
def test_someone_elses_roster_is_a_404_for_reading_and_writing(
    request, client_for, organization, roster, persona
):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(staff_url(organization)).status_code == 404
    assert client.get(staff_url(organization, roster.person_id)).status_code == 404
    response = post(client, staff_url(organization), {"name": "张三", "id_number": id_number(7)})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert (
        patch(client, staff_url(organization, roster.person_id), {"role": "x"}).status_code == 404
    )
    assert Person.objects.count() == 1


def test_anonymous_callers_must_sign_in(client, organization, roster):
    assert client.get(staff_url(organization)).status_code == 401


def test_delete_on_the_roster_is_405(client_for, org_admin, organization, roster):
    client = client_for(org_admin)
    assert client.delete(staff_url(organization)).status_code == 405
    assert client.delete(staff_url(organization, roster.person_id)).status_code == 405


# --- Reading: the role matrix for ID numbers ---------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "whole"),
    [
        ("org_admin", True),
        ("auditor", True),
        ("org_member", False),
        ("registry_admin", False),
    ],
)
def test_id_numbers_and_phones_are_whole_only_for_the_org_admin_and_auditors(
    request, client_for, organization, roster, persona, whole
):
    client = client_for(request.getfixturevalue(persona))
    number = roster.person.id_number
    for row in (
        client.get(staff_url(organization)).json()["results"][0],
        client.get(staff_url(organization, roster.person_id)).json(),
    ):
        assert row["id_number_masked"] == mask_id_number(number)
        assert row["phone_masked"] == "139****1111"
        if whole:
            assert (row["id_number"], row["phone"]) == (number, "13900001111")
        else:
            assert "id_number" not in row
            assert "phone" not in row
            assert number not in str(row)


def test_an_org_admin_sees_a_shared_person_masked_on_no_other_roster(
    client_for, org_admin, other_org_admin, organization, other_organization, roster
):
    # The same person also works for the other organization: each admin sees their own roster.
    services.staff_add(
        organization=other_organization,
        actor=other_org_admin,
        data=services.StaffInput(
            name="李四",
            id_number=roster.person.id_number,
            role="志愿者",
            start_date=date(2025, 1, 1),
        ),
    )
    mine = client_for(other_org_admin).get(staff_url(other_organization)).json()["results"]
    assert [row["role"] for row in mine] == ["志愿者"]
    assert client_for(other_org_admin).get(staff_url(organization)).status_code == 404


def test_the_detail_lists_every_employment_here(client_for, org_admin, organization, roster):
    body = client_for(org_admin).get(staff_url(organization, roster.person_id)).json()
    assert body["id"] == roster.person_id
    assert [(e["id"], e["role"], e["current"]) for e in body["employments"]] == [
        (roster.pk, "社工", True)
    ]
    assert [q["level"] for q in body["qualifications"]] == ["social_worker"]


def test_a_person_not_on_this_roster_is_a_404(client_for, org_admin, organization, other_org_admin):
    stranger = employ(
        Organization.objects.get(pk=other_org_admin.organization_id), other_org_admin, 5
    )
    response = client_for(org_admin).get(staff_url(organization, stranger.person_id))
    assert response.status_code == 404


def test_the_roster_costs_the_same_queries_for_3_or_30_people(client_for, org_admin, organization):
    client = client_for(org_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(staff_url(organization)).status_code == 200
        return len(captured)

    for n in range(3):
        employ(organization, org_admin, n, qualification="social_worker")
    few = queries()
    for n in range(3, 30):
        employ(organization, org_admin, n, qualification="assistant_social_worker")
    assert queries() == few
    assert client.get(staff_url(organization)).json()["count"] == 30


# --- Changing an employment ---------------------------------------------------------------------


def test_the_org_admin_changes_role_hours_and_ends_the_employment(
    client_for, org_admin, organization, roster
):
    url = staff_url(organization, roster.person_id)
    response = patch(
        client_for(org_admin), url, {"role": "督导", "weekly_hours": "30", "end_date": "2026-06-30"}
    )
    assert response.status_code == 200, response.content
    [employment] = response.json()["employments"]
    assert (employment["role"], employment["weekly_hours"], employment["end_date"]) == (
        "督导",
        "30.0",
        "2026-06-30",
    )
    [event] = staff_events(AuditAction.STAFF_UPDATED)
    assert set(event.details["changed"]) == {"role", "weekly_hours", "end_date"}


def test_a_null_end_date_reopens_the_employment(client_for, org_admin, organization, roster):
    services.staff_update(employment=roster, actor=org_admin, end_date=date(2026, 1, 31))
    response = patch(
        client_for(org_admin), staff_url(organization, roster.person_id), {"end_date": None}
    )
    assert response.status_code == 200
    assert response.json()["employments"][0]["end_date"] is None


def test_an_end_before_the_start_is_a_400_and_changes_nothing(
    client_for, org_admin, organization, roster
):
    response = patch(
        client_for(org_admin), staff_url(organization, roster.person_id), {"end_date": "2020-01-01"}
    )
    assert response.status_code == 400
    roster.refresh_from_db()
    assert roster.end_date is None
    assert staff_events(AuditAction.STAFF_UPDATED) == []


def test_bad_hours_are_a_400_naming_the_field(client_for, org_admin, organization, roster):
    response = patch(
        client_for(org_admin), staff_url(organization, roster.person_id), {"weekly_hours": "abc"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["weekly_hours"]


def test_the_person_cannot_be_renamed_through_the_roster(
    client_for, org_admin, organization, roster
):
    response = patch(
        client_for(org_admin), staff_url(organization, roster.person_id), {"name": "改名"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]
    roster.person.refresh_from_db()
    assert roster.person.name == "李四"


def test_a_member_cannot_change_the_roster(client_for, org_member, organization, roster):
    response = patch(
        client_for(org_member), staff_url(organization, roster.person_id), {"role": "x"}
    )
    assert response.status_code == 403
    roster.refresh_from_db()
    assert roster.role == "社工"


# --- Qualifications ----------------------------------------------------------------------------


def test_the_org_admin_records_a_qualification(client_for, org_admin, organization, roster):
    url = f"{staff_url(organization, roster.person_id)}qualifications/"
    response = post(
        client_for(org_admin),
        url,
        {
            "level": "senior_social_worker",
            "certificate_number": "SSW-1",
            "certified_on": "2025-05-01",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["level"] == "senior_social_worker"
    assert Qualification.objects.filter(person=roster.person).count() == 2
    assert len(staff_events(AuditAction.STAFF_QUALIFICATION_RECORDED)) == 1


def test_an_unknown_level_is_a_400(client_for, org_admin, organization, roster):
    url = f"{staff_url(organization, roster.person_id)}qualifications/"
    response = post(client_for(org_admin), url, {"level": "wizard"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["level"]
    assert Qualification.objects.filter(person=roster.person).count() == 1


def test_qualifications_are_post_only_and_for_the_admin(
    client_for, org_admin, org_member, other_org_admin, organization, roster
):
    url = f"{staff_url(organization, roster.person_id)}qualifications/"
    assert client_for(org_admin).get(url).status_code == 405
    assert post(client_for(org_member), url, {"level": "social_worker"}).status_code == 403
    assert post(client_for(other_org_admin), url, {"level": "social_worker"}).status_code == 404


# --- Import ------------------------------------------------------------------------------------


def csv_upload(rows: list[list[str]]) -> SimpleUploadedFile:
    lines = ["name,id_number,role,start_date", *(",".join(row) for row in rows)]
    return SimpleUploadedFile(
        "roster.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv"
    )


def test_the_org_admin_imports_a_roster(client_for, org_admin, organization):
    upload = csv_upload(
        [["甲", id_number(21), "社工", "2025-01-01"], ["乙", id_number(22), "社工", "2025-02-01"]]
    )
    response = client_for(org_admin).post(f"{staff_url(organization)}import/", {"file": upload})
    assert response.status_code == 201, response.content
    assert response.json() == {"rows": 2, "people_created": 2}
    assert Employment.objects.filter(organization=organization).count() == 2
    assert len(staff_events(AuditAction.ROSTER_IMPORTED)) == 1


def test_bad_rows_are_listed_and_nothing_is_imported(client_for, org_admin, organization):
    bad = id_number(23)[:-1] + ("0" if id_number(23)[-1] != "0" else "1")
    upload = csv_upload(
        [["甲", id_number(21), "社工", "2025-01-01"], ["乙", bad, "社工", "2025-02-01"]]
    )
    response = client_for(org_admin).post(f"{staff_url(organization)}import/", {"file": upload})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"]
    [problem] = body["fields"]["rows"]
    assert problem.startswith("row 3: id_number: ")
    assert Person.objects.count() == 0
    assert staff_events(AuditAction.ROSTER_IMPORTED) == []


def test_an_import_without_a_file_names_the_field(client_for, org_admin, organization):
    response = client_for(org_admin).post(f"{staff_url(organization)}import/", {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["file"]


def test_an_unusable_file_is_a_400_on_the_file(client_for, org_admin, organization):
    upload = SimpleUploadedFile(
        "roster.pdf", b"%PDF-1.7 not a roster", content_type="application/pdf"
    )
    response = client_for(org_admin).post(f"{staff_url(organization)}import/", {"file": upload})
    assert response.status_code == 400
    assert "file" in response.json()["fields"]


def test_import_is_for_the_org_admin_only(client_for, org_member, other_org_admin, organization):
    upload = csv_upload([["甲", id_number(21), "社工", "2025-01-01"]])
    url = f"{staff_url(organization)}import/"
    assert client_for(org_member).post(url, {"file": upload}).status_code == 403
    upload.seek(0)
    assert client_for(other_org_admin).post(url, {"file": upload}).status_code == 404
    assert client_for(org_member).get(url).status_code == 405
    assert Person.objects.count() == 0
