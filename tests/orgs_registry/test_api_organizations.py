"""API v1 organizations: the public register, registration, the registry's decisions and exit."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import exit as registry_exit
from orgs_registry import services
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import CreditList, Organization, ServiceCategory
from tests.conftest import PASSWORD

ORGS = "/api/v1/organizations/"
ERROR_KEYS = {"error", "detail", "fields"}


def token_client(user: User) -> Client:
    """A client that authenticates with the user's API token (no session)."""
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Token {response.json()['token']}"})


def post(client: Client, url: str, data: dict | None = None, **extra):
    return client.post(url, data or {}, content_type="application/json", **extra)


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def uscc(body: str, category: str = "2") -> str:
    return make_uscc(authority="5", category=category, region="500103", org_body=body)


def events(action: AuditAction, obj) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
        )
    )


@pytest.fixture
def roleless(db) -> User:
    """A signed-in account without a role: may self-register an organization."""
    # No service creates role-less accounts (they come from sign-up elsewhere).
    return User.objects.create_user("newcomer", "newcomer@example.cn", PASSWORD)


@pytest.fixture
def pending(roleless) -> Organization:
    return services.organization_register(
        user=roleless, name="待核实的社工站", uscc=uscc("40000011")
    )


# --- The public register --------------------------------------------------------------------


def test_anonymous_visitors_list_the_verified_organizations(client, organization, pending):
    response = client.get(ORGS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["uscc"] for row in body["results"]] == [organization.uscc]
    row = body["results"][0]
    for field in (
        "id",
        "name",
        "uscc",
        "kind",
        "status",
        "current_grade",
        "categories",
        "legal_representative",
        "address",
        "registration_date",
        "funding_type",
        "on_serious_list",
    ):
        assert field in row
    assert row["kind"] == "social_service_agency"
    assert row["status"] == "active"
    assert row["current_grade"] is None
    assert row["on_serious_list"] is False


def test_the_list_filters_by_text_kind_category_and_status(client, registry_admin):
    care = ServiceCategory.objects.get(code="elderly_care")
    services.organization_create(
        name="颐养之家",
        uscc=uscc("40000021"),
        actor=registry_admin,
        verified=True,
        categories=[care],
    )
    services.organization_create(
        name="青年志愿者协会",
        uscc=uscc("40000022", category="1"),
        actor=registry_admin,
        verified=True,
    )
    assert [r["name"] for r in client.get(ORGS, {"q": "颐养"}).json()["results"]] == ["颐养之家"]
    assert [r["name"] for r in client.get(ORGS, {"kind": "social_group"}).json()["results"]] == [
        "青年志愿者协会"
    ]
    by_category = client.get(ORGS, {"category": "elderly_care"}).json()["results"]
    assert [(r["name"], r["categories"]) for r in by_category] == [("颐养之家", ["elderly_care"])]
    assert client.get(ORGS, {"status": "pending"}).json()["count"] == 0


def test_a_bad_filter_value_is_a_400_naming_the_filter(client, db):
    response = client.get(ORGS, {"kind": "company"})
    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert "kind" in response.json()["fields"]


def test_the_registry_sees_pending_registrations_in_the_list(client_for, registry_admin, pending):
    body = client_for(registry_admin).get(ORGS, {"status": "pending"}).json()
    assert [row["id"] for row in body["results"]] == [pending.pk]


def test_the_list_costs_the_same_queries_for_3_or_30_organizations(client, registry_admin):
    care = ServiceCategory.objects.get(code="elderly_care")

    def add(first: int, count: int) -> None:
        for n in range(first, first + count):
            org = services.organization_create(
                name=f"组织{n:03d}",
                uscc=uscc(f"5{n:07d}"),
                actor=registry_admin,
                verified=True,
                categories=[care],
            )
            services.credit_entry_add(
                organization=org,
                actor=registry_admin,
                credit_list=CreditList.SERIOUS,
                reason="虚假材料",
                source="渝民〔2026〕1号",
                listed_on=date(2026, 1, 5),
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ORGS).status_code == 200
        return len(captured)

    add(0, 3)
    few = queries()
    add(3, 27)
    assert queries() == few
    assert client.get(ORGS).json()["results"][0]["on_serious_list"] is True


def test_a_verified_profile_is_public(client, organization):
    response = client.get(f"{ORGS}{organization.pk}/")
    assert response.status_code == 200
    assert response.json()["uscc"] == organization.uscc


