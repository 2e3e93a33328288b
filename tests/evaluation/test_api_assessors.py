"""API v1 assessor profiles: the assessor keeps their own agency, categories, employment
history and declared relations (the facts the panel draw checks); the street office and
auditors read any profile. Every change is audited."""

from __future__ import annotations

from datetime import date

import pytest

from evaluation.models import AssessorEmployment, AssessorProfile, AssessorRelation
from marketplace.models import AuditAction, Role
from tests.conftest import make_user
from tests.evaluation.test_api_support import (
    anonymous,
    api,
    delete,
    events,
    is_error,
    patch,
    post,
    put,
)

ME = "/api/v1/assessors/me/"
EMPLOYMENTS = "/api/v1/assessors/me/employments/"
RELATIONS = "/api/v1/assessors/me/relations/"
MISSING = 999_999
PROFILE_FIELDS = {"id", "user", "name", "agency", "categories", "employments", "relations"}


def profile_url(profile: AssessorProfile | int) -> str:
    pk = profile if isinstance(profile, int) else profile.pk
    return f"/api/v1/assessors/{pk}/"


@pytest.fixture
def other_assessor(db):
    return make_user("other_assessor", Role.ASSESSOR)


def profile_of(user) -> AssessorProfile:
    return AssessorProfile.objects.get(user=user)


# --- The own profile --------------------------------------------------------------------------


def test_an_assessor_reads_their_own_profile(assessor):
    response = api(assessor).get(ME)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= PROFILE_FIELDS
    assert body["user"] == assessor.pk
    assert "elderly_care" in body["categories"]
    assert (body["employments"], body["relations"]) == ([], [])


def test_an_assessor_changes_their_agency_and_categories(assessor):
    response = patch(
        api(assessor),
        ME,
        {"agency": "重庆社会评估中心", "categories": ["elderly_care", "disability"]},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["agency"] == "重庆社会评估中心"
    assert sorted(body["categories"]) == ["disability", "elderly_care"]
    (event,) = events(AuditAction.ASSESSOR_PROFILE_UPDATED)
    assert event.actor_id == assessor.pk
    assert event.details["change"] == "profile"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["no_such_category"]}, "categories"),
        ({"agency": "评" * 201}, "agency"),
        ({"user": 1}, "user"),
    ],
)
def test_a_bad_profile_change_names_the_field_and_changes_nothing(assessor, data, field):
    before = sorted(profile_of(assessor).categories.values_list("code", flat=True))

    response = patch(api(assessor), ME, data)

    assert is_error(response, 400, field), response.content
    profile = profile_of(assessor)
    assert profile.agency == ""
    assert sorted(profile.categories.values_list("code", flat=True)) == before
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED) == []


@pytest.mark.parametrize("persona", ["official", "org_admin", "auditor"])
def test_only_assessors_have_an_own_profile(request, persona):
    client = api(request.getfixturevalue(persona))
    assert is_error(client.get(ME), 403)
    assert is_error(patch(client, ME, {"agency": "某所"}), 403)
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED) == []


def test_the_own_profile_needs_a_signed_in_caller_and_is_not_replaced_or_deleted(assessor):
    assert is_error(anonymous().get(ME), 401)
    assert is_error(patch(anonymous(), ME, {"agency": "某所"}), 401)
    assert put(api(assessor), ME, {"agency": "某所"}).status_code == 405
    assert delete(api(assessor), ME).status_code == 405
    assert AssessorProfile.objects.filter(user=assessor).exists()


# --- Employment history -----------------------------------------------------------------------


def test_an_employment_at_a_registered_organization_is_matched_by_its_credit_code(
    assessor, organization
):
    response = post(
        api(assessor),
        EMPLOYMENTS,
        {"employer_uscc": organization.uscc, "position": "督导", "start_date": "2021-03-01"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"] == organization.pk
    assert body["employer_name"] == organization.name
    assert (body["start_date"], body["end_date"]) == ("2021-03-01", None)
    (event,) = events(AuditAction.ASSESSOR_PROFILE_UPDATED)
    assert event.details["change"] == "employment_added"
    assert api(assessor).get(ME).json()["employments"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"employer_name": "某机构"}, "start_date"),
        ({"employer_uscc": "123", "start_date": "2021-03-01"}, "employer_uscc"),
        (
            {"employer_name": "某机构", "start_date": "2021-03-01", "end_date": "2020-01-01"},
            "end_date",
        ),
        ({"employer_name": "某机构", "start_date": "2021-03-01", "salary": 1}, "salary"),
    ],
)
def test_a_bad_employment_names_the_field_and_saves_nothing(assessor, data, field):
    response = post(api(assessor), EMPLOYMENTS, data)

    assert is_error(response, 400, field), response.content
    assert not AssessorEmployment.objects.exists()
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED) == []


