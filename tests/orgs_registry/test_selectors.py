"""Reads are scoped: the role × object matrix of the registry's selectors and predicates."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from marketplace.models import Role
from orgs_registry import permissions, selectors, services
from orgs_registry.identifiers import make_id_number, make_uscc
from orgs_registry.services import StaffInput
from tests.conftest import make_organization, make_user

PERSONAS = [
    "org_admin",
    "org_member",
    "other_org_admin",
    "official",
    "approver",
    "assessor",
    "registry_admin",
    "auditor",
    "outsider",
]

# persona -> (sees the roster, sees full ID numbers, manages the roster)
ROSTER_MATRIX = {
    "org_admin": (True, True, True),
    "org_member": (True, False, False),
    "other_org_admin": (False, False, False),
    "official": (False, False, False),
    "approver": (False, False, False),
    "assessor": (False, False, False),
    "registry_admin": (True, False, False),
    "auditor": (True, True, False),
    "outsider": (False, False, False),
}


@pytest.fixture
def roster(org_admin, organization):
    data = StaffInput(
        name="陈晨",
        id_number=make_id_number(region="500103", born=date(1990, 2, 3), sequence=7, male=False),
        role="社工",
        start_date=date(2024, 9, 1),
    )
    return services.staff_add(organization=organization, actor=org_admin, data=data)


def test_the_matrix_covers_every_persona():
    assert set(ROSTER_MATRIX) == set(PERSONAS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_roster_visibility_and_id_numbers(request, persona, roster, organization):
    user = request.getfixturevalue(persona)
    sees, unmasked, manages = ROSTER_MATRIX[persona]
    if sees:
        assert list(selectors.staff_list_for_user(user, organization)) == [roster]
        person = selectors.staff_get_for_user(user, organization, roster.person_id)
        assert person == roster.person
    else:
        with pytest.raises(Http404):
            selectors.staff_list_for_user(user, organization)
        with pytest.raises(Http404):
            selectors.staff_get_for_user(user, organization, roster.person_id)
        with pytest.raises(Http404):
            selectors.employment_get_for_user(user, organization, roster.pk)
    assert permissions.can_view_id_number(user, organization) is unmasked
    assert permissions.can_manage_roster(user, organization) is manages


def test_a_person_is_only_reachable_through_an_organization_that_employs_them(
    org_admin, other_org_admin, organization, other_organization, roster
):
    # The other organization's own roster does not contain this person.
    with pytest.raises(Http404):
        selectors.staff_get_for_user(other_org_admin, other_organization, roster.person_id)


def test_masking_of_a_person(roster):
    person = roster.person
    assert person.id_number_masked == person.id_number[:4] + "*" * 10 + person.id_number[-4:]


@pytest.mark.parametrize("persona", PERSONAS)
def test_pending_registrations_are_hidden_from_everyone_but_their_own_and_the_registry(
    request, persona, db
):
    pending = make_organization("待核实机构", "90000001", verified=False)
    user = request.getfixturevalue(persona)
    visible = persona in {"registry_admin", "auditor"}
    assert (pending in selectors.organization_list_for_user(user)) is visible
    assert pending not in selectors.organization_public_list()
    if not visible:
        with pytest.raises(Http404):
            selectors.organization_get_for_user(user, pending.pk)
    assert selectors.organization_get_for_user(user, make_organization("公开", "90000002").pk)


def test_anonymous_visitors_see_public_organizations_only(organization):
    pending = make_organization("待核实机构", "90000003", verified=False)
    anonymous = AnonymousUser()
    assert selectors.organization_get_for_user(anonymous, organization.pk) == organization
    with pytest.raises(Http404):
        selectors.organization_get_for_user(anonymous, pending.pk)
    with pytest.raises(Http404):
        selectors.organization_get_for_user(anonymous, "not-a-number")


def test_managed_pages_are_404_for_other_organizations(other_org_admin, official, organization):
    for user in (other_org_admin, official):
        with pytest.raises(Http404):
            selectors.organization_get_managed(user, organization.pk)


def test_change_requests_are_scoped(org_admin, other_org_admin, registry_admin, organization):
    request = services.change_request_create(
        organization=organization, actor=org_admin, changes={"address": "邹容路2号"}, reason="搬迁"
    )
    assert list(selectors.change_request_list_for_user(org_admin)) == [request]
    assert list(selectors.change_request_list_for_user(registry_admin)) == [request]
    assert list(selectors.change_request_list_for_user(other_org_admin)) == []
    with pytest.raises(Http404):
        selectors.change_request_get_for_user(other_org_admin, request.pk)


def test_grade_assessments_are_scoped(registry_admin, assessor, other_org_admin, official):
    org = services.organization_create(
        name="评估对象",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="90000005"),
        actor=registry_admin,
        verified=True,
        registration_date=date(2015, 1, 1),
    )
    admin = make_user("graded", Role.ORG_ADMIN, org)
    assessment = services.grade_request(organization=org, actor=admin)
    services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)

    assert list(selectors.grade_assessment_list_for_user(admin)) == [assessment]
    assert list(selectors.grade_assessment_list_for_user(assessor)) == [assessment]
    assert list(selectors.grade_assessment_list_for_user(registry_admin)) == [assessment]
    for user in (other_org_admin, official):
        assert list(selectors.grade_assessment_list_for_user(user)) == []
        with pytest.raises(Http404):
            selectors.grade_assessment_get_for_user(user, assessment.pk)


def test_the_public_list_carries_grade_and_serious_list_in_one_query(
    organization, django_assert_num_queries
):
    for i in range(5):
        make_organization(f"机构{i}", f"9100000{i}")
    with django_assert_num_queries(2):  # organizations + prefetched categories
        rows = [
            (o.name, o.current_grade, o.on_serious_list, list(o.categories.all()))
            for o in selectors.organization_public_list()
        ]
    assert len(rows) == 6
