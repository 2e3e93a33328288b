"""Assessor profiles: agency, categories, employment history and declared relations, kept by
the assessor or the street office, matched to the registry by credit code, audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from evaluation.models import AssessorEmployment, AssessorRelation
from evaluation.services import (
    assessor_employment_add,
    assessor_employment_end,
    assessor_profile_update,
    assessor_relation_add,
    assessor_relation_end,
)
from evaluation.services.panels import EMPLOYED_BY_BIDDER, _bidders, conflict_of
from marketplace.models import AuditAction, AuditEvent
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import ServiceCategory


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


def profile_events():
    return list(
        AuditEvent.objects.filter(action=AuditAction.ASSESSOR_PROFILE_UPDATED).order_by("sequence")
    )


@pytest.fixture
def profile(assessor):
    return assessor.assessor_profile


# --- Agency and categories -------------------------------------------------------------------


def test_an_assessor_updates_their_agency_and_categories(assessor, profile):
    elderly = ServiceCategory.objects.get(code="elderly_care")
    youth = ServiceCategory.objects.get(code="child_youth")

    result = assessor_profile_update(
        profile=profile, actor=assessor, agency=" 重庆社会评估所 ", categories=[elderly, youth]
    )

    assert result.agency == "重庆社会评估所"
    assert set(result.categories.values_list("code", flat=True)) == {"elderly_care", "child_youth"}
    (event,) = profile_events()
    assert event.actor == assessor
    assert event.details["change"] == "profile"
    assert event.details["changed"]["agency"] == {"before": "", "after": "重庆社会评估所"}
    assert event.details["changed"]["categories"]["after"] == ["child_youth", "elderly_care"]


def test_an_unchanged_profile_writes_no_event(assessor, profile):
    assessor_profile_update(profile=profile, actor=assessor, agency="")
    assert profile_events() == []


def test_an_assessor_keeps_at_least_one_category(assessor, profile):
    with pytest.raises(ValidationError) as caught:
        assessor_profile_update(profile=profile, actor=assessor, categories=[])
    assert caught.value.message_dict["categories"]


def test_the_street_office_may_update_an_assessors_profile(official, profile):
    assessor_profile_update(profile=profile, actor=official, agency="区评估中心")
    assert profile_events()[0].actor == official


@pytest.mark.parametrize("persona", ["org_admin", "auditor", "registry_admin", "outsider"])
def test_others_may_not_touch_a_profile(profile, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        assessor_profile_update(profile=profile, actor=user, agency="冒名")
    with pytest.raises(PermissionDenied):
        assessor_employment_add(
            profile=profile, actor=user, employer_name="某机构", start_date=date(2020, 1, 1)
        )
    with pytest.raises(PermissionDenied):
        assessor_relation_add(
            profile=profile, actor=user, organization_name="某机构", relation="亲属"
        )
    assert profile_events() == []


def test_another_assessor_may_not_touch_a_profile(profile):
    from marketplace.models import Role
    from tests.conftest import make_user

    other = make_user("other_assessor", Role.ASSESSOR)
    with pytest.raises(PermissionDenied):
        assessor_profile_update(profile=profile, actor=other, agency="冒名")


# --- Employment ----------------------------------------------------------------------------------


def test_an_employer_is_matched_to_the_registry_by_its_normalized_credit_code(
    assessor, profile, organization
):
    typed = " " + organization.uscc.lower() + " "
    employment = assessor_employment_add(
        profile=profile,
        actor=assessor,
        employer_name="",
        employer_uscc=typed,
        start_date=date(2021, 3, 1),
        position="督导",
    )
    assert employment.employer_uscc == organization.uscc
    assert employment.organization == organization
    assert employment.employer_name == organization.name
    (event,) = profile_events()
    assert event.details["change"] == "employment_added"
    assert event.details["employment"]["organization"] == organization.pk


def test_an_employer_outside_the_registry_keeps_its_code(assessor, profile):
    code = make_uscc(authority="9", category="1", region="500103", org_body="MA000001")
    employment = assessor_employment_add(
        profile=profile,
        actor=assessor,
        employer_name="某咨询有限公司",
        employer_uscc=code,
        start_date=date(2019, 1, 1),
        end_date=date(2020, 12, 31),
    )
    assert employment.employer_uscc == code
    assert employment.organization is None


def test_a_bad_credit_code_is_refused_with_the_rule_it_breaks(assessor, profile):
    with pytest.raises(ValidationError) as caught:
        assessor_employment_add(
            profile=profile,
            actor=assessor,
            employer_name="某机构",
            employer_uscc="12345",
            start_date=date(2020, 1, 1),
        )
    assert "18 characters" in caught.value.message_dict["employer_uscc"][0]
    assert not AssessorEmployment.objects.exists()


def test_a_code_that_contradicts_the_organization_is_refused(
    assessor, profile, organization, other_organization
):
    with pytest.raises(ValidationError) as caught:
        assessor_employment_add(
            profile=profile,
            actor=assessor,
            employer_name="",
            employer_uscc=other_organization.uscc,
            organization=organization,
            start_date=date(2020, 1, 1),
        )
    assert "does not match" in caught.value.message_dict["employer_uscc"][0]


def test_an_employment_ending_before_it_starts_is_refused(assessor, profile):
    with pytest.raises(ValidationError) as caught:
        assessor_employment_add(
            profile=profile,
            actor=assessor,
            employer_name="某机构",
            start_date=date(2022, 1, 1),
            end_date=date(2021, 1, 1),
        )
    assert caught.value.message_dict["end_date"]


def test_an_employment_is_ended_and_audited(assessor, profile, official):
    employment = assessor_employment_add(
        profile=profile, actor=assessor, employer_name="区民政局", start_date=date(2016, 1, 1)
    )
    ended = assessor_employment_end(
        employment=employment, actor=official, end_date=date(2024, 6, 30)
    )
    assert ended.end_date == date(2024, 6, 30)
    event = profile_events()[-1]
    assert event.details["change"] == "employment_ended"
    assert event.actor == official
    with pytest.raises(ValidationError):
        assessor_employment_end(employment=employment, actor=official, end_date=date(2015, 1, 1))


# --- Relations ----------------------------------------------------------------------------------


def test_a_relation_is_declared_matched_and_withdrawn(assessor, profile, organization):
    relation = assessor_relation_add(
        profile=profile,
        actor=assessor,
        organization_name="",
        organization=organization,
        relation="配偶任理事",
    )
    assert relation.organization_uscc == organization.uscc
    assert relation.organization_name == organization.name
    assessor_relation_end(relation=relation, actor=assessor)
    assert not AssessorRelation.objects.exists()
    changes = [e.details["change"] for e in profile_events()]
    assert changes == ["relation_added", "relation_ended"]
    assert profile_events()[-1].details["relation"]["relation"] == "配偶任理事"


def test_a_relation_must_say_what_it_is(assessor, profile, organization):
    with pytest.raises(ValidationError) as caught:
        assessor_relation_add(
            profile=profile,
            actor=assessor,
            organization_name="某",
            organization=organization,
            relation=" ",
        )
    assert caught.value.message_dict["relation"]


# --- Matching in the draw ----------------------------------------------------------------------


def test_an_employment_known_only_by_its_credit_code_is_a_conflict(opened, official, assessor):
    """An employment recorded before the employer was in the registry (no link, only the
    code) still matches the bidder by its credit code."""
    bidder = opened.bidders[0].organization
    employment = assessor_employment_add(
        profile=assessor.assessor_profile,
        actor=official,
        employer_name="旧名称",
        employer_uscc=bidder.uscc,
        start_date=timezone.localdate() - timedelta(days=800),
    )
    AssessorEmployment.objects.filter(pk=employment.pk).update(organization=None)
    profile = (
        type(assessor.assessor_profile)
        .objects.prefetch_related("employments", "relations")
        .select_related("user")
        .get(pk=assessor.assessor_profile.pk)
    )

    conflict = conflict_of(
        profile, bidders=_bidders(opened.tender), today=timezone.localdate(), panel_agencies=set()
    )

    assert conflict is not None
    assert conflict.reason == EMPLOYED_BY_BIDDER
    assert bidder.name in conflict.detail


def test_only_the_assessor_or_the_office_ends_an_employment_or_a_relation(
    assessor, profile, organization, org_admin
):
    employment = assessor_employment_add(
        profile=profile, actor=assessor, employer_name="区民政局", start_date=date(2016, 1, 1)
    )
    relation = assessor_relation_add(
        profile=profile,
        actor=assessor,
        organization_name="",
        organization=organization,
        relation="亲属",
    )
    with pytest.raises(PermissionDenied):
        assessor_employment_end(employment=employment, actor=org_admin, end_date=date(2024, 1, 1))
    with pytest.raises(PermissionDenied):
        assessor_relation_end(relation=relation, actor=org_admin)
    employment.refresh_from_db()
    assert employment.end_date is None
    assert AssessorRelation.objects.filter(pk=relation.pk).exists()
