"""Public registry pages: the directory, profiles, the credit lists and registration."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import services
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import CreditList, CreditMeasureKind, Organization, ServiceCategory
from tests.conftest import PASSWORD, make_organization, make_user

STRONG_PASSWORD = "Jiefangbei-2026-demo"


def uscc(body: str, category: str = "2") -> str:
    return make_uscc(authority="5", category=category, region="500103", org_body=body)


@pytest.fixture
def roleless(db) -> User:
    return User.objects.create_user("newcomer", "newcomer@example.cn", PASSWORD)


# --- Directory ---------------------------------------------------------------------------------


def test_the_directory_is_public_and_lists_only_verified_organizations(client, organization):
    organization.categories.set(ServiceCategory.objects.filter(code="elderly_care"))
    make_organization("待核实组织", "40000051", verified=False)

    response = client.get(reverse("orgs_registry:directory"))

    assert response.status_code == 200
    html = response.content.decode()
    assert organization.name in html
    assert "待核实组织" not in html
    assert "社会服务机构" in html or "Social service agency" in html
    assert ServiceCategory.objects.get(code="elderly_care").name in html
    assert reverse("orgs_registry:profile", args=[organization.pk]) in html


def test_the_directory_filters_by_kind_and_text(client, organization):
    make_organization("渝中区志愿者协会", "40000052", category="1")
    url = reverse("orgs_registry:directory")

    groups = client.get(url, {"kind": "social_group"}).context["page"].object_list
    assert [o.name for o in groups] == ["渝中区志愿者协会"]

    found = client.get(url, {"q": "阳光"}).context["page"].object_list
    assert [o.pk for o in found] == [organization.pk]

    by_code = client.get(url, {"q": organization.uscc.lower()}).context["page"].object_list
    assert [o.pk for o in by_code] == [organization.pk]


def test_the_directory_reports_a_bad_filter_on_its_field(client, organization):
    response = client.get(reverse("orgs_registry:directory"), {"min_grade": "9Z"})
    assert response.status_code == 200
    assert "min_grade" in response.context["filter"].form.errors
    assert list(response.context["page"].object_list) == []
    assert 'href="#id_min_grade"' in response.content.decode()


def test_htmx_gets_only_the_directory_results(client, organization):
    response = client.get(reverse("orgs_registry:directory"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<table" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_the_directory_costs_the_same_queries_for_more_organizations(
    client, organization, django_assert_max_num_queries
):
    url = reverse("orgs_registry:directory")
    categories = list(ServiceCategory.objects.all()[:3])
    organization.categories.set(categories)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    for i in range(25):
        other = make_organization(f"组织{i:02d}", f"4200{i:04d}")
        other.categories.set(categories)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 26


def test_the_directory_pages_by_thirty(client, db):
    for i in range(31):
        make_organization(f"组织{i:02d}", f"4300{i:04d}")
    url = reverse("orgs_registry:directory")
    assert len(client.get(url).context["page"].object_list) == 30
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 1


def test_the_directory_refuses_post(client, db):
    assert client.post(reverse("orgs_registry:directory")).status_code == 405


# --- Profile -----------------------------------------------------------------------------------


@pytest.fixture
def listed_organization(registry_admin) -> Organization:
    """A verified organization with a phone, a removed credit entry and a penalty."""
    organization = services.organization_create(
        name="解放碑社区服务中心",
        uscc=uscc("40000061"),
        actor=registry_admin,
        verified=True,
        legal_representative="王芳",
        address="重庆市渝中区民族路1号",
        registration_date=date(2018, 5, 4),
        registration_authority="渝中区民政局",
        phone="13812345678",
        email="contact@example.cn",
        description="为社区老人提供居家养老服务。",
    )
    entry = services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="未按时参加年检",
        source="渝中民社〔2025〕3号",
        listed_on=date(2025, 3, 1),
    )
    services.credit_entry_remove(
        entry=entry, actor=registry_admin, reason="已补报年检", removed_on=date(2025, 6, 1)
    )
    services.credit_measure_add(
        organization=organization,
        actor=registry_admin,
        kind=CreditMeasureKind.PENALTY,
        title="警告",
        authority="渝中区民政局",
        decided_on=date(2025, 7, 1),
        document_number="渝中民罚〔2025〕1号",
    )
    return organization


def test_the_profile_shows_facts_credit_and_honest_empty_sections(client, listed_organization):
    response = client.get(reverse("orgs_registry:profile", args=[listed_organization.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "解放碑社区服务中心",
        listed_organization.uscc,
        "王芳",
        "重庆市渝中区民族路1号",
        "2018-05-04",
        "渝中区民政局",
        "contact@example.cn",
        "为社区老人提供居家养老服务。",
        "未按时参加年检",
        "渝中民社〔2025〕3号",
        "已补报年检",
        "警告",
        "渝中民罚〔2025〕1号",
    ]:
        assert text in html, text
    assert "13812345678" not in html
    assert listed_organization.masked_phone in html
    assert "尚无中标合同记录" in html or "No contracts are recorded yet." in html
    assert "尚无绩效评价结果记录" in html or "No performance results are recorded yet." in html


def test_a_pending_registration_has_no_public_profile(client, client_for, outsider, db):
    pending = make_organization("待核实组织", "40000062", verified=False)
    member = make_user("pending_admin", Role.ORG_ADMIN, pending)
    url = reverse("orgs_registry:profile", args=[pending.pk])

    assert client.get(url).status_code == 404
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(member).get(url).status_code == 200


def test_a_missing_profile_is_404(client, db):
    assert client.get(reverse("orgs_registry:profile", args=[99999])).status_code == 404


# --- Credit lists ------------------------------------------------------------------------------


def test_the_credit_lists_show_who_is_listed_now(client, listed_organization, registry_admin):
    other = make_organization("失信组织", "40000063")
    services.credit_entry_add(
        organization=other,
        actor=registry_admin,
        credit_list=CreditList.SERIOUS,
        reason="弄虚作假骗取政府购买服务资金",
        source="渝民〔2025〕9号",
        listed_on=timezone.localdate(),
    )
    url = reverse("orgs_registry:credit_lists")

    response = client.get(url)
    assert response.status_code == 200
    assert [e.organization.name for e in response.context["page"].object_list] == ["失信组织"]
    assert "弄虚作假骗取政府购买服务资金" in response.content.decode()

    removed = client.get(url, {"active": "false"}).context["page"].object_list
    assert [e.reason for e in removed] == ["未按时参加年检"]

    serious = client.get(url, {"credit_list": "abnormal"}).context["page"].object_list
    assert list(serious) == []


# --- Registration ------------------------------------------------------------------------------


def registration_data(**overrides) -> dict[str, str]:
    data = {
        "username": "sunli",
        "full_name": "孙丽",
        "account_email": "sunli@example.cn",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "name": "渝中区心语心理咨询服务中心",
        "uscc": uscc("40000071"),
        "legal_representative": "孙丽",
        "address": "重庆市渝中区中山一路8号",
        "phone": "13987654321",
        "email": "xinyu@example.cn",
        "registration_date": "2021-03-15",
        "registration_authority": "渝中区民政局",
        "funding_type": "independent",
        "categories": [str(ServiceCategory.objects.get(code="mental_health").pk)],
        "description": "心理咨询",
    }
    data.update(overrides)
    return data


def test_a_visitor_registers_an_organization_and_an_account_and_is_signed_in(client, db):
    response = client.post(reverse("orgs_registry:register"), registration_data())

    organization = Organization.objects.get(name="渝中区心语心理咨询服务中心")
    user = User.objects.get(username="sunli")
    assert response.status_code == 302
    assert response.url == reverse("orgs_registry:manage", args=[organization.pk])
    assert organization.status == "pending"
    assert [c.code for c in organization.categories.all()] == ["mental_health"]
    assert user.role == Role.ORG_ADMIN
    assert user.organization == organization
    assert user.email == "sunli@example.cn"
    assert AuditEvent.objects.filter(
        action=AuditAction.ORG_REGISTERED, object_id=str(organization.pk)
    ).exists()
    assert AuditEvent.objects.filter(action=AuditAction.USER_CREATED, object_id=str(user.pk))

    page = client.get(response.url)
    assert page.status_code == 200
    assert page.wsgi_request.user == user
    assert any(
        "waiting for verification" in str(m) or "等待" in str(m) for m in page.context["messages"]
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "53100000500019795B"}, "uscc"),
        ({"password2": "something-else-2026"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"phone": "12345"}, "phone"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_registration_shows_the_error_on_its_field_and_saves_nothing(
    client, db, overrides, field
):
    organizations, users = Organization.objects.count(), User.objects.count()

    response = client.post(reverse("orgs_registry:register"), registration_data(**overrides))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Organization.objects.count() == organizations
    assert User.objects.count() == users
    assert not response.wsgi_request.user.is_authenticated


def test_a_taken_username_leaves_no_organization_behind(client, official):
    organizations = Organization.objects.count()
    response = client.post(
        reverse("orgs_registry:register"), registration_data(username="official")
    )
    assert "username" in response.context["form"].errors
    assert Organization.objects.count() == organizations


def test_an_already_registered_code_is_refused_on_the_code(client, organization):
    response = client.post(
        reverse("orgs_registry:register"), registration_data(uscc=organization.uscc)
    )
    assert "uscc" in response.context["form"].errors
    assert not User.objects.filter(username="sunli").exists()


def test_a_signed_in_person_without_a_role_registers_without_account_fields(client_for, roleless):
    client = client_for(roleless)
    page = client.get(reverse("orgs_registry:register"))
    assert page.status_code == 200
    assert "password1" not in page.context["form"].fields

    data = {k: v for k, v in registration_data().items() if k not in {"username", "full_name"}}
    response = client.post(reverse("orgs_registry:register"), data)

    organization = Organization.objects.get(name="渝中区心语心理咨询服务中心")
    roleless.refresh_from_db()
    assert response.status_code == 302
    assert roleless.role == Role.ORG_ADMIN
    assert roleless.organization == organization
    assert AuditEvent.objects.filter(action=AuditAction.USER_ROLE_ASSIGNED).exists()


def test_a_visitor_sees_the_account_fields(client, db):
    form = client.get(reverse("orgs_registry:register")).context["form"]
    assert {"username", "password1", "password2", "uscc", "categories"} <= set(form.fields)


@pytest.mark.parametrize("persona", ["org_admin", "org_member", "official", "registry_admin"])
def test_someone_with_a_role_is_told_they_cannot_register(request, client_for, persona):
    user = request.getfixturevalue(persona)
    organizations = Organization.objects.count()
    client = client_for(user)

    page = client.get(reverse("orgs_registry:register"))
    assert page.status_code == 403
    assert "cannot register" in page.content.decode() or "不能登记" in page.content.decode()

    response = client.post(reverse("orgs_registry:register"), registration_data())
    assert response.status_code == 403
    assert Organization.objects.count() == organizations


def test_the_registration_page_needs_its_csrf_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("orgs_registry:register"), registration_data()).status_code == 403
    assert not Organization.objects.filter(name="渝中区心语心理咨询服务中心").exists()


@pytest.mark.parametrize("name", ["directory", "credit_lists", "profile"])
def test_english_registry_pages_contain_no_chinese_outside_data(client, organization, name):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    args = [organization.pk] if name == "profile" else []
    html = client.get(reverse(f"orgs_registry:{name}", args=args)).content.decode()
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    # Organization names are data, kept in the language they were registered in.
    html = html.replace(organization.name, "")
    assert re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", html) == []
