"""The organization's own pages: overview, contact details, resubmission, change requests, exit."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry import exit as exit_module
from orgs_registry import services
from orgs_registry.exit import Commitment
from orgs_registry.models import ChangeRequest, Organization, ServiceCategory
from tests.conftest import make_organization, make_user

READERS = ["org_admin", "org_member", "registry_admin", "auditor"]
STRANGERS = ["other_org_admin", "official", "approver", "assessor", "outsider"]


def events(action: AuditAction, obj) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).count()


def url(name: str, organization: Organization) -> str:
    return reverse(f"orgs_registry:{name}", args=[organization.pk])


# --- Who may open the pages --------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS)
def test_the_organization_its_registry_and_auditors_read_the_overview(
    request, client_for, organization, persona
):
    response = client_for(request.getfixturevalue(persona)).get(url("manage", organization))
    assert response.status_code == 200
    assert organization.uscc in response.content.decode()


@pytest.mark.parametrize("persona", STRANGERS)
def test_anyone_else_gets_404_on_the_overview(request, client_for, organization, persona):
    response = client_for(request.getfixturevalue(persona)).get(url("manage", organization))
    assert response.status_code == 404


def test_the_overview_needs_a_sign_in(client, organization):
    response = client.get(url("manage", organization))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_my_organization_leads_to_the_members_own_overview(client_for, org_member, organization):
    response = client_for(org_member).get(reverse("orgs_registry:mine"))
    assert response.status_code == 302
    assert response.url == url("manage", organization)


def test_my_organization_is_404_without_one(client_for, registry_admin):
    assert client_for(registry_admin).get(reverse("orgs_registry:mine")).status_code == 404


def test_the_overview_explains_a_pending_registration_and_its_eligibility(client_for, db):
    pending = make_organization("新登记组织", "40000081", verified=False)
    admin = make_user("pending_admin", Role.ORG_ADMIN, pending)
    html = client_for(admin).get(url("manage", pending)).content.decode()
    assert "登记尚未核实" in html or "The registration has not been verified." in html


def test_the_overview_shows_the_rejection_and_a_way_to_resubmit(client_for, registry_admin, db):
    pending = make_organization("被驳回组织", "40000082", verified=False)
    admin = make_user("rejected_admin", Role.ORG_ADMIN, pending)
    services.organization_reject(
        organization=pending, actor=registry_admin, reason="证书照片不清晰"
    )
    html = client_for(admin).get(url("manage", pending)).content.decode()
    assert "证书照片不清晰" in html
    assert url("resubmit", pending) in html


# --- Contact details ---------------------------------------------------------------------------


def test_the_admin_edits_contact_details_and_categories(client_for, org_admin, organization):
    category = ServiceCategory.objects.get(code="elderly_care")
    response = client_for(org_admin).post(
        url("profile_edit", organization),
        {
            "phone": "023-63881234",
            "email": "office@example.cn",
            "description": "居家养老",
            "categories": [category.pk],
        },
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.email == "office@example.cn"
    assert list(organization.categories.all()) == [category]
    assert events(AuditAction.ORG_PROFILE_UPDATED, organization) == 1


def test_a_bad_phone_is_shown_on_the_phone_field_and_nothing_changes(
    client_for, org_admin, organization
):
    response = client_for(org_admin).post(
        url("profile_edit", organization), {"phone": "12345", "email": "new@example.cn"}
    )
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    organization.refresh_from_db()
    assert organization.email == ""
    assert events(AuditAction.ORG_PROFILE_UPDATED, organization) == 0


def test_a_member_may_read_but_not_edit_the_contact_details(client_for, org_member, organization):
    client = client_for(org_member)
    assert client.get(url("profile_edit", organization)).status_code == 403
    response = client.post(url("profile_edit", organization), {"email": "x@example.cn"})
    assert response.status_code == 403
    organization.refresh_from_db()
    assert organization.email == ""


# --- Resubmission ------------------------------------------------------------------------------


@pytest.fixture
def rejected(registry_admin):
    organization = make_organization("被驳回组织", "40000083", verified=False)
    admin = make_user("rejected_admin", Role.ORG_ADMIN, organization)
    services.organization_reject(organization=organization, actor=registry_admin, reason="名称有误")
    return organization, admin


def test_a_rejected_registration_is_corrected_and_resubmitted(client_for, rejected):
    organization, admin = rejected
    client = client_for(admin)
    form = client.get(url("resubmit", organization)).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data.update(name="更正后的名称", funding_type="independent", categories=[])

    response = client.post(url("resubmit", organization), data)

    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.name == "更正后的名称"
    assert organization.status == "pending"
    assert events(AuditAction.ORG_RESUBMITTED, organization) == 1


def test_a_bad_resubmission_keeps_the_rejection(client_for, rejected):
    organization, admin = rejected
    response = client_for(admin).post(
        url("resubmit", organization),
        {"name": "更正后的名称", "uscc": "12345", "funding_type": "independent"},
    )
    assert response.status_code == 200
    assert "uscc" in response.context["form"].errors
    organization.refresh_from_db()
    assert organization.status == "rejected"
    assert organization.name == "被驳回组织"


def test_an_active_organization_has_nothing_to_resubmit(client_for, org_admin, organization):
    assert client_for(org_admin).get(url("resubmit", organization)).status_code == 403


# --- Change requests ---------------------------------------------------------------------------


def change_data(organization: Organization, **overrides) -> dict[str, str]:
    data = {
        "name": organization.name,
        "legal_representative": organization.legal_representative,
        "address": organization.address,
        "registration_date": "",
        "registration_authority": organization.registration_authority,
        "funding_type": organization.funding_type,
        "reason": "换届选举后法定代表人变更",
    }
    data.update(overrides)
    return data


def test_the_admin_asks_the_registry_to_change_registered_facts(
    client_for, org_admin, organization
):
    response = client_for(org_admin).post(
        url("change_request_new", organization),
        change_data(organization, legal_representative="李强"),
    )
    assert response.status_code == 302
    change_request = ChangeRequest.objects.get(organization=organization)
    assert change_request.changes == {"legal_representative": "李强"}
    assert events(AuditAction.ORG_CHANGE_REQUESTED, change_request) == 1
    organization.refresh_from_db()
    assert organization.legal_representative == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_representative": "李强", "reason": ""}, "reason"),
        ({"registration_date": "2999-01-01"}, "registration_date"),
        ({}, None),  # nothing differs from the register
    ],
)
def test_a_bad_change_request_is_explained_and_not_saved(
    client_for, org_admin, organization, overrides, field
):
    response = client_for(org_admin).post(
        url("change_request_new", organization), change_data(organization, **overrides)
    )
    assert response.status_code == 200
    form = response.context["form"]
    if field:
        assert field in form.errors
    else:
        assert form.non_field_errors()
    assert not ChangeRequest.objects.exists()


def test_a_member_cannot_request_a_change(client_for, org_member, organization):
    client = client_for(org_member)
    assert client.get(url("change_request_new", organization)).status_code == 403
    data = change_data(organization, legal_representative="李强")
    assert client.post(url("change_request_new", organization), data).status_code == 403
    assert not ChangeRequest.objects.exists()


def test_the_overview_lists_the_organizations_change_requests(
    client_for, org_member, org_admin, organization
):
    services.change_request_create(
        organization=organization,
        actor=org_admin,
        changes={"address": "重庆市渝中区新华路2号"},
        reason="搬迁",
    )
    response = client_for(org_member).get(url("manage", organization))
    assert [c.reason for c in response.context["change_requests"]] == ["搬迁"]


# --- Deregistration ----------------------------------------------------------------------------


def test_the_admin_requests_deregistration_and_withdraws_it(client_for, org_admin, organization):
    client = client_for(org_admin)
    response = client.post(
        url("deregistration_start", organization), {"deregistration-reason": "理事会决议解散"}
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.is_deregistering
    assert organization.deregistration_initiator == "organization"
    assert events(AuditAction.ORG_DEREGISTRATION_STARTED, organization) == 1

    assert client.post(url("deregistration_withdraw", organization)).status_code == 302
    organization.refresh_from_db()
    assert not organization.is_deregistering
    assert events(AuditAction.ORG_DEREGISTRATION_WITHDRAWN, organization) == 1


def test_deregistration_needs_a_reason(client_for, org_admin, organization):
    response = client_for(org_admin).post(
        url("deregistration_start", organization), {"deregistration-reason": ""}
    )
    assert response.status_code == 200
    assert "reason" in response.context["deregistration_form"].errors
    organization.refresh_from_db()
    assert not organization.is_deregistering


def test_a_member_cannot_start_deregistration(client_for, org_member, organization):
    response = client_for(org_member).post(
        url("deregistration_start", organization), {"deregistration-reason": "解散"}
    )
    assert response.status_code == 403
    organization.refresh_from_db()
    assert not organization.is_deregistering


def test_only_the_registry_withdraws_what_it_ordered(
    client_for, registry_admin, org_admin, organization
):
    response = client_for(registry_admin).post(
        url("deregistration_start", organization), {"deregistration-reason": "连续两年未年检"}
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.deregistration_initiator == "registry"

    assert (
        client_for(org_admin).post(url("deregistration_withdraw", organization)).status_code == 403
    )
    organization.refresh_from_db()
    assert organization.is_deregistering


def test_completion_waits_for_open_commitments_and_lists_them(
    client_for, registry_admin, org_admin, organization, monkeypatch
):
    services.organization_deregistration_start(
        organization=organization, actor=org_admin, reason="解散"
    )
    monkeypatch.setattr(
        exit_module,
        "_sources",
        [lambda org: [Commitment(kind="contract", label="合同 HT-2026-001 履约中")]],
    )
    client = client_for(registry_admin)

    overview = client.get(url("manage", organization)).content.decode()
    assert "合同 HT-2026-001 履约中" in overview

    response = client.post(url("deregistration_complete", organization))
    assert response.status_code == 200
    assert "合同 HT-2026-001 履约中" in " ".join(response.context["complete_errors"])
    organization.refresh_from_db()
    assert organization.status == "active"

    monkeypatch.setattr(exit_module, "_sources", [])
    assert client.post(url("deregistration_complete", organization)).status_code == 302
    organization.refresh_from_db()
    assert organization.status == "deregistered"
    assert events(AuditAction.ORG_DEREGISTERED, organization) == 1


def test_the_organization_cannot_complete_its_own_deregistration(
    client_for, org_admin, organization
):
    services.organization_deregistration_start(
        organization=organization, actor=org_admin, reason="解散"
    )
    assert (
        client_for(org_admin).post(url("deregistration_complete", organization)).status_code == 403
    )
    organization.refresh_from_db()
    assert organization.status == "active"


# --- Methods and strangers ---------------------------------------------------------------------

POST_ONLY = [
    "deregistration_start",
    "deregistration_withdraw",
    "deregistration_complete",
    "grade_request",
]


@pytest.mark.parametrize("name", POST_ONLY)
def test_state_changing_endpoints_refuse_get(client_for, org_admin, organization, name):
    assert client_for(org_admin).get(url(name, organization)).status_code == 405


ORGANIZATION_PAGES = [
    "manage",
    "profile_edit",
    "resubmit",
    "change_request_new",
    "roster",
    "staff_add",
    "roster_import",
    "roster_template",
    "organization_grades",
]
ORGANIZATION_WRITES = [
    ("profile_edit", {"email": "x@example.cn"}),
    ("change_request_new", {"name": "改名", "reason": "x", "funding_type": "independent"}),
    ("deregistration_start", {"deregistration-reason": "x"}),
    ("deregistration_withdraw", {}),
    ("deregistration_complete", {}),
    ("staff_add", {"name": "张三", "id_number": "11010519491231002X", "role": "社工"}),
    ("grade_request", {}),
]


@pytest.mark.parametrize("name", ORGANIZATION_PAGES)
def test_another_organizations_admin_gets_404_on_every_page(
    client_for, other_org_admin, organization, name
):
    assert client_for(other_org_admin).get(url(name, organization)).status_code == 404


@pytest.mark.parametrize(("name", "data"), ORGANIZATION_WRITES)
def test_another_organizations_admin_can_never_write(
    client_for, other_org_admin, organization, name, data
):
    client = client_for(other_org_admin)
    before = AuditEvent.objects.count()
    response = client.post(url(name, organization), data)
    assert response.status_code == 404
    assert AuditEvent.objects.count() == before


def test_the_deregistration_form_expires_with_a_readable_403(org_admin, organization):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org_admin)
    response = client.post(
        url("deregistration_start", organization), {"deregistration-reason": "x"}
    )
    assert response.status_code == 403
    organization.refresh_from_db()
    assert not organization.is_deregistering


def test_the_overview_keeps_its_query_count(
    client_for, org_admin, organization, django_assert_max_num_queries
):
    client = client_for(org_admin)
    with django_assert_max_num_queries(25) as few:
        client.get(url("manage", organization))
    for i in range(5):
        services.change_request_create(
            organization=organization,
            actor=org_admin,
            changes={"address": f"地址{i}"},
            reason=f"原因{i}",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("manage", organization))


def test_an_ordered_deregistration_blocks_bidding_on_the_overview(
    client_for, registry_admin, org_admin, organization
):
    services.organization_deregistration_start(
        organization=organization, actor=registry_admin, reason="违规"
    )
    response = client_for(org_admin).get(url("manage", organization))
    assert not response.context["eligibility"].eligible
    assert response.context["organization"].deregistration_requested_at <= timezone.now()