def test_a_pending_registration_is_a_404_for_others_and_visible_to_its_admin(
    client, client_for, roleless, pending, other_org_admin
):
    url = f"{ORGS}{pending.pk}/"
    assert client.get(url).status_code == 404
    assert client_for(other_org_admin).get(url).status_code == 404
    assert client_for(roleless).get(url).json()["status"] == "pending"


def test_a_missing_organization_is_a_404_in_the_error_format(client, db):
    response = client.get(f"{ORGS}999999/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_phone_is_masked_for_the_public_and_whole_for_the_organization(
    client, client_for, organization, org_admin
):
    services.organization_profile_update(
        organization=organization, actor=org_admin, phone="13800001234"
    )
    url = f"{ORGS}{organization.pk}/"
    assert client.get(url).json()["phone"] == "138****1234"
    assert client_for(org_admin).get(url).json()["phone"] == "13800001234"


# --- Registration (CONTRACTS section 3) -------------------------------------------------------


def test_a_registry_admin_creates_a_verified_organization(registry_admin):
    client = token_client(registry_admin)
    response = post(client, ORGS, {"name": "解放碑社区服务中心", "uscc": uscc("40000031")})
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "name", "uscc", "kind", "status"} <= set(body)
    assert body["status"] == "active"
    assert body["kind"] == "social_service_agency"
    organization = Organization.objects.get(pk=body["id"])
    assert organization.verified_by == registry_admin
    assert len(events(AuditAction.ORG_CREATED, organization)) == 1


