"""API v1 change requests: an organization asks, the registry approves or rejects."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import services
from orgs_registry.models import ChangeRequest, Organization
from tests.conftest import PASSWORD, make_organization, make_user

CHANGE_REQUESTS = "/api/v1/change-requests/"


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Token {response.json()['token']}"})


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def org_url(organization: Organization) -> str:
    return f"/api/v1/organizations/{organization.pk}/change-requests/"


def events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def change_request(organization, org_admin) -> ChangeRequest:
    return services.change_request_create(
        organization=organization,
        actor=org_admin,
        changes={"legal_representative": "陈七"},
        reason="理事会换届",
    )


# --- Asking -----------------------------------------------------------------------------------


def test_the_org_admin_asks_for_a_change(org_admin, organization):
    response = post(
        token_client(org_admin),
        org_url(organization),
        {
            "changes": {"address": "渝中区民族路 1 号", "registration_date": "2019-04-01"},
            "reason": "搬迁",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["organization"] == organization.pk
    assert body["changes"] == {"address": "渝中区民族路 1 号", "registration_date": "2019-04-01"}
    assert body["previous"] == {"address": "", "registration_date": None}
    [event] = events(AuditAction.ORG_CHANGE_REQUESTED)
    assert event.object_id == str(body["id"])
    organization.refresh_from_db()
    assert organization.address == ""  # nothing applied before the registry decides


def test_an_unknown_fact_is_a_400_naming_it_and_saves_nothing(client_for, org_admin, organization):
    response = post(
        client_for(org_admin), org_url(organization), {"changes": {"uscc": "X"}, "reason": "改码"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["uscc"]
    assert ChangeRequest.objects.count() == 0


def test_an_invalid_value_is_a_400_naming_the_fact(client_for, org_admin, organization):
    response = post(
        client_for(org_admin),
        org_url(organization),
        {"changes": {"funding_type": "lottery"}, "reason": "x"},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["funding_type"]
    assert ChangeRequest.objects.count() == 0


def test_a_missing_reason_is_a_400(client_for, org_admin, organization):
    response = post(client_for(org_admin), org_url(organization), {"changes": {"address": "新址"}})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert ChangeRequest.objects.count() == 0


def test_changes_must_be_an_object(client_for, org_admin, organization):
    response = post(
        client_for(org_admin), org_url(organization), {"changes": "name", "reason": "x"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["changes"]


def test_a_member_cannot_ask(client_for, org_member, organization):
    response = post(
        client_for(org_member), org_url(organization), {"changes": {"address": "x"}, "reason": "x"}
    )
    assert response.status_code == 403


def test_another_organizations_requests_are_a_404(
    client_for, other_org_admin, organization, change_request
):
    client = client_for(other_org_admin)
    assert client.get(org_url(organization)).status_code == 404
    response = post(client, org_url(organization), {"changes": {"address": "x"}, "reason": "x"})
    assert response.status_code == 404
    assert client.get(f"{CHANGE_REQUESTS}{change_request.pk}/").status_code == 404
    assert client.get(CHANGE_REQUESTS).json()["results"] == []
    assert ChangeRequest.objects.count() == 1


def test_the_organization_lists_its_requests(client_for, org_member, organization, change_request):
    body = client_for(org_member).get(org_url(organization)).json()
    assert [row["id"] for row in body["results"]] == [change_request.pk]


def test_delete_is_405(client_for, registry_admin, change_request):
    client = client_for(registry_admin)
    assert client.delete(f"{CHANGE_REQUESTS}{change_request.pk}/").status_code == 405
    assert client.put(org_url(change_request.organization), {}).status_code == 405


# --- Deciding -----------------------------------------------------------------------------------


def test_the_registry_approves_and_the_change_applies(
    client_for, registry_admin, organization, change_request
):
    response = post(
        client_for(registry_admin), f"{CHANGE_REQUESTS}{change_request.pk}/approve/", {}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == str(registry_admin)
    organization.refresh_from_db()
    assert organization.legal_representative == "陈七"
    assert len(events(AuditAction.ORG_CHANGE_APPROVED)) == 1


def test_the_registry_rejects_with_a_note(client_for, registry_admin, organization, change_request):
    url = f"{CHANGE_REQUESTS}{change_request.pk}/reject/"
    response = post(client_for(registry_admin), url, {"note": "材料不全"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "材料不全")
    organization.refresh_from_db()
    assert organization.legal_representative == ""
    assert len(events(AuditAction.ORG_CHANGE_REJECTED)) == 1


def test_a_rejection_without_a_note_is_a_400(client_for, registry_admin, change_request):
    url = f"{CHANGE_REQUESTS}{change_request.pk}/reject/"
    response = post(client_for(registry_admin), url, {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["note"]
    change_request.refresh_from_db()
    assert change_request.status == "pending"


def test_a_decided_request_cannot_be_decided_again(client_for, registry_admin, change_request):
    client = client_for(registry_admin)
    post(client, f"{CHANGE_REQUESTS}{change_request.pk}/approve/")
    response = post(client, f"{CHANGE_REQUESTS}{change_request.pk}/reject/", {"note": "x"})
    assert response.status_code == 400
    assert len(events(AuditAction.ORG_CHANGE_REJECTED)) == 0


def test_the_org_admin_cannot_approve_its_own_request(client_for, org_admin, change_request):
    response = post(client_for(org_admin), f"{CHANGE_REQUESTS}{change_request.pk}/approve/")
    assert response.status_code == 403
    change_request.refresh_from_db()
    assert change_request.status == "pending"


def test_approve_is_post_only(client_for, registry_admin, change_request):
    assert (
        client_for(registry_admin).get(f"{CHANGE_REQUESTS}{change_request.pk}/approve/").status_code
        == 405
    )


def test_the_registry_filters_requests_by_status(client_for, registry_admin, change_request):
    client = client_for(registry_admin)
    assert client.get(CHANGE_REQUESTS, {"status": "pending"}).json()["count"] == 1
    assert client.get(CHANGE_REQUESTS, {"status": "approved"}).json()["count"] == 0


def test_the_list_costs_the_same_queries_for_2_or_20_requests(client_for, registry_admin):
    client = client_for(registry_admin)

    def add(first: int, count: int) -> None:
        for n in range(first, first + count):
            org = make_organization(f"组织{n}", f"6{n:07d}")
            admin = make_user(f"admin{n}", Role.ORG_ADMIN, org)
            services.change_request_create(
                organization=org, actor=admin, changes={"address": f"{n} 号"}, reason="搬迁"
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGE_REQUESTS).status_code == 200
        return len(captured)

    add(0, 2)
    few = queries()
    add(2, 18)
    assert queries() == few
