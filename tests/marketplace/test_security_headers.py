"""Security headers on every kind of response (a public page, a signed-in page, the API, a
file download), the production transport settings (HSTS, secure cookies, the HTTPS
redirect) and the end of a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, list[str]]:
    """``"a 'self'; b x y"`` -> ``{"a": ["'self'"], "b": ["x", "y"]}``."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def responses(client_for, official):
    """One response of each kind."""
    signed_in = client_for(official)
    return {
        "public page": Client().get("/"),
        "signed-in page": signed_in.get(reverse("dashboard")),
        "API": signed_in.get(reverse("api:me")),
        "file download": Client().get(reverse("reports:ocds_bulk")),
    }


def test_each_kind_of_response_is_what_it_claims(responses):
    assert responses["signed-in page"].status_code == 200
    assert responses["API"].json()["username"] == "official"
    download = responses["file download"]
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("kind", ["public page", "signed-in page", "API", "file download"])
def test_every_response_carries_the_security_headers(responses, kind):
    response = responses[kind]
    # Enforced, not merely reported.
    assert "Content-Security-Policy-Report-Only" not in response
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_only_the_api_docs_may_inject_a_style_and_never_a_script(client):
    policy = directives(client.get(reverse("api_docs"))["Content-Security-Policy"])
    assert "'unsafe-inline'" in policy["style-src"]  # Swagger UI's one <style> element
    assert policy["script-src"] == ["'self'"]


def test_production_settings_ask_for_https_everywhere():
    """The tests run with the production defaults (DEBUG off) except the HTTPS redirect."""
    assert settings.DEBUG is False
    assert settings.SECURE_HSTS_SECONDS >= 365 * 24 * 60 * 60
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SESSION_COOKIE_SECURE
    assert settings.CSRF_COOKIE_SECURE
    assert settings.LANGUAGE_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY


def test_https_responses_carry_hsts_and_http_is_redirected(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    plain = client.get("/")
    assert plain.status_code == 301
    assert plain.url.startswith("https://")
    secure = client.get("/", secure=True)
    assert secure.status_code == 200
    hsts = secure["Strict-Transport-Security"]
    assert f"max-age={settings.SECURE_HSTS_SECONDS}" in hsts
    assert "includeSubDomains" in hsts


def test_the_session_and_csrf_cookies_are_secure_httponly_and_same_site(org_admin):
    client = Client()
    login_page = client.get(reverse("login"), secure=True)
    csrf = login_page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"]
    assert csrf["httponly"]
    response = client.post(
        reverse("login"),
        {"username": "org_admin", "password": PASSWORD},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    # SESSION_EXPIRE_AT_BROWSER_CLOSE: a browser cookie without a lifetime.
    assert not session["max-age"]
    assert not session["expires"]


def test_a_session_ends_after_session_cookie_age(client_for, official):
    client = client_for(official)
    assert client.get(reverse("dashboard")).status_code == 200
    stored = Session.objects.get(session_key=client.session.session_key)
    # The server-side end is SESSION_COOKIE_AGE after the sign-in.
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((stored.expire_date - expected).total_seconds()) < 60

    Session.objects.filter(pk=stored.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