def test_an_employment_ends(assessor):
    created = post(
        api(assessor), EMPLOYMENTS, {"employer_name": "某机构", "start_date": "2020-01-01"}
    )

    response = post(
        api(assessor), f"{EMPLOYMENTS}{created.json()['id']}/end/", {"end_date": "2023-06-30"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["end_date"] == "2023-06-30"
    assert AssessorEmployment.objects.get().end_date == date(2023, 6, 30)
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED)[-1].details["change"] == "employment_ended"


def test_a_bad_end_date_is_named(assessor):
    created = post(
        api(assessor), EMPLOYMENTS, {"employer_name": "某机构", "start_date": "2020-01-01"}
    )
    end = f"{EMPLOYMENTS}{created.json()['id']}/end/"

    for data in ({"end_date": "2019-01-01"}, {}):
        assert is_error(post(api(assessor), end, data), 400, "end_date")
    assert AssessorEmployment.objects.get().end_date is None


def test_someone_elses_employment_is_a_404_like_a_missing_one(assessor, other_assessor):
    created = post(
        api(assessor), EMPLOYMENTS, {"employer_name": "某机构", "start_date": "2020-01-01"}
    )
    client = api(other_assessor)

    response = post(client, f"{EMPLOYMENTS}{created.json()['id']}/end/", {"end_date": "2023-01-01"})
    missing = post(client, f"{EMPLOYMENTS}{MISSING}/end/", {"end_date": "2023-01-01"})

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert AssessorEmployment.objects.get().end_date is None


def test_only_assessors_record_their_employment(official, org_admin):
    for user in (official, org_admin):
        data = {"employer_name": "某机构", "start_date": "2020-01-01"}
        assert is_error(post(api(user), EMPLOYMENTS, data), 403)
    assert is_error(post(anonymous(), EMPLOYMENTS, {}), 401)
    assert not AssessorEmployment.objects.exists()


def test_employments_are_added_and_ended_only(assessor):
    assert api(assessor).get(EMPLOYMENTS).status_code == 405
    created = post(
        api(assessor), EMPLOYMENTS, {"employer_name": "某机构", "start_date": "2020-01-01"}
    )
    end = f"{EMPLOYMENTS}{created.json()['id']}/end/"
    assert delete(api(assessor), end).status_code == 405
    assert api(assessor).get(end).status_code == 405
    assert AssessorEmployment.objects.count() == 1


# --- Declared relations -----------------------------------------------------------------------


def test_an_assessor_declares_a_relation_and_withdraws_it(assessor, organization):
    response = post(
        api(assessor), RELATIONS, {"organization_uscc": organization.uscc, "relation": "配偶任理事"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["organization"], body["relation"]) == (organization.pk, "配偶任理事")
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED)[-1].details["change"] == "relation_added"

    removed = delete(api(assessor), f"{RELATIONS}{body['id']}/")

    assert removed.status_code == 204
    assert not AssessorRelation.objects.exists()
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED)[-1].details["change"] == "relation_ended"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"organization_name": "某机构", "relation": ""}, "relation"),
        ({"organization_name": "某机构"}, "relation"),
        ({"organization_uscc": "X" * 18, "relation": "亲属"}, "organization_uscc"),
    ],
)
def test_a_bad_relation_names_the_field_and_saves_nothing(assessor, data, field):
    response = post(api(assessor), RELATIONS, data)

    assert is_error(response, 400, field), response.content
    assert not AssessorRelation.objects.exists()
    assert events(AuditAction.ASSESSOR_PROFILE_UPDATED) == []


def test_someone_elses_relation_is_a_404_like_a_missing_one(assessor, other_assessor):
    created = post(api(assessor), RELATIONS, {"organization_name": "某机构", "relation": "亲属"})
    client = api(other_assessor)

    response = delete(client, f"{RELATIONS}{created.json()['id']}/")
    missing = delete(client, f"{RELATIONS}{MISSING}/")

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert AssessorRelation.objects.count() == 1


def test_only_assessors_declare_relations(official, org_admin, assessor):
    for user in (official, org_admin):
        data = {"organization_name": "某机构", "relation": "亲属"}
        assert is_error(post(api(user), RELATIONS, data), 403)
    assert is_error(post(anonymous(), RELATIONS, {}), 401)
    assert api(assessor).get(RELATIONS).status_code == 405
    assert not AssessorRelation.objects.exists()


# --- Reading another assessor's profile -------------------------------------------------------


@pytest.mark.parametrize("persona", ["official", "approver", "auditor"])
def test_the_office_and_auditors_read_any_assessors_profile(request, assessor, persona):
    response = api(request.getfixturevalue(persona)).get(profile_url(profile_of(assessor)))

    assert response.status_code == 200, response.content
    assert response.json()["user"] == assessor.pk


def test_an_assessor_reads_their_own_profile_by_id(assessor):
    assert api(assessor).get(profile_url(profile_of(assessor))).status_code == 200


def test_another_assessors_profile_is_a_404_like_a_missing_one(assessor, other_assessor):
    client = api(other_assessor)
    response = client.get(profile_url(profile_of(assessor)))
    missing = client.get(profile_url(MISSING))
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_organizations_read_no_assessor_profile(assessor, org_admin):
    assert is_error(api(org_admin).get(profile_url(profile_of(assessor))), 403)
    assert is_error(anonymous().get(profile_url(profile_of(assessor))), 401)


def test_profiles_are_not_changed_by_id(assessor, official):
    response = patch(api(official), profile_url(profile_of(assessor)), {"agency": "某所"})
    assert response.status_code == 405
    assert profile_of(assessor).agency == ""
