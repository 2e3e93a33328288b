"""Hostile text in every text field: too long, control characters, lone surrogates, HTML
and script, and spreadsheet formulas.

- Data-driven over every form and every API serializer of the project (discovered, so a new
  field is covered the day it is added; a floor on the number covered keeps the discovery
  honest): NUL is refused on every text field (PostgreSQL cannot store it: an accepted NUL
  would be a 500), a lone surrogate on every API text field (JSON may carry one; no
  database can store it), and text over a form field's ``max_length`` is refused.
- NUL, escape and bidi characters in the query string of every list page and API list, and
  NUL or lone surrogates inside the nested JSON the API takes (criteria, staffing plans,
  spending lines), never give a 500; a 1 MB body is refused on the field.
- HTML and JavaScript entered through the API are shown escaped on every page that shows
  them, kept as the same text in the API and in the PDF, and never become a link.
- Values beginning ``= + - @``, a tab or a carriage return, entered through the API, come
  back neutralised (a leading apostrophe) from every CSV and XLSX export they appear in.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import pkgutil
import shutil
import subprocess
from datetime import timedelta
from functools import cache
from typing import Any

import pandas as pd
import pytest
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as ApiValidationError

from marketplace.models import Role, User
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import Organization
from reports import exports
from tenders.models import Tender
from tests.conftest import persona

APPS = ("marketplace", "orgs_registry", "tenders", "evaluation", "reports")
NUL, ESCAPE, RTL, SURROGATE = "a\x00b", "a\x1b[31mb", "a\u202eb", "a\ud800b"
SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(document.cookie)"
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


# --- Discovery ---------------------------------------------------------------------------------


@cache
def project_classes() -> tuple[list[type], list[type]]:
    """Every form and serializer class defined in the project's apps."""
    found_forms: set[type] = set()
    found_serializers: set[type] = set()
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if any(part in info.name for part in (".migrations", ".management", "demo")):
                continue
            if info.name.endswith(("settings", "wsgi", "asgi")):
                continue
            module = importlib.import_module(info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__.split(".")[0] not in APPS:
                    continue
                if issubclass(cls, forms.BaseForm):
                    found_forms.add(cls)
                elif issubclass(cls, serializers.BaseSerializer):
                    found_serializers.add(cls)
    key = lambda cls: f"{cls.__module__}.{cls.__qualname__}"  # noqa: E731
    return sorted(found_forms, key=key), sorted(found_serializers, key=key)


def form_text_fields() -> list[tuple[str, forms.CharField]]:
    return [
        (f"{cls.__module__}.{cls.__name__}.{name}", field)
        for cls in project_classes()[0]
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.CharField)
    ]


def serializer_text_fields() -> list[tuple[str, serializers.CharField]]:
    fields = []
    for cls in project_classes()[1]:
        instance = cls(context={"request": None})
        for name, field in instance.fields.items():
            if isinstance(field, serializers.CharField) and not field.read_only:
                fields.append((f"{cls.__name__}.{name}", field))
    return fields


def refuses_form(field: forms.Field, value: str) -> bool:
    try:
        field.clean(value)
    except ValidationError:
        return True
    return False


def refuses_api(field: serializers.Field, value: str) -> bool:
    try:
        field.run_validation(value)
    except ApiValidationError:
        return True
    return False


def test_every_form_text_field_refuses_nul_and_text_over_its_limit():
    fields = form_text_fields()
    assert len(fields) >= 130, len(fields)  # the discovery still finds the forms
    accepted_nul = [name for name, field in fields if not refuses_form(field, NUL)]
    too_long = [
        name
        for name, field in fields
        if field.max_length and not refuses_form(field, "x" * (field.max_length + 1))
    ]
    assert accepted_nul == []
    assert too_long == []


def test_every_api_text_field_refuses_nul_and_lone_surrogates(db):
    fields = serializer_text_fields()
    assert len(fields) >= 200, len(fields)
    assert [name for name, field in fields if not refuses_api(field, NUL)] == []
    assert [name for name, field in fields if not refuses_api(field, SURROGATE)] == []
    too_long = [
        name
        for name, field in fields
        if field.max_length and not refuses_api(field, "x" * (field.max_length + 1))
    ]
    assert too_long == []


# --- Query strings ------------------------------------------------------------------------------

QUERY = {
    name: value
    for name in (
        "q",
        "search",
        "status",
        "category",
        "kind",
        "tender",
        "organization",
        "year",
        "page",
        "ordering",
        "community",
        "method",
        "list",
        "severity",
        "period",
    )
    for value in [NUL]
}


