"""Registry pages: the queue, verification, change requests, credit; dashboards and navigation."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import services
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import (
    ChangeRequest,
    CreditEntry,
    CreditList,
    CreditMeasure,
    Organization,
)
from tests.conftest import PASSWORD, make_organization, make_user


def events(action: AuditAction, obj) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).count()


@pytest.fixture
def pending(db) -> Organization:
    return make_organization("待核实组织", "40000091", verified=False)


# --- The queue and verification ----------------------------------------------------------------


def test_the_registry_sees_the_registrations_waiting(client_for, registry_admin, pending):
    response = client_for(registry_admin).get(reverse("orgs_registry:registry_home"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [pending]
    assert pending.uscc in response.content.decode()


@pytest.mark.parametrize("persona", ["org_admin", "official", "assessor", "auditor"])
def test_only_the_registry_opens_the_registry_pages(request, client_for, persona, db):
    client = client_for(request.getfixturevalue(persona))
    for name in ["registry_home", "change_requests", "organization_new"]:
        assert client.get(reverse(f"orgs_registry:{name}")).status_code == 403, name


def test_the_registry_pages_need_a_sign_in(client, db):
    response = client.get(reverse("orgs_registry:registry_home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_registry_verifies_a_registration(client_for, registry_admin, pending):
    url = reverse("orgs_registry:organization_verify", args=[pending.pk])
    client = client_for(registry_admin)
    assert client.get(url).status_code == 405

    response = client.post(url)
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "active"
    assert pending.verified_by == registry_admin
    assert events(AuditAction.ORG_VERIFIED, pending) == 1


def test_nobody_else_verifies(client_for, official, pending):
    member = make_user("pending_admin", Role.ORG_ADMIN, pending)
    url = reverse("orgs_registry:organization_verify", args=[pending.pk])
    assert client_for(official).post(url).status_code == 404
    assert client_for(member).post(url).status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_rejection_needs_a_reason(client_for, registry_admin, pending):
    url = reverse("orgs_registry:organization_reject", args=[pending.pk])
    client = client_for(registry_admin)
    assert client.get(url).status_code == 200

    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 200
    assert "reason" in empty.context["form"].errors
    pending.refresh_from_db()
    assert pending.status == "pending"

    response = client.post(url, {"reason": "登记证书与统一社会信用代码不符"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.rejection_reason) == (
        "rejected",
        "登记证书与统一社会信用代码不符",
    )
    assert events(AuditAction.ORG_REJECTED, pending) == 1


def test_an_active_organization_cannot_be_rejected(client_for, registry_admin, organization):
    url = reverse("orgs_registry:organization_reject", args=[organization.pk])
    assert client_for(registry_admin).post(url, {"reason": "x"}).status_code == 403


def test_the_registry_records_a_verified_organization(client_for, registry_admin):
    uscc = make_uscc(authority="5", category="3", region="500103", org_body="40000092")
    response = client_for(registry_admin).post(
        reverse("orgs_registry:organization_new"),
        {"name": "渝中区慈善基金会", "uscc": uscc, "funding_type": "independent"},
    )
    organization = Organization.objects.get(uscc=uscc)
    assert response.status_code == 302
    assert (organization.status, organization.kind) == ("active", "foundation")
    assert events(AuditAction.ORG_CREATED, organization) == 1


def test_a_bad_code_is_refused_on_the_code_field(client_for, registry_admin, db):
    organizations = Organization.objects.count()
    response = client_for(registry_admin).post(
        reverse("orgs_registry:organization_new"),
        {"name": "某组织", "uscc": "53100000500019795B", "funding_type": "independent"},
    )
    assert response.status_code == 200
    assert "uscc" in response.context["form"].errors
    assert Organization.objects.count() == organizations


# --- Change requests ---------------------------------------------------------------------------


@pytest.fixture
def change_request(org_admin, organization) -> ChangeRequest:
    return services.change_request_create(
        organization=organization,
        actor=org_admin,
        changes={"legal_representative": "李强", "funding_type": "public_institution_2"},
        reason="换届",
    )


def test_the_registry_lists_the_waiting_change_requests(client_for, registry_admin, change_request):
    response = client_for(registry_admin).get(reverse("orgs_registry:change_requests"))
    assert list(response.context["page"].object_list) == [change_request]
    decided = client_for(registry_admin).get(
        reverse("orgs_registry:change_requests"), {"status": "approved"}
    )
    assert list(decided.context["page"].object_list) == []


def test_a_change_request_shows_the_values_before_and_requested(
    client_for, registry_admin, change_request
):
    url = reverse("orgs_registry:change_request_detail", args=[change_request.pk])
    response = client_for(registry_admin).get(url)
    assert response.status_code == 200
    assert response.context["can_decide"]
    with translation.override("en"):
        rows = {
            str(row["label"]): (str(row["previous"]), str(row["requested"]))
            for row in response.context["rows"]
        }
    assert rows == {
        "Legal representative": ("", "李强"),
        "Funding type": ("Not fiscally funded", "Public institution, class 2"),
    }
    assert "李强" in response.content.decode()


def test_the_organization_reads_its_request_without_deciding(
    client_for, org_member, other_org_admin, change_request
):
    url = reverse("orgs_registry:change_request_detail", args=[change_request.pk])
    response = client_for(org_member).get(url)
    assert response.status_code == 200
    assert not response.context["can_decide"]
    assert client_for(other_org_admin).get(url).status_code == 404


def test_the_registry_approves_a_change_and_it_applies(
    client_for, registry_admin, change_request, organization
):
    url = reverse("orgs_registry:change_request_decide", args=[change_request.pk])
    client = client_for(registry_admin)
    assert client.get(url).status_code == 405

    response = client.post(url, {"decision": "approve", "note": ""})
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.legal_representative == "李强"
    assert events(AuditAction.ORG_CHANGE_APPROVED, change_request) == 1

    again = client.post(url, {"decision": "approve", "note": ""})
    assert again.status_code == 200
    assert again.context["form"].non_field_errors()
    assert events(AuditAction.ORG_CHANGE_APPROVED, change_request) == 1


def test_a_rejection_needs_a_note(client_for, registry_admin, change_request, organization):
    url = reverse("orgs_registry:change_request_decide", args=[change_request.pk])
    client = client_for(registry_admin)
    response = client.post(url, {"decision": "reject", "note": ""})
    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    change_request.refresh_from_db()
    assert change_request.status == "pending"

    assert client.post(url, {"decision": "reject", "note": "材料不全"}).status_code == 302
    change_request.refresh_from_db()
    assert change_request.status == "rejected"
    organization.refresh_from_db()
    assert organization.legal_representative == ""
    assert events(AuditAction.ORG_CHANGE_REJECTED, change_request) == 1


def test_the_organization_cannot_decide_its_own_request(client_for, org_admin, change_request):
    url = reverse("orgs_registry:change_request_decide", args=[change_request.pk])
    assert client_for(org_admin).post(url, {"decision": "approve"}).status_code == 403
    change_request.refresh_from_db()
    assert change_request.status == "pending"


# --- Credit ------------------------------------------------------------------------------------


def credit_url(name: str, organization: Organization) -> str:
    return reverse(f"orgs_registry:{name}", args=[organization.pk])


def test_the_registry_opens_the_credit_page_and_nobody_else(
    client_for, registry_admin, org_admin, auditor, organization
):
    assert (
        client_for(registry_admin).get(credit_url("credit_manage", organization)).status_code == 200
    )
    assert client_for(org_admin).get(credit_url("credit_manage", organization)).status_code == 403
    assert client_for(auditor).get(credit_url("credit_manage", organization)).status_code == 403


def test_the_registry_lists_an_organization_and_removes_it(
    client_for, registry_admin, organization
):
    client = client_for(registry_admin)
    response = client.post(
        credit_url("credit_entry_add", organization),
        {
            "entry-credit_list": "abnormal",
            "entry-reason": "未按规定报送年度工作报告",
            "entry-source": "渝中民社〔2026〕1号",
            "entry-listed_on": "2026-01-10",
        },
    )
    assert response.status_code == 302
    entry = CreditEntry.objects.get(organization=organization)
    organization.refresh_from_db()
    assert organization.status == "abnormal"
    assert events(AuditAction.CREDIT_ENTRY_ADDED, entry) == 1

    remove_url = reverse("orgs_registry:credit_entry_remove", args=[entry.pk])
    prefix = f"remove-{entry.pk}"
    empty = client.post(remove_url, {f"{prefix}-reason": ""})
    assert empty.status_code == 200
    entry.refresh_from_db()
    assert entry.is_active

    early = client.post(
        remove_url, {f"{prefix}-reason": "已补报", f"{prefix}-removed_on": "2025-01-01"}
    )
    assert early.status_code == 200
    forms = {e.pk: form for e, form in early.context["entries"]}
    assert "removed_on" in forms[entry.pk].errors

    assert client.post(remove_url, {f"{prefix}-reason": "已补报"}).status_code == 302
    entry.refresh_from_db()
    organization.refresh_from_db()
    assert entry.removed_on == timezone.localdate()
    assert organization.status == "active"
    assert events(AuditAction.CREDIT_ENTRY_REMOVED, entry) == 1


def test_a_credit_entry_without_a_reason_is_refused(client_for, registry_admin, organization):
    response = client_for(registry_admin).post(
        credit_url("credit_entry_add", organization),
        {"entry-credit_list": "serious", "entry-reason": "", "entry-listed_on": "2026-01-10"},
    )
    assert response.status_code == 200
    assert {"reason", "source"} <= set(response.context["entry_form"].errors)
    assert not CreditEntry.objects.exists()


def test_the_registry_records_rewards_and_penalties(client_for, registry_admin, organization):
    client = client_for(registry_admin)
    data = {
        "measure-kind": "reward",
        "measure-title": "优秀社会组织",
        "measure-authority": "渝中区民政局",
        "measure-decided_on": "2026-02-01",
        "measure-downgrade_grade": "on",
    }
    refused = client.post(credit_url("credit_measure_add", organization), data)
    assert refused.status_code == 200
    assert "downgrade_grade" in refused.context["measure_form"].errors
    assert not CreditMeasure.objects.exists()

    del data["measure-downgrade_grade"]
    assert client.post(credit_url("credit_measure_add", organization), data).status_code == 302
    measure = CreditMeasure.objects.get()
    assert events(AuditAction.CREDIT_MEASURE_ADDED, measure) == 1
    html = client.get(reverse("orgs_registry:profile", args=[organization.pk])).content.decode()
    assert "优秀社会组织" in html


@pytest.mark.parametrize("name", ["credit_entry_add", "credit_measure_add"])
def test_credit_writes_refuse_get_and_outsiders(
    client_for, registry_admin, org_admin, organization, name
):
    assert client_for(registry_admin).get(credit_url(name, organization)).status_code == 405
    client = client_for(org_admin)
    before = AuditEvent.objects.count()
    assert client.post(credit_url(name, organization), {}).status_code == 403
    assert AuditEvent.objects.count() == before


def test_removing_an_entry_refuses_get_and_the_organization(
    client_for, registry_admin, org_admin, organization
):
    entry = services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.SERIOUS,
        reason="弄虚作假",
        source="渝民〔2026〕2号",
        listed_on=date(2026, 1, 1),
    )
    url = reverse("orgs_registry:credit_entry_remove", args=[entry.pk])
    assert client_for(registry_admin).get(url).status_code == 405
    assert client_for(org_admin).post(url, {f"remove-{entry.pk}-reason": "x"}).status_code == 403
    entry.refresh_from_db()
    assert entry.is_active


# --- Dashboards and navigation -----------------------------------------------------------------


def card_values(response) -> dict[str, object]:
    with translation.override("en"):
        return {str(card.title): card.value for card in response.context["cards"]}


def test_the_registry_dashboard_counts_what_waits(
    client_for, registry_admin, pending, org_admin, organization
):
    services.change_request_create(
        organization=organization, actor=org_admin, changes={"address": "新地址"}, reason="搬迁"
    )
    cards = card_values(client_for(registry_admin).get(reverse("dashboard")))
    assert cards["Registrations waiting for verification"] == 1
    assert cards["Change requests waiting"] == 1
    assert cards["Grade assessments waiting for the registry"] == 0
    assert cards["Active credit list entries"] == 0


def test_the_organization_dashboard_shows_staff_grade_requests_and_eligibility(
    client_for, org_admin, organization
):
    services.staff_add(
        organization=organization,
        actor=org_admin,
        data=services.StaffInput(
            name="王小红", id_number="11010519491231002X", role="社工", start_date=date(2024, 1, 1)
        ),
    )
    cards = card_values(client_for(org_admin).get(reverse("dashboard")))
    assert cards["Staff on the roster"] == 1
    assert cards["Change requests waiting for the registry"] == 0
    with translation.override("en"):
        assert str(cards["May bid"]) == "Yes"
        assert str(cards["Current grade"]) == "None"


def test_the_assessor_dashboard_counts_assessments_to_score(client_for, assessor):
    cards = card_values(client_for(assessor).get(reverse("dashboard")))
    assert cards["Grade assessments waiting for your scores"] == 0


def test_a_person_without_a_role_is_invited_to_register(client_for, db):
    roleless = User.objects.create_user("newcomer", "newcomer@example.cn", PASSWORD)
    response = client_for(roleless).get(reverse("dashboard"))
    assert response.status_code == 200
    assert reverse("orgs_registry:register") in response.content.decode()


def nav_urls(response) -> set[str]:
    return {item.url for item in response.context["nav_items"]}


def test_the_navigation_follows_the_role(client, client_for, org_member, registry_admin, assessor):
    everyone = nav_urls(client.get("/"))
    assert {reverse("orgs_registry:directory"), reverse("orgs_registry:credit_lists")} <= everyone
    assert reverse("orgs_registry:registry_home") not in everyone

    assert reverse("orgs_registry:mine") in nav_urls(client_for(org_member).get("/"))
    assert reverse("orgs_registry:registry_home") in nav_urls(client_for(registry_admin).get("/"))
    assert reverse("orgs_registry:grade_list") in nav_urls(client_for(assessor).get("/"))
    assert reverse("orgs_registry:registry_home") not in nav_urls(client_for(org_member).get("/"))


def test_the_registry_home_keeps_its_query_count(
    client_for, registry_admin, django_assert_max_num_queries
):
    make_organization("待核实", "44009999", verified=False)
    client = client_for(registry_admin)
    url = reverse("orgs_registry:registry_home")
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    for i in range(10):
        make_organization(f"待核实{i}", f"4400{i:04d}", verified=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_registry_lists_every_registration_including_rejected(client_for, registry_admin):
    from orgs_registry import services as registry_services

    pending = make_organization("待核实的组织", "66000001", verified=False)
    rejected = make_organization("被退回的组织", "66000002", verified=False)
    registry_services.organization_reject(
        organization=rejected, actor=registry_admin, reason="材料不全"
    )
    client = client_for(registry_admin)
    response = client.get(reverse("orgs_registry:registry_organizations"), {"status": "rejected"})
    assert response.status_code == 200
    names = [o.name for o in response.context["page"].object_list]
    assert names == ["被退回的组织"]
    everything = client.get(reverse("orgs_registry:registry_organizations"))
    listed = {o.pk for o in everything.context["page"].object_list}
    assert {pending.pk, rejected.pk} <= listed
    public = client.get(reverse("orgs_registry:directory"))
    assert not {pending.pk, rejected.pk} & {o.pk for o in public.context["page"].object_list}


@pytest.mark.parametrize("persona", ["official", "org_admin", "auditor", "assessor"])
def test_only_the_registry_sees_the_list_of_all_registrations(request, client_for, persona):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("orgs_registry:registry_organizations"))
    assert response.status_code == 403
