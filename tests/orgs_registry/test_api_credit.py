"""API v1 credit: the public credit lists, rewards and penalties, kept by the registry."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.models import AuditAction, AuditEvent, User
from orgs_registry import services
from orgs_registry.models import CreditEntry, CreditList, CreditMeasure, Organization
from tests.conftest import PASSWORD, make_organization

CREDIT = "/api/v1/credit-records/"


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Token {response.json()['token']}"})


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def measures_url(organization: Organization) -> str:
    return f"/api/v1/organizations/{organization.pk}/credit-measures/"


def events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def listing(organization: Organization, **extra) -> dict:
    return {
        "organization": organization.pk,
        "credit_list": "abnormal",
        "reason": "未按规定参加年检",
        "source": "渝中民〔2026〕12号",
        "listed_on": "2026-03-01",
        **extra,
    }


@pytest.fixture
def entry(organization, registry_admin) -> CreditEntry:
    return services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="未按规定参加年检",
        source="渝中民〔2026〕12号",
        listed_on=date(2026, 3, 1),
    )


# --- Credit lists ------------------------------------------------------------------------------


def test_the_registry_lists_an_organization(registry_admin, organization):
    response = post(token_client(registry_admin), CREDIT, listing(organization))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["organization"], body["credit_list"], body["is_active"]) == (
        organization.pk,
        "abnormal",
        True,
    )
    organization.refresh_from_db()
    assert organization.status == "abnormal"
    [event] = events(AuditAction.CREDIT_ENTRY_ADDED)
    assert event.object_id == str(body["id"])


def test_the_lists_are_public_and_filterable(client, entry, organization, registry_admin):
    services.credit_entry_add(
        organization=make_organization("另一组织", "40000055"),
        actor=registry_admin,
        credit_list=CreditList.SERIOUS,
        reason="提供虚假材料",
        source="渝民〔2026〕3号",
        listed_on=date(2026, 2, 1),
    )
    assert client.get(CREDIT).json()["count"] == 2
    rows = client.get(CREDIT, {"credit_list": "abnormal"}).json()["results"]
    assert [(r["id"], r["organization_name"]) for r in rows] == [(entry.pk, organization.name)]
    assert client.get(CREDIT, {"organization": organization.pk}).json()["count"] == 1
    assert client.get(f"{CREDIT}{entry.pk}/").json()["reason"] == "未按规定参加年检"


def test_a_missing_entry_is_a_404(client, db):
    assert client.get(f"{CREDIT}424242/").status_code == 404


@pytest.mark.parametrize("persona", ["official", "org_admin", "auditor"])
def test_only_the_registry_lists_organizations(request, client_for, organization, persona):
    user = request.getfixturevalue(persona)
    response = post(client_for(user), CREDIT, listing(organization))
    assert response.status_code == 403
    assert CreditEntry.objects.count() == 0


def test_anonymous_visitors_cannot_list(client, organization):
    assert post(client, CREDIT, listing(organization)).status_code == 401


def test_an_unknown_list_is_a_400_and_saves_nothing(client_for, registry_admin, organization):
    response = post(client_for(registry_admin), CREDIT, listing(organization, credit_list="grey"))
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["credit_list"]
    assert CreditEntry.objects.count() == 0
    assert events(AuditAction.CREDIT_ENTRY_ADDED) == []


def test_missing_facts_are_named(client_for, registry_admin):
    response = post(client_for(registry_admin), CREDIT, {"credit_list": "serious"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"organization", "reason", "source", "listed_on"}


def test_credit_entries_are_not_edited_or_deleted(client_for, registry_admin, entry):
    client = client_for(registry_admin)
    assert client.delete(f"{CREDIT}{entry.pk}/").status_code == 405
    assert (
        client.patch(f"{CREDIT}{entry.pk}/", {}, content_type="application/json").status_code == 405
    )


def test_the_registry_removes_an_entry_and_the_status_clears(
    client_for, registry_admin, entry, organization
):
    response = post(
        client_for(registry_admin),
        f"{CREDIT}{entry.pk}/remove/",
        {"reason": "已补报年检材料", "removed_on": "2026-06-01"},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["removed_on"], response.json()["is_active"]) == ("2026-06-01", False)
    organization.refresh_from_db()
    assert organization.status == "active"
    assert len(events(AuditAction.CREDIT_ENTRY_REMOVED)) == 1


def test_a_removal_before_the_listing_is_a_400(client_for, registry_admin, entry):
    response = post(
        client_for(registry_admin),
        f"{CREDIT}{entry.pk}/remove/",
        {"reason": "x", "removed_on": "2025-01-01"},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["removed_on"]
    entry.refresh_from_db()
    assert entry.removed_on is None


def test_removal_is_for_the_registry_by_post(client_for, org_admin, registry_admin, entry):
    url = f"{CREDIT}{entry.pk}/remove/"
    assert post(client_for(org_admin), url, {"reason": "x"}).status_code == 403
    assert client_for(registry_admin).get(url).status_code == 405
    assert (
        post(client_for(registry_admin), f"{CREDIT}999999/remove/", {"reason": "x"}).status_code
        == 404
    )
    assert events(AuditAction.CREDIT_ENTRY_REMOVED) == []


def test_the_list_costs_the_same_queries_for_2_or_20_entries(client, registry_admin):
    def add(first: int, count: int) -> None:
        for n in range(first, first + count):
            services.credit_entry_add(
                organization=make_organization(f"组织{n}", f"7{n:07d}"),
                actor=registry_admin,
                credit_list=CreditList.SERIOUS,
                reason="虚假材料",
                source="渝民〔2026〕1号",
                listed_on=date(2026, 1, 5),
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CREDIT).status_code == 200
        return len(captured)

    add(0, 2)
    few = queries()
    add(2, 18)
    assert queries() == few


# --- Rewards and penalties ---------------------------------------------------------------------


def test_the_registry_records_a_reward_that_is_public(
    client, client_for, registry_admin, organization
):
    response = post(
        client_for(registry_admin),
        measures_url(organization),
        {
            "kind": "reward",
            "title": "先进社会组织",
            "authority": "渝中区民政局",
            "decided_on": "2026-01-10",
            "document_number": "渝中民〔2026〕5号",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "reward"
    assert len(events(AuditAction.CREDIT_MEASURE_ADDED)) == 1
    listed = client.get(measures_url(organization)).json()["results"]
    assert [row["title"] for row in listed] == ["先进社会组织"]


def test_a_reward_cannot_lower_the_grade(client_for, registry_admin, organization):
    response = post(
        client_for(registry_admin),
        measures_url(organization),
        {
            "kind": "reward",
            "title": "x",
            "authority": "y",
            "decided_on": "2026-01-10",
            "downgrade_grade": True,
        },
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["downgrade_grade"]
    assert CreditMeasure.objects.count() == 0


def test_an_unknown_kind_is_a_400(client_for, registry_admin, organization):
    response = post(
        client_for(registry_admin),
        measures_url(organization),
        {"kind": "medal", "title": "x", "authority": "y", "decided_on": "2026-01-10"},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["kind"]


def test_only_the_registry_records_measures(client_for, org_admin, official, organization):
    data = {"kind": "penalty", "title": "警告", "authority": "民政局", "decided_on": "2026-01-10"}
    for user in (org_admin, official):
        assert post(client_for(user), measures_url(organization), data).status_code == 403
    assert CreditMeasure.objects.count() == 0


def test_measures_of_a_pending_registration_are_a_404(client, registry_admin):
    pending = make_organization("待核实", "40000066", verified=False)
    assert client.get(measures_url(pending)).status_code == 404


def test_measures_are_not_deleted(client_for, registry_admin, organization):
    assert client_for(registry_admin).delete(measures_url(organization)).status_code == 405