def parameterless_get_routes() -> list[str]:
    """Every route of the project without a path parameter (list pages, API lists)."""
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            text = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if "<" in text or "(?P" in text:
                    continue
                walk(pattern.url_patterns, prefix + text.lstrip("^").rstrip("$"))
            elif isinstance(pattern, URLPattern):
                if "<" in text or "(?P" in text:
                    continue
                path = prefix + text.lstrip("^").rstrip("$").replace("\\Z", "")
                if any(ch in path for ch in "()[]*+?\\") or "admin" in path:
                    continue
                routes.append("/" + path)

    walk(get_resolver().url_patterns, "")
    skipped = ("accounts/logout", "i18n/", "static/", "media/", "__debug__", "data/ocds")
    return sorted({route for route in routes if not any(s in route for s in skipped)})


def english_client(user: User | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def test_control_characters_in_query_strings_never_give_a_500(db):
    routes = parameterless_get_routes()
    assert len(routes) >= 40, routes
    # An official reaches the most pages (the staff's and the public's).
    clients = {"official": english_client(persona("official", Role.OFFICIAL))}
    failures = []
    for route in routes:
        for who, client in clients.items():
            response = client.get(route, dict.fromkeys(QUERY, NUL + ESCAPE + RTL))
            if response.status_code >= 500:
                failures.append(f"{who} GET {route}: {response.status_code}")
    assert failures == []


# --- Nested JSON ------------------------------------------------------------------------------


def tender_body(**overrides: Any) -> dict[str, Any]:
    now = timezone.now()
    body = {
        "title": "居家养老服务项目",
        "description": "上门助餐与探访。",
        "category": "elderly_care",
        "method": "public_tender",
        "budget": "500000.00",
        "bid_deadline": (now + timedelta(days=25)).isoformat(),
        "question_deadline": (now + timedelta(days=12)).isoformat(),
        "service_start": "2027-01-01",
        "service_end": "2027-12-31",
        "criteria": [
            {"code": "price", "name": "价格", "kind": "price", "points": "30"},
            {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "50"},
            {"code": "grade", "name": "等级", "kind": "objective", "points": "20"},
        ],
    }
    body.update(overrides)
    return body


def post_json(client: Client, url: str, body: Any) -> Any:
    """A JSON body sent as raw text, so that a lone surrogate arrives as ``\\ud800``."""
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_nul_or_a_lone_surrogate_deep_in_an_api_body_is_a_400_not_a_500(bad, db):
    client = english_client(persona("official", Role.OFFICIAL))
    bodies = {
        "title": tender_body(title=bad),
        "criterion name": tender_body(
            criteria=[
                {"code": "price", "name": bad, "kind": "price", "points": "30"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "70"},
            ]
        ),
        "criterion code": tender_body(
            criteria=[
                {"code": "price", "name": "价格", "kind": "price", "points": "30"},
                {"code": bad, "name": "方案", "kind": "subjective", "points": "70"},
            ]
        ),
        "category": tender_body(category=bad),
    }
    failures = []
    for label, body in bodies.items():
        response = post_json(client, "/api/v1/tenders/", body)
        if response.status_code != 400:
            failures.append(f"{label}: {response.status_code} {response.content[:200]!r}")
    assert failures == []
    assert not Tender.objects.exists()


def test_a_one_megabyte_text_is_stored_whole_or_refused_on_its_field(db):
    client = english_client(persona("official", Role.OFFICIAL))
    text = "长" * (1024 * 1024 // 3)  # 1 MB of UTF-8
    body = json.dumps(tender_body(description=text), ensure_ascii=False)
    response = client.post("/api/v1/tenders/", body, content_type="application/json")
    if response.status_code == 400:
        assert "description" in response.json()["fields"], response.json()
        assert not Tender.objects.exists()
    else:
        assert response.status_code == 201, response.status_code
        assert Tender.objects.get().description == text


def test_a_body_over_the_request_limit_is_a_400_in_the_error_format(db):
    client = english_client(persona("official", Role.OFFICIAL))
    text = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = post_json(client, "/api/v1/tenders/", tender_body(description=text))
    assert response.status_code == 400
    assert set(response.json()) == {"error", "detail", "fields"}
    assert not Tender.objects.exists()


# --- HTML, scripts and links ------------------------------------------------------------------


def publish_via_api(title: str, description: str) -> Tender:
    official = english_client(persona("official", Role.OFFICIAL))
    approver = english_client(persona("approver", Role.APPROVER))
    response = post_json(
        official, "/api/v1/tenders/", tender_body(title=title, description=description)
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert post_json(official, f"/api/v1/tenders/{pk}/publish/", {}).status_code == 200
    assert post_json(approver, f"/api/v1/tenders/{pk}/publish/", {}).status_code == 200
    return Tender.objects.get(pk=pk)


def register_via_api(name: str, body: str) -> Organization:
    client = english_client(persona("registry_admin", Role.REGISTRY_ADMIN))
    uscc = make_uscc(authority="5", category="2", region="500103", org_body=body)
    response = post_json(client, "/api/v1/organizations/", {"name": name, "uscc": uscc})
    assert response.status_code == 201, response.content
    return Organization.objects.get(pk=response.json()["id"])


def assert_escaped(html: str, payload: str, where: str) -> None:
    assert payload not in html, f"{where}: raw {payload!r}"
    assert "<script>alert" not in html, where
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), where
    assert 'href="javascript:' not in html.lower(), where


def test_html_and_script_are_shown_escaped_on_every_page_and_kept_as_text(db):
    title = f"{SCRIPT}{IMG}"
    tender = publish_via_api(title, f"{JS_URL} {IMG}")
    organization = register_via_api(f"{IMG}社工中心", "45000001")
    pages = [
        (None, reverse("tenders:list")),
        (None, reverse("tenders:detail", args=[tender.pk])),
        (None, reverse("orgs_registry:directory")),
        (None, reverse("orgs_registry:profile", args=[organization.pk])),
        (persona("official", Role.OFFICIAL), reverse("tenders:workspace")),
        (persona("official", Role.OFFICIAL), reverse("tenders:detail", args=[tender.pk])),
        (None, reverse("reports:portal_search") + "?q=" + "社工"),
        (None, reverse("reports:portal")),
    ]
    shown = 0
    for user, url in pages:
        response = english_client(user).get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        for payload in (SCRIPT, IMG):
            assert_escaped(html, payload, url)
        shown += ("&lt;script&gt;" in html) + ("&quot;&gt;&lt;img" in html)
    assert shown >= 4  # the payloads are on the pages, escaped, not dropped
    api = english_client().get(f"/api/v1/tenders/{tender.pk}/").json()
    assert api["title"] == title  # the API gives the text back as it was written


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_tender_notice_pdf_prints_html_as_text(db, tmp_path):
    tender = publish_via_api(f"{SCRIPT}公告", "说明")
    response = english_client().get(
        reverse("reports:document_pdf", args=["tender_notice", tender.pk])
    )
    assert response.status_code == 200
    path = tmp_path / "notice.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    command = ["pdftotext", str(path), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert "<script>alert('x')</script>" in text.replace("\n", "")  # printed, not parsed


# --- Formulas in exports ------------------------------------------------------------------------


def read_export(client: Client, name: str, fmt: str) -> list[list[str]]:
    response = client.get(reverse("reports:export", args=[name, fmt]))
    assert response.status_code == 200, (name, fmt, response.content[:300])
    if fmt == "csv":
        frame = pd.read_csv(
            io.BytesIO(response.content), encoding="utf-8-sig", dtype=str, keep_default_na=False
        )
        return [list(frame.columns), *frame.to_numpy().tolist()]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [["" if cell.value is None else str(cell.value) for cell in row] for row in sheet.rows]


def test_formulas_entered_through_the_api_come_back_neutralised_from_every_export(db):
    for number, formula in enumerate(FORMULAS):
        publish_via_api(f"{formula}项目", "说明")
        register_via_api(f"{formula}中心", f"4500010{number}")
    clients = {
        "tenders": english_client(),
        "organizations": english_client(),
        "registrations": english_client(persona("registry_admin", Role.REGISTRY_ADMIN)),
    }
    for name, client in clients.items():
        for fmt in ("csv", "xlsx"):
            cells = [cell for row in read_export(client, name, fmt) for cell in row]
            dangerous = [
                c for c in cells if isinstance(c, str) and c.startswith(exports.FORMULA_TRIGGERS)
            ]
            assert dangerous == [], (name, fmt, dangerous)
            planted = [c for c in cells if isinstance(c, str) and c.startswith("'")]
            assert len(planted) >= len(FORMULAS), (name, fmt, planted)


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"], ids=["nul", "surrogate"])
def test_nul_hidden_in_json_text_of_a_multipart_form_is_a_400(escape, db):
    """An amendment with files is multipart: its changes arrive as JSON text, decoded by
    the view; an escaped NUL or surrogate inside is refused on the field like a raw one."""
    tender = publish_via_api("居家养老服务项目", "说明")
    client = english_client(persona("official", Role.OFFICIAL))
    changes = '{"description": "a' + escape + 'b"}'
    response = client.post(
        f"/api/v1/tenders/{tender.pk}/amend/", {"summary": "更正", "changes": changes}
    )
    assert response.status_code == 400, response.content
    assert "changes" in response.json()["fields"], response.json()
    assert Tender.objects.get(pk=tender.pk).description == "说明"


def test_nested_text_over_its_column_is_a_400_not_a_500(db):
    """Criteria rows reach the service as plain JSON: a name longer than its column is
    refused on the field (PostgreSQL would refuse it with an error, a 500)."""
    client = english_client(persona("official", Role.OFFICIAL))
    criteria = [
        {"code": "price", "name": "价" * 5000, "kind": "price", "points": "30"},
        {"code": "p" * 500, "name": "方案", "kind": "subjective", "points": "70"},
    ]
    response = post_json(client, "/api/v1/tenders/", tender_body(criteria=criteria))
    assert response.status_code == 400, response.status_code
    assert "criteria" in response.json()["fields"], response.json()
    assert not Tender.objects.exists()
