"""The assessor's profile page: agency and categories, employment periods and declared
relations (the facts the random draw checks for conflicts), each change through the
services and audited; nobody else's profile is reachable."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.models import AssessorEmployment, AssessorProfile, AssessorRelation
from evaluation.services import assessor_employment_add, assessor_relation_add
from marketplace.models import AuditAction, AuditEvent
from orgs_registry.models import ServiceCategory
from tests.evaluation.test_pages_support import chinese_outside_data, english, text_of

PROFILE = reverse("evaluation:profile")


def events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.ASSESSOR_PROFILE_UPDATED).order_by("sequence")
    )


@pytest.fixture
def profile(assessor) -> AssessorProfile:
    return AssessorProfile.objects.get(user=assessor)


@pytest.fixture
def employment(profile, assessor) -> AssessorEmployment:
    return assessor_employment_add(
        profile=profile,
        actor=assessor,
        employer_name="重庆某社会工作服务中心",
        start_date=date(2019, 3, 1),
    )


@pytest.fixture
def relation(profile, assessor, organization) -> AssessorRelation:
    return assessor_relation_add(
        profile=profile,
        actor=assessor,
        organization_name="",
        organization=organization,
        relation="配偶任理事",
    )


def test_the_assessor_reads_their_profile(client_for, assessor, employment, relation):
    html = text_of(english(client_for(assessor)).get(PROFILE))
    assert "Your assessor profile" in html
    assert 'name="profile-agency"' in html
    assert 'name="profile-categories"' in html
    assert "重庆某社会工作服务中心" in html
    assert "2019-03-01" in html
    assert "配偶任理事" in html
    assert reverse("evaluation:employment_end", args=[employment.pk]) in html
    assert reverse("evaluation:relation_end", args=[relation.pk]) in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize(
    "persona", ["official", "auditor", "org_admin", "registry_admin", "outsider"]
)
def test_others_have_no_profile_page(client_for, request, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(PROFILE).status_code == 404
    assert client.post(PROFILE, {"profile-agency": "x"}).status_code == 404


def test_the_profile_needs_a_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_agency_and_categories_are_saved_and_audited(client_for, assessor, profile):
    elderly = ServiceCategory.objects.get(code="elderly_care")
    response = client_for(assessor).post(
        PROFILE, {"profile-agency": "渝中评估所", "profile-categories": [str(elderly.pk)]}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.agency == "渝中评估所"
    assert list(profile.categories.all()) == [elderly]
    assert len(events()) == 1


def test_no_category_is_refused_on_the_field_and_nothing_changes(client_for, assessor, profile):
    before = set(profile.categories.values_list("pk", flat=True))
    response = english(client_for(assessor)).post(PROFILE, {"profile-agency": "渝中评估所"})
    html = text_of(response)
    assert "Choose at least one service category." in html
    assert 'id="id_profile-categories_error"' in html
    profile.refresh_from_db()
    assert profile.agency == ""
    assert set(profile.categories.values_list("pk", flat=True)) == before
    assert events() == []


def test_an_employment_is_added(client_for, assessor, profile):
    response = client_for(assessor).post(
        reverse("evaluation:employment_add"),
        {
            "employment-employer_name": "解放碑街道办事处",
            "employment-is_purchasing_unit": "on",
            "employment-start_date": "2020-01-01",
            "employment-end_date": "2022-06-30",
        },
    )
    assert response.status_code == 302
    row = AssessorEmployment.objects.get(profile=profile)
    assert row.is_purchasing_unit
    assert (row.start_date, row.end_date) == (date(2020, 1, 1), date(2022, 6, 30))
    assert events()[-1].details["change"] == "employment_added"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"employment-employer_uscc": "12345"}, "employer_uscc", "18"),
        (
            {"employment-end_date": "2019-01-01"},
            "end_date",
            "The end date is before the start date.",
        ),
        ({"employment-start_date": ""}, "start_date", "This field is required."),
    ],
)
def test_a_bad_employment_is_refused_on_its_field(
    client_for, assessor, profile, data, field, message
):
    posted = {
        "employment-employer_name": "某机构",
        "employment-start_date": "2020-01-01",
        **data,
    }
    html = text_of(english(client_for(assessor)).post(reverse("evaluation:employment_add"), posted))
    assert message in html
    assert f'id="id_employment-{field}_error"' in html
    assert not AssessorEmployment.objects.exists()
    assert events() == []


def test_an_employment_is_ended(client_for, assessor, employment):
    response = client_for(assessor).post(
        reverse("evaluation:employment_end", args=[employment.pk]),
        {f"end-{employment.pk}-end_date": "2024-12-31"},
    )
    assert response.status_code == 302
    employment.refresh_from_db()
    assert employment.end_date == date(2024, 12, 31)


def test_an_end_before_the_start_is_refused(client_for, assessor, employment):
    response = english(client_for(assessor)).post(
        reverse("evaluation:employment_end", args=[employment.pk]),
        {f"end-{employment.pk}-end_date": "2018-01-01"},
    )
    assert "The end date is before the start date." in text_of(response)
    employment.refresh_from_db()
    assert employment.end_date is None


def test_another_assessors_employment_is_not_found(client_for, employment, pool):
    response = client_for(pool[0]).post(
        reverse("evaluation:employment_end", args=[employment.pk]),
        {f"end-{employment.pk}-end_date": "2024-12-31"},
    )
    assert response.status_code == 404
    employment.refresh_from_db()
    assert employment.end_date is None


def test_a_relation_is_declared_and_matched_to_the_registry(
    client_for, assessor, profile, organization
):
    response = client_for(assessor).post(
        reverse("evaluation:relation_add"),
        {"relation-organization_uscc": organization.uscc, "relation-relation": "曾任理事"},
    )
    assert response.status_code == 302
    row = AssessorRelation.objects.get(profile=profile)
    assert row.organization == organization
    assert row.organization_name == organization.name


def test_a_relation_without_what_it_is_is_refused(client_for, assessor, profile):
    response = english(client_for(assessor)).post(
        reverse("evaluation:relation_add"), {"relation-organization_name": "某机构"}
    )
    html = text_of(response)
    assert "Say what the relation is." in html
    assert 'id="id_relation-relation_error"' in html
    assert not AssessorRelation.objects.exists()


def test_a_relation_is_withdrawn(client_for, assessor, relation):
    response = client_for(assessor).post(reverse("evaluation:relation_end", args=[relation.pk]))
    assert response.status_code == 302
    assert not AssessorRelation.objects.exists()
    assert events()[-1].details["change"] == "relation_ended"


def test_another_assessors_relation_is_not_found(client_for, relation, pool):
    response = client_for(pool[0]).post(reverse("evaluation:relation_end", args=[relation.pk]))
    assert response.status_code == 404
    assert AssessorRelation.objects.filter(pk=relation.pk).exists()


def test_profile_changes_are_posts_with_the_csrf_token(assessor, relation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(assessor)
    assert client.get(reverse("evaluation:relation_end", args=[relation.pk])).status_code == 405
    assert client.post(reverse("evaluation:relation_end", args=[relation.pk])).status_code == 403
    assert AssessorRelation.objects.filter(pk=relation.pk).exists()


def test_the_profile_in_english_has_no_chinese_outside_the_data(
    client_for, assessor, employment, relation
):
    html = text_of(english(client_for(assessor)).get(PROFILE))
    assert chinese_outside_data(html) == []
