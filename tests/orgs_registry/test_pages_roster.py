"""Roster pages: the list, adding, editing, ending, qualifications, the import, its template."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent
from orgs_registry import services
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import Employment, Organization, Person, Qualification

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
HEADER = (
    "name,id_number,role,weekly_hours,start_date,end_date,phone,"
    "qualification,certificate_number,certified_on"
)


def staff_url(name: str, organization: Organization, *args) -> str:
    return reverse(f"orgs_registry:{name}", args=[organization.pk, *args])


def id_number(sequence: int) -> str:
    return make_id_number(region="500103", born=date(1990, 1, 1), sequence=sequence, male=True)


@pytest.fixture
def employment(org_admin, organization) -> Employment:
    return services.staff_add(
        organization=organization,
        actor=org_admin,
        data=services.StaffInput(
            name="王小红",
            id_number=ID_NUMBER,
            role="社工",
            start_date=date(2024, 1, 1),
            phone=PHONE,
            qualification="social_worker",
            certificate_number="SW-2020-001",
        ),
    )


# --- Who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["org_admin", "auditor"])
def test_the_organizations_admin_and_auditors_see_full_id_numbers(
    request, client_for, organization, employment, persona
):
    client = client_for(request.getfixturevalue(persona))
    for url in [
        staff_url("roster", organization),
        staff_url("staff_detail", organization, employment.person_id),
    ]:
        html = client.get(url).content.decode()
        assert ID_NUMBER in html, url
        assert PHONE in html, url
        assert "1949-12-31" in html, url


@pytest.mark.parametrize("persona", ["org_member", "registry_admin"])
def test_members_and_the_registry_see_id_numbers_masked(
    request, client_for, organization, employment, persona
):
    client = client_for(request.getfixturevalue(persona))
    for url in [
        staff_url("roster", organization),
        staff_url("staff_detail", organization, employment.person_id),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert ID_NUMBER not in html, url
        assert employment.person.id_number_masked in html, url
        assert PHONE not in html, url
        assert "1949-12-31" not in html, url
        assert "王小红" in html


@pytest.mark.parametrize("persona", ["other_org_admin", "official", "assessor", "outsider"])
def test_other_people_get_404_on_the_roster_and_its_people(
    request, client_for, organization, employment, persona
):
    client = client_for(request.getfixturevalue(persona))
    for url in [
        staff_url("roster", organization),
        staff_url("staff_detail", organization, employment.person_id),
        staff_url("employment_edit", organization, employment.pk),
        staff_url("roster_template", organization),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert ID_NUMBER not in response.content.decode()


def test_the_roster_needs_a_sign_in(client, organization):
    response = client.get(staff_url("roster", organization))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_someone_not_on_this_roster_is_404(client_for, org_admin, organization, other_org_admin):
    elsewhere = services.staff_add(
        organization=other_org_admin.organization,
        actor=other_org_admin,
        data=services.StaffInput(
            name="李四", id_number=id_number(7), role="社工", start_date=date(2024, 1, 1)
        ),
    )
    client = client_for(org_admin)
    assert (
        client.get(staff_url("staff_detail", organization, elsewhere.person_id)).status_code == 404
    )
    assert client.get(staff_url("employment_edit", organization, elsewhere.pk)).status_code == 404


def test_the_roster_costs_the_same_queries_for_more_staff(
    client_for, org_admin, organization, employment, django_assert_max_num_queries
):
    client = client_for(org_admin)
    url = staff_url("roster", organization)
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    for i in range(30):
        services.staff_add(
            organization=organization,
            actor=org_admin,
            data=services.StaffInput(
                name=f"员工{i:02d}",
                id_number=id_number(i + 10),
                role="社工",
                start_date=date(2024, 1, 1),
                qualification="assistant_social_worker" if i % 2 else "",
            ),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 31


# --- Adding ------------------------------------------------------------------------------------


def staff_data(**overrides) -> dict[str, str]:
    data = {
        "name": "张伟",
        "id_number": id_number(1),
        "phone": "13900001111",
        "role": "项目主管",
        "weekly_hours": "40",
        "start_date": "2025-03-01",
        "end_date": "",
        "qualification": "senior_social_worker",
        "certificate_number": "SSW-01",
        "certified_on": "2022-06-30",
    }
    data.update(overrides)
    return data


def test_the_admin_adds_a_staff_member(client_for, org_admin, organization):
    response = client_for(org_admin).post(staff_url("staff_add", organization), staff_data())

    assert response.status_code == 302
    assert response.url == staff_url("roster", organization)
    employment = Employment.objects.get(organization=organization)
    assert employment.person.name == "张伟"
    assert employment.role == "项目主管"
    assert employment.person.qualifications.get().level == "senior_social_worker"
    assert AuditEvent.objects.filter(
        action=AuditAction.STAFF_ADDED, object_id=str(employment.pk)
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"weekly_hours": "forty"}, "weekly_hours"),
        ({"start_date": "not a date"}, "start_date"),
        ({"role": ""}, "role"),
        ({"phone": "555"}, "phone"),
    ],
)
def test_a_bad_staff_member_is_refused_on_the_field_and_nothing_is_saved(
    client_for, org_admin, organization, overrides, field
):
    people, employments = Person.objects.count(), Employment.objects.count()
    response = client_for(org_admin).post(
        staff_url("staff_add", organization), staff_data(**overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert (Person.objects.count(), Employment.objects.count()) == (people, employments)


def test_weekly_hours_out_of_range_are_refused_with_the_rule(client_for, org_admin, organization):
    response = client_for(org_admin).post(
        staff_url("staff_add", organization), staff_data(weekly_hours="100")
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "84" in response.content.decode()
    assert not Employment.objects.exists()


def test_a_name_that_does_not_match_the_id_number_is_refused_on_the_name(
    client_for, org_admin, organization, employment
):
    employments = Employment.objects.count()
    response = client_for(org_admin).post(
        staff_url("staff_add", organization), staff_data(id_number=ID_NUMBER, name="别人")
    )
    assert "name" in response.context["form"].errors
    assert Employment.objects.count() == employments


def test_a_person_already_on_the_roster_is_refused_on_the_id_number(
    client_for, org_admin, organization, employment
):
    response = client_for(org_admin).post(
        staff_url("staff_add", organization), staff_data(id_number=ID_NUMBER, name="王小红")
    )
    assert "id_number" in response.context["form"].errors
    assert Employment.objects.filter(organization=organization).count() == 1


def test_a_member_cannot_add_staff(client_for, org_member, organization):
    client = client_for(org_member)
    assert client.get(staff_url("staff_add", organization)).status_code == 403
    assert client.post(staff_url("staff_add", organization), staff_data()).status_code == 403
    assert not Employment.objects.exists()


# --- Editing, ending, qualifications -----------------------------------------------------------


def test_the_admin_edits_an_employment(client_for, org_admin, organization, employment):
    url = staff_url("employment_edit", organization, employment.pk)
    client = client_for(org_admin)
    assert client.get(url).context["form"].initial["role"] == "社工"

    response = client.post(
        url, {"role": "督导", "weekly_hours": "20", "start_date": "2024-01-01", "end_date": ""}
    )
    assert response.status_code == 302
    employment.refresh_from_db()
    assert (employment.role, employment.weekly_hours) == ("督导", 20)
    assert AuditEvent.objects.filter(
        action=AuditAction.STAFF_UPDATED, object_id=str(employment.pk)
    ).exists()


def test_an_end_before_the_start_is_refused_and_nothing_changes(
    client_for, org_admin, organization, employment
):
    response = client_for(org_admin).post(
        staff_url("employment_edit", organization, employment.pk),
        {
            "role": "督导",
            "weekly_hours": "40",
            "start_date": "2024-01-01",
            "end_date": "2023-01-01",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    employment.refresh_from_db()
    assert (employment.role, employment.end_date) == ("社工", None)
    assert not AuditEvent.objects.filter(action=AuditAction.STAFF_UPDATED).exists()


def test_the_admin_ends_an_employment(client_for, org_admin, organization, employment):
    response = client_for(org_admin).post(
        staff_url("employment_end", organization, employment.pk), {"end-end_date": "2025-12-31"}
    )
    assert response.status_code == 302
    employment.refresh_from_db()
    assert employment.end_date == date(2025, 12, 31)
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_UPDATED).exists()


def test_ending_needs_a_date(client_for, org_admin, organization, employment):
    response = client_for(org_admin).post(
        staff_url("employment_end", organization, employment.pk), {"end-end_date": ""}
    )
    assert response.status_code == 200
    assert "end_date" in response.context["end_form"].errors
    employment.refresh_from_db()
    assert employment.end_date is None


def test_a_member_cannot_edit_or_end_an_employment(
    client_for, org_member, organization, employment
):
    client = client_for(org_member)
    assert client.get(staff_url("employment_edit", organization, employment.pk)).status_code == 403
    response = client.post(
        staff_url("employment_end", organization, employment.pk), {"end-end_date": "2025-12-31"}
    )
    assert response.status_code == 403
    employment.refresh_from_db()
    assert employment.end_date is None


def test_the_admin_records_a_qualification(client_for, org_admin, organization, employment):
    url = staff_url("qualification_record", organization, employment.person_id)
    response = client_for(org_admin).post(
        url, {"level": "senior_social_worker", "certificate_number": "SSW-9", "certified_on": ""}
    )
    assert response.status_code == 302
    assert Qualification.objects.filter(
        person=employment.person, level="senior_social_worker"
    ).exists()
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_QUALIFICATION_RECORDED).exists()


def test_a_bad_qualification_is_refused_on_its_field(
    client_for, org_admin, organization, employment
):
    url = staff_url("qualification_record", organization, employment.person_id)
    response = client_for(org_admin).post(url, {"level": "guru", "certified_on": "2022-13-01"})
    assert response.status_code == 200
    errors = response.context["qualification_form"].errors
    assert {"level", "certified_on"} <= set(errors)
    assert Qualification.objects.filter(person=employment.person).count() == 1


@pytest.mark.parametrize("name", ["qualification_record", "employment_end"])
def test_roster_writes_refuse_get(client_for, org_admin, organization, employment, name):
    arg = employment.person_id if name == "qualification_record" else employment.pk
    assert client_for(org_admin).get(staff_url(name, organization, arg)).status_code == 405


def test_another_organizations_admin_cannot_write_to_the_roster(
    client_for, other_org_admin, organization, employment
):
    client = client_for(other_org_admin)
    before = AuditEvent.objects.count()
    for url, data in [
        (staff_url("employment_end", organization, employment.pk), {"end-end_date": "2025-01-01"}),
        (
            staff_url("employment_edit", organization, employment.pk),
            {"role": "x", "weekly_hours": "1", "start_date": "2024-01-01"},
        ),
        (
            staff_url("qualification_record", organization, employment.person_id),
            {"level": "social_worker"},
        ),
        (staff_url("roster_import", organization), {}),
    ]:
        assert client.post(url, data).status_code == 404, url
    assert AuditEvent.objects.count() == before


# --- Import ------------------------------------------------------------------------------------


def csv_upload(*rows: str, name: str = "roster.csv") -> SimpleUploadedFile:
    content = "\n".join([HEADER, *rows]) + "\n"
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def test_the_template_is_a_csv_attachment_with_the_header_row(client_for, org_admin, organization):
    response = client_for(org_admin).get(staff_url("roster_template", organization))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".csv" in response["Content-Disposition"]
    assert response.content.decode().splitlines() == [HEADER]


def test_the_admin_imports_a_roster(client_for, org_admin, organization):
    upload = csv_upload(
        f"赵一,{id_number(21)},社工,40,2024-01-01,,13900000001,social_worker,SW-1,2020-01-01",
        f"钱二,{id_number(22)},助理,20,2024-02-01,,,,,",
    )
    client = client_for(org_admin)
    response = client.post(staff_url("roster_import", organization), {"file": upload})

    assert response.status_code == 302
    assert Employment.objects.filter(organization=organization).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.ROSTER_IMPORTED).count() == 1
    page = client.get(response.url)
    notes = " ".join(str(m) for m in page.context["messages"])
    assert "2" in notes


def test_bad_rows_are_listed_by_row_and_column_and_nothing_is_imported(
    client_for, org_admin, organization
):
    upload = csv_upload(
        f"赵一,{id_number(21)},社工,40,2024-01-01,,,,,",
        "钱二,110105194912310021,助理,20,2024-02-01,,,,,",
        f"孙三,{id_number(23)},,20,not-a-date,,,,,",
    )
    response = client_for(org_admin).post(
        staff_url("roster_import", organization), {"file": upload}
    )

    assert response.status_code == 200
    problems = response.context["problems"]
    assert any(p.startswith("row 3: id_number:") for p in problems), problems
    assert any(p.startswith("row 4: role:") for p in problems), problems
    assert any(p.startswith("row 4: start_date:") for p in problems), problems
    html = response.content.decode()
    assert "row 3: id_number:" in html
    assert not Employment.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ROSTER_IMPORTED).exists()


def test_an_unusable_file_is_refused_on_the_file_field(client_for, org_admin, organization):
    upload = SimpleUploadedFile("roster.csv", b"\x00\x01\x02 not a spreadsheet", "text/csv")
    response = client_for(org_admin).post(
        staff_url("roster_import", organization), {"file": upload}
    )
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not Employment.objects.exists()


def test_a_missing_file_is_refused(client_for, org_admin, organization):
    response = client_for(org_admin).post(staff_url("roster_import", organization), {})
    assert "file" in response.context["form"].errors


def test_a_member_cannot_import(client_for, org_member, organization):
    upload = csv_upload(f"赵一,{id_number(21)},社工,40,2024-01-01,,,,,")
    client = client_for(org_member)
    assert client.get(staff_url("roster_import", organization)).status_code == 403
    response = client.post(staff_url("roster_import", organization), {"file": upload})
    assert response.status_code == 403
    assert not Employment.objects.exists()
