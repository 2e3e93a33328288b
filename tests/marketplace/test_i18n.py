"""Chinese first, a complete English translation, and the language switch."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
SOURCE_DIRS = ["marketplace", "orgs_registry", "tenders", "evaluation", "reports"]


def switch(client, language: str, next_url: str = "/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_interface_is_chinese_without_a_choice(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "<title>登录" in html


def test_the_language_switch_sets_english_and_back(client, db):
    response = switch(client, "en", "/accounts/login/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert "<title>Sign in" in client.get(reverse("login")).content.decode()

    switch(client, "zh-hans")
    assert "<title>登录" in client.get(reverse("login")).content.decode()


def test_the_switch_refuses_foreign_redirects(client, db):
    assert switch(client, "en", "https://evil.example/").url == "/"


def test_an_unknown_language_changes_nothing(client, db):
    response = switch(client, "klingon")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert "<title>登录" in client.get(reverse("login")).content.decode()


def test_the_switch_needs_post_and_csrf(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get(reverse("set_language")).status_code == 405
    assert strict.post(reverse("set_language"), {"language": "en"}).status_code == 403


def test_a_signed_in_users_choice_is_remembered_and_audited(client_for, official):
    client = client_for(official)
    switch(client, "en")
    official.refresh_from_db()
    assert official.language == "en"
    assert AuditEvent.objects.filter(action=AuditAction.USER_PREFERENCES_CHANGED).count() == 1

    fresh = client.__class__()
    response = fresh.post(
        reverse("login"), {"username": "official", "password": "correct-horse-battery-staple"}
    )
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_form_errors_are_in_the_users_language(client, db):
    chinese = client.post(reverse("login"), {"username": "", "password": ""})
    assert "该字段是必填项" in chinese.content.decode()
    switch(client, "en")
    english = client.post(reverse("login"), {"username": "", "password": ""})
    assert "This field is required" in english.content.decode()


PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/password/reset/", "/no-such-page/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_english_pages_contain_no_chinese(client, db, path):
    """Every string is marked for translation: nothing Chinese is left in English pages."""
    switch(client, "en")
    html = client.get(path).content.decode()
    # The language menu names Chinese in Chinese, as language menus do.
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    assert CJK.findall(html) == []


@pytest.mark.parametrize(
    "persona", ["official", "org_admin", "assessor", "registry_admin", "auditor"]
)
def test_english_dashboards_contain_no_chinese_outside_data(request, client_for, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    switch(client, "en")
    html = client.get(reverse("dashboard")).content.decode()
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    # Organization names are data, kept in the language they were registered in.
    if user.organization:
        html = html.replace(user.organization.name, "")
    assert CJK.findall(html) == []


def test_the_chinese_catalogue_is_complete_and_compiled():
    catalogue = polib.pofile(str(PO))
    assert catalogue.untranslated_entries() == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
    assert catalogue.percent_translated() == 100
    compiled = polib.mofile(str(MO))
    assert {(e.msgctxt, e.msgid): e.msgstr for e in compiled} == {
        (e.msgctxt, e.msgid): e.msgstr for e in catalogue.translated_entries()
    }, "locale/*.mo is stale: run make messages"


def test_every_marked_string_is_in_the_catalogue(tmp_path):
    """makemessages on a copy of the code finds no message the catalogue lacks."""
    for name in SOURCE_DIRS:
        shutil.copytree(
            ROOT / name,
            tmp_path / name,
            ignore=shutil.ignore_patterns("__pycache__", "migrations", "static"),
        )
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "PYTHONPATH": str(tmp_path)},
    )
    found = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    catalogue = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO)).translated_entries()}
    missing = sorted(e.msgid for e in found if (e.msgctxt, e.msgid) not in catalogue)
    assert missing == [], "run make messages and translate these"


def test_a_browser_asking_for_english_still_gets_chinese_pages(client, db):
    html = client.get(reverse("login"), headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<title>登录" in html.content.decode()


def test_api_clients_may_ask_for_english_errors(client, db):
    body = client.get("/api/v1/me/", headers={"Accept-Language": "en"}).json()
    assert body["detail"] == "Authentication credentials were not provided."
    chinese = client.get("/api/v1/me/").json()
    assert CJK.search(chinese["detail"])
