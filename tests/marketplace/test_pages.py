"""The portal shell: pages per role, the audit log page and error pages (security headers:
test_security_headers.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from marketplace.audit import audit_record
from marketplace.models import AuditAction, Role
from tests.conftest import make_organization, make_user


class ScriptCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []
        self.landmarks: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        if tag in {"header", "nav", "main", "footer"}:
            self.landmarks.add(tag)
        self.inline_handlers += [name for name in attributes if name.startswith("on")]


def parse(response) -> ScriptCollector:
    collector = ScriptCollector()
    collector.feed(response.content.decode())
    return collector


def test_home_is_public_and_chinese_by_default(client, db):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-Hans"' in html
    assert "登录" in html


def test_pages_have_landmarks_a_skip_link_and_no_inline_scripts(client, db):
    response = client.get("/")
    page = parse(response)
    assert {"header", "nav", "main", "footer"} <= page.landmarks
    assert all(script.get("src") for script in page.scripts), "every script is a file"
    assert page.inline_handlers == []
    assert 'href="#main"' in response.content.decode()


def test_static_assets_are_served_locally(client, db):
    html = client.get("/").content.decode()
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(url).status_code == 200, url
    assert "//cdn" not in html
    assert "https://" not in html.split("<body")[0]


def test_the_dashboard_needs_a_sign_in(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("org_admin", ["阳光社会工作服务中心", "本组织的有效账号"]),
        ("official", ["正常状态的社会组织", "评审专家库人数"]),
        ("approver", ["正常状态的社会组织"]),
        ("assessor", ["您的评审类别"]),
        ("registry_admin", ["等待核实的登记"]),
        ("auditor", ["审计事件", "近24小时锁定次数"]),
    ],
)
def test_each_role_gets_its_dashboard(request, client_for, persona, expected):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in expected:
        assert text in html, text


def test_dashboard_counts_are_real(client_for, registry_admin):
    make_organization("待核实甲", "40000011", verified=False)
    make_organization("待核实乙", "40000012", verified=False)
    make_organization("已核实", "40000013")

    response = client_for(registry_admin).get(reverse("dashboard"))
    with translation.override("en"):
        cards = {str(card.title): card.value for card in response.context["cards"]}
    assert cards["Registrations waiting for verification"] == 2
    assert cards["Active social organizations"] == 1


def test_a_pending_organization_is_told_what_happens_next(db, client_for):
    pending = make_organization("新登记组织", "40000021", verified=False)
    user = make_user("newbie", Role.ORG_ADMIN, pending)
    html = client_for(user).get(reverse("dashboard")).content.decode()
    assert "待核实" in html
    assert "核实后即可投标" in html


def test_navigation_follows_the_role(client_for, official, auditor):
    assert reverse("audit_log") not in client_for(official).get("/").content.decode()
    assert reverse("audit_log") in client_for(auditor).get("/").content.decode()


# --- Audit log page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["official", "approver", "org_admin", "assessor", "registry_admin", "outsider"]
)
def test_only_auditors_may_browse_the_audit_log(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("audit_log")).status_code == 403
    assert client.get(reverse("audit_event", args=[1])).status_code == 404


def test_auditors_browse_and_filter_the_audit_log(client_for, auditor, official):
    client = client_for(auditor)
    response = client.get(reverse("audit_log"), {"action": AuditAction.USER_CREATED})
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    assert events
    assert {e.action for e in events} == {AuditAction.USER_CREATED}

    client_for(official)  # signing in writes an event with official as the actor
    by_actor = client.get(reverse("audit_log"), {"actor": "official"})
    assert {e.actor_name for e in by_actor.context["page"].object_list} == {"official"}


def test_a_bad_filter_value_is_reported_on_its_field(client_for, auditor):
    response = client_for(auditor).get(reverse("audit_log"), {"since": "not-a-date"})
    assert response.status_code == 200
    assert "since" in response.context["filter"].form.errors
    assert list(response.context["page"].object_list) == []


def test_htmx_requests_get_only_the_results(client_for, auditor):
    response = client_for(auditor).get(reverse("audit_log"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<table" in html
    assert "<html" not in html


def test_an_audit_event_page_shows_its_hashes(client_for, auditor):
    response = client_for(auditor).get(reverse("audit_event", args=[1]))
    assert response.status_code == 200
    event = response.context["event"]
    assert event.hash in response.content.decode()
    assert client_for(auditor).get(reverse("audit_event", args=[999999])).status_code == 404


def test_the_audit_log_page_costs_the_same_queries_for_more_events(
    client_for, auditor, django_assert_max_num_queries
):
    client = client_for(auditor)
    client.get(reverse("audit_log"))
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("audit_log"))
    with transaction.atomic():
        for i in range(120):
            audit_record(action=AuditAction.ORG_CREATED, actor=auditor, object_id=i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("audit_log"))


def test_the_dashboard_costs_the_same_queries_for_more_data(
    client_for, registry_admin, django_assert_max_num_queries
):
    client = client_for(registry_admin)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("dashboard"))
    for i in range(15):
        make_organization(f"组织{i}", f"4100{i:04d}", verified=i % 2 == 0)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("dashboard"))


# --- Error pages ---------------------------------------------------------------------------


def test_404_page_in_chinese_and_english(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "找不到" in response.content.decode()
    client.cookies["django_language"] = "en"
    assert "We could not find this page" in client.get("/no/such/page/").content.decode()


def test_403_page_in_both_languages(client_for, official):
    client = client_for(official)
    assert "无权" in client.get(reverse("audit_log")).content.decode()
    client.cookies["django_language"] = "en"
    assert "You are not allowed" in client.get(reverse("audit_log")).content.decode()


@pytest.mark.urls("tests.marketplace.urls_for_tests")
def test_500_page_in_both_languages(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "我们这边出错了" in response.content.decode()
    client.cookies["django_language"] = "en"
    assert "Something went wrong on our side" in client.get("/boom/").content.decode()


def test_the_health_check_answers(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_htmx_results_carry_the_filter_errors(client_for, auditor):
    response = client_for(auditor).get(
        reverse("audit_log"), {"until": "2026-13-45"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'class="error-summary"' in html
    assert 'href="#id_until"' in html


def test_a_form_without_its_csrf_token_gets_a_readable_403(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()


def test_the_token_endpoint_ignores_the_session_and_its_csrf(client_for, official):
    client = client_for(official)
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/v1/auth/token/", {"username": "x", "password": "y"})
    # The token endpoint takes no session, so CSRF does not apply to it; it answers 401.
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