def test_a_signed_in_account_without_a_role_self_registers_and_becomes_its_admin(roleless):
    client = token_client(roleless)
    response = post(
        client,
        ORGS,
        {
            "name": "  新华社区社工站 ",
            "uscc": uscc("40000032").lower(),
            "legal_representative": "王五",
            "registration_date": "2023-03-01",
            "categories": ["elderly_care", "disability"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["name"] == "新华社区社工站"
    assert body["uscc"] == uscc("40000032")
    assert sorted(body["categories"]) == ["disability", "elderly_care"]
    roleless.refresh_from_db()
    assert roleless.role == Role.ORG_ADMIN
    assert roleless.organization_id == body["id"]
    organization = Organization.objects.get(pk=body["id"])
    assert len(events(AuditAction.ORG_REGISTERED, organization)) == 1
    # The new administrator now reads the registration through the API.
    assert client.get(f"{ORGS}{body['id']}/").json()["status"] == "pending"


@pytest.mark.parametrize("persona", ["org_admin", "official", "assessor", "auditor"])
def test_accounts_with_a_role_cannot_register_organizations(request, persona):
    user = request.getfixturevalue(persona)
    before = Organization.objects.count()
    response = post(token_client(user), ORGS, {"name": "某中心", "uscc": uscc("40000033")})
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert Organization.objects.count() == before


def test_anonymous_visitors_cannot_register_through_the_api(client, db):
    response = post(client, ORGS, {"name": "某中心", "uscc": uscc("40000033")})
    assert response.status_code == 401


def test_a_bad_code_is_a_400_naming_the_failed_rule_and_saves_nothing(registry_admin):
    good = uscc("40000034")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Organization.objects.count()
    response = post(token_client(registry_admin), ORGS, {"name": "某中心", "uscc": bad})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert list(body["fields"]) == ["uscc"]
    assert "check character (position 18)" in body["fields"]["uscc"][0]
    assert Organization.objects.count() == before


def test_a_code_already_registered_is_a_400(roleless, organization):
    response = post(token_client(roleless), ORGS, {"name": "重名", "uscc": organization.uscc})
    assert response.status_code == 400
    assert "uscc" in response.json()["fields"]
    roleless.refresh_from_db()
    assert roleless.role == ""


def test_a_missing_name_is_a_400_naming_the_field(registry_admin):
    response = post(token_client(registry_admin), ORGS, {"uscc": uscc("40000035")})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]


def test_an_unknown_category_is_a_400(registry_admin):
    response = post(
        token_client(registry_admin),
        ORGS,
        {"name": "某中心", "uscc": uscc("40000036"), "categories": ["space_travel"]},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["categories"]


def test_put_and_delete_on_an_organization_are_405(client_for, registry_admin, organization):
    client = client_for(registry_admin)
    assert (
        client.put(f"{ORGS}{organization.pk}/", {}, content_type="application/json").status_code
        == 405
    )
    assert client.delete(f"{ORGS}{organization.pk}/").status_code == 405


# --- Verification ------------------------------------------------------------------------------


def test_the_registry_verifies_a_registration(client_for, registry_admin, pending):
    response = post(client_for(registry_admin), f"{ORGS}{pending.pk}/verify/")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["verified_at"]
    assert len(events(AuditAction.ORG_VERIFIED, pending)) == 1


def test_verify_is_post_only(client_for, registry_admin, pending):
    assert client_for(registry_admin).get(f"{ORGS}{pending.pk}/verify/").status_code == 405


def test_the_applicant_cannot_verify_their_own_registration(client_for, roleless, pending):
    roleless.refresh_from_db()
    response = post(client_for(roleless), f"{ORGS}{pending.pk}/verify/")
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_verifying_someone_elses_registration_is_a_404_for_an_org_admin(
    client_for, other_org_admin, pending
):
    assert post(client_for(other_org_admin), f"{ORGS}{pending.pk}/verify/").status_code == 404


def test_verifying_an_active_organization_is_refused(client_for, registry_admin, organization):
    response = post(client_for(registry_admin), f"{ORGS}{organization.pk}/verify/")
    assert response.status_code == 403


def test_the_registry_rejects_with_a_reason_and_the_applicant_resubmits(
    client_for, registry_admin, roleless, pending
):
    registry = client_for(registry_admin)
    response = post(registry, f"{ORGS}{pending.pk}/reject/", {"reason": "章程缺页"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == "章程缺页"
    assert len(events(AuditAction.ORG_REJECTED, pending)) == 1

    roleless.refresh_from_db()
    applicant = token_client(roleless)
    response = post(applicant, f"{ORGS}{pending.pk}/resubmit/", {"legal_representative": "赵六"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["legal_representative"] == "赵六"
    assert len(events(AuditAction.ORG_RESUBMITTED, pending)) == 1


def test_a_rejection_without_a_reason_is_a_400_and_changes_nothing(
    client_for, registry_admin, pending
):
    response = post(client_for(registry_admin), f"{ORGS}{pending.pk}/reject/", {"reason": ""})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert events(AuditAction.ORG_REJECTED, pending) == []


def test_only_the_registry_rejects(client_for, official, organization):
    response = post(client_for(official), f"{ORGS}{organization.pk}/reject/", {"reason": "x"})
    assert response.status_code == 403


def test_a_resubmission_with_a_bad_code_names_the_rule(
    client_for, registry_admin, roleless, pending
):
    services.organization_reject(organization=pending, actor=registry_admin, reason="代码错误")
    roleless.refresh_from_db()
    response = post(client_for(roleless), f"{ORGS}{pending.pk}/resubmit/", {"uscc": "123"})
    assert response.status_code == 400
    assert "18 characters" in response.json()["fields"]["uscc"][0]
    pending.refresh_from_db()
    assert pending.status == "rejected"


# --- Contact profile ---------------------------------------------------------------------------


def test_the_org_admin_updates_the_contact_profile(client_for, org_admin, organization):
    response = patch(
        client_for(org_admin),
        f"{ORGS}{organization.pk}/",
        {"phone": "023-63891234", "description": "社区养老", "categories": ["elderly_care"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "023-63891234"
    assert body["categories"] == ["elderly_care"]
    [event] = events(AuditAction.ORG_PROFILE_UPDATED, organization)
    assert set(event.details["changed"]) == {"phone", "description", "categories"}


def test_registered_facts_are_not_changed_by_a_profile_update(client_for, org_admin, organization):
    response = patch(
        client_for(org_admin),
        f"{ORGS}{organization.pk}/",
        {"name": "新名字", "phone": "13800001234"},
    )
    # The name changes only by a change request: refused, and nothing else is saved either.
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]
    organization.refresh_from_db()
    assert (organization.name, organization.phone) == ("阳光社会工作服务中心", "")


def test_a_bad_phone_is_a_400_and_nothing_changes(client_for, org_admin, organization):
    response = patch(client_for(org_admin), f"{ORGS}{organization.pk}/", {"phone": "12345"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["phone"]
    organization.refresh_from_db()
    assert organization.phone == ""
    assert events(AuditAction.ORG_PROFILE_UPDATED, organization) == []


@pytest.mark.parametrize("persona", ["org_member", "other_org_admin", "official", "auditor"])
def test_only_the_org_admin_and_the_registry_edit_the_profile(
    request, client_for, organization, persona
):
    user = request.getfixturevalue(persona)
    response = patch(client_for(user), f"{ORGS}{organization.pk}/", {"description": "x"})
    assert response.status_code == 403


# --- Eligibility and grade ---------------------------------------------------------------------


def test_eligibility_lists_failures_and_warnings(client, registry_admin, organization):
    assert client.get(f"{ORGS}{organization.pk}/eligibility/").json() == {
        "eligible": True,
        "failures": [],
        "warnings": [],
    }
    services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.SERIOUS,
        reason="虚假材料",
        source="渝民〔2026〕1号",
        listed_on=date(2026, 1, 5),
    )
    body = client.get(f"{ORGS}{organization.pk}/eligibility/").json()
    assert body["eligible"] is False
    assert [f["code"] for f in body["failures"]] == ["serious_dishonesty"]
    assert body["failures"][0]["message"]


def test_eligibility_of_a_pending_registration_is_a_404_for_the_public(client, pending):
    assert client.get(f"{ORGS}{pending.pk}/eligibility/").status_code == 404


def test_an_ungraded_organization_has_a_null_grade(client, organization):
    response = client.get(f"{ORGS}{organization.pk}/grade/")
    assert response.status_code == 200
    assert response.json() is None


# --- Exit (注销退出) ------------------------------------------------------------------------------


@pytest.fixture
def no_commitments(monkeypatch):
    """An isolated list of commitment sources (the tenders app registers its own)."""
    sources: list = []
    monkeypatch.setattr(registry_exit, "_sources", sources)
    return sources


def test_the_org_admin_requests_deregistration_and_the_registry_completes_it(
    client_for, org_admin, registry_admin, organization, no_commitments
):
    url = f"{ORGS}{organization.pk}/deregistration/"
    response = post(token_client(org_admin), url, {"reason": "理事会决议解散"})
    assert response.status_code == 200, response.content
    assert response.json()["is_deregistering"] is True
    assert response.json()["deregistration_initiator"] == "organization"
    assert len(events(AuditAction.ORG_DEREGISTRATION_STARTED, organization)) == 1

    response = post(client_for(registry_admin), f"{url}complete/")
    assert response.status_code == 200
    assert response.json()["status"] == "deregistered"
    assert len(events(AuditAction.ORG_DEREGISTERED, organization)) == 1


def test_completion_is_refused_while_commitments_are_open(
    client_for, registry_admin, organization, no_commitments
):
    no_commitments.append(
        lambda org: [registry_exit.Commitment(kind="bid", label="投标：社区养老项目")]
    )
    services.organization_deregistration_start(
        organization=organization, actor=registry_admin, reason="长期未开展活动"
    )
    response = post(client_for(registry_admin), f"{ORGS}{organization.pk}/deregistration/complete/")
    assert response.status_code == 400
    assert "投标：社区养老项目" in response.json()["detail"]
    organization.refresh_from_db()
    assert organization.status == "active"
    assert events(AuditAction.ORG_DEREGISTERED, organization) == []


def test_the_org_admin_withdraws_the_request(client_for, org_admin, organization):
    services.organization_deregistration_start(
        organization=organization, actor=org_admin, reason="拟解散"
    )
    response = post(client_for(org_admin), f"{ORGS}{organization.pk}/deregistration/withdraw/")
    assert response.status_code == 200
    assert response.json()["is_deregistering"] is False
    assert len(events(AuditAction.ORG_DEREGISTRATION_WITHDRAWN, organization)) == 1


def test_deregistration_without_a_reason_is_a_400(client_for, org_admin, organization):
    response = post(client_for(org_admin), f"{ORGS}{organization.pk}/deregistration/", {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    organization.refresh_from_db()
    assert not organization.is_deregistering


def test_deregistration_is_post_only(client_for, org_admin, organization):
    assert client_for(org_admin).get(f"{ORGS}{organization.pk}/deregistration/").status_code == 405


def test_a_member_cannot_start_deregistration(client_for, org_member, organization):
    response = post(
        client_for(org_member), f"{ORGS}{organization.pk}/deregistration/", {"reason": "x"}
    )
    assert response.status_code == 403


def test_another_organizations_exit_is_a_404(client_for, other_org_admin, organization):
    url = f"{ORGS}{organization.pk}/deregistration/"
    assert post(client_for(other_org_admin), url, {"reason": "x"}).status_code == 404
    organization.refresh_from_db()
    assert not organization.is_deregistering


def test_only_the_registry_completes_deregistration(client_for, org_admin, organization):
    services.organization_deregistration_start(
        organization=organization, actor=org_admin, reason="拟解散"
    )
    response = post(client_for(org_admin), f"{ORGS}{organization.pk}/deregistration/complete/")
    assert response.status_code == 403
