"""API v1 foundations: tokens, the error format, throttling and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from marketplace.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
ERROR_KEYS = {"error", "detail", "fields"}


def token_for(client: Client, username: str) -> str:
    response = client.post(TOKEN, {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_a_token_is_issued_for_good_credentials_and_reused(client, official):
    first = token_for(client, "official")
    second = token_for(client, "official")
    assert first == second
    assert len(first) == 40
    assert AuditEvent.objects.filter(action=AuditAction.AUTH_TOKEN_ISSUED).count() == 1


def test_the_token_authenticates_api_calls(client, org_admin, organization):
    token = token_for(client, "org_admin")
    response = Client().get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "org_admin"
    assert body["role"] == "org_admin"
    assert body["organization"] == {
        "id": organization.pk,
        "name": organization.name,
        "uscc": organization.uscc,
    }


def test_missing_credentials_are_a_401_in_the_error_format(client, db):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["error"] == "not_authenticated"


def test_a_bad_token_is_a_401_in_the_error_format(client, db):
    response = client.get("/api/v1/me/", headers={"Authorization": "Token nonsense"})
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_a_token_request_without_a_password_names_the_field(client, db):
    response = client.post(TOKEN, {"username": "official"}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert list(body["fields"]) == ["password"]


def test_malformed_json_is_a_400_parse_error(client, db):
    response = client.post(TOKEN, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"


def test_wrong_method_is_a_405_in_the_error_format(client, db):
    response = client.get(TOKEN)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_an_unknown_api_address_is_a_json_404(client, db):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert set(body) == ERROR_KEYS


@pytest.mark.urls("tests.marketplace.urls_for_tests")
class TestErrorFormat:
    def test_serializer_errors_list_every_field(self, client, db):
        response = client.post(
            "/api/v1/test/x/",
            {"name": "far too long", "budget": "-1"},
            content_type="application/json",
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid"
        assert set(body["fields"]) == {"name", "budget"}
        assert "5 characters" in body["fields"]["name"][0]

    def test_serializer_errors_are_in_the_callers_language(self, client, db):
        response = client.post(
            "/api/v1/test/x/",
            {},
            content_type="application/json",
            headers={"Accept-Language": "zh-hans"},
        )
        assert response.json()["fields"]["name"] == ["该字段是必填项。"]

    def test_django_validation_errors_from_services_become_400s(self, client, db):
        response = client.get("/api/v1/test/django-validation/")
        assert response.status_code == 400
        assert response.json()["fields"] == {"uscc": ["USCC must have 18 characters, not 3"]}

    def test_a_plain_django_validation_error_is_a_non_field_error(self, client, db):
        response = client.get("/api/v1/test/django-validation-plain/")
        assert response.status_code == 400
        body = response.json()
        assert body["detail"] == "The deadline has passed."
        assert body["fields"] == {"non_field_errors": ["The deadline has passed."]}

    def test_permission_denied_is_a_403(self, client, db):
        response = client.get("/api/v1/test/denied/")
        assert response.status_code == 403
        assert response.json()["error"] == "permission_denied"
        assert set(response.json()) == ERROR_KEYS

    def test_a_concurrent_state_change_is_a_409(self, client, db):
        response = client.get("/api/v1/test/conflict/")
        assert response.status_code == 409
        assert response.json()["error"] == "conflict"

    def test_http404_is_a_404(self, client, db):
        response = client.get("/api/v1/test/missing/")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"

    def test_a_bug_is_a_500_without_a_traceback(self, db):
        client = Client(raise_request_exception=False)
        response = client.get("/api/v1/test/bug/")
        assert response.status_code == 500
        assert response.json()["error"] == "server_error"
        assert "Traceback" not in response.content.decode()


def test_anonymous_clients_are_throttled(client, db, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "3/minute", "user": "5/minute", "auth": "20/minute"},
    )
    statuses = [client.get("/api/v1/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    body = client.get("/api/v1/").json()
    assert body["error"] == "throttled"
    assert set(body) == ERROR_KEYS


def test_signed_in_clients_have_their_own_rate(client_for, official, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "1/minute", "user": "3/minute", "auth": "20/minute"},
    )
    client = client_for(official)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_token_endpoint_has_its_own_tight_rate(client, official, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100/minute", "user": "100/minute", "auth": "2/minute"},
    )
    statuses = [
        client.post(TOKEN, {"username": "official", "password": PASSWORD}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_the_openapi_schema_describes_the_token_endpoint(client, db):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]
    assert "/api/v1/me/" in schema["paths"]


def test_the_api_docs_load_only_local_assets_and_no_inline_script(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "<script>" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_api_root_lists_the_resources(client, db):
    body = client.get("/api/v1/").json()
    assert body["organizations"].endswith("/api/v1/organizations/")
    assert body["grades"].endswith("/api/v1/grades/")
    assert body["credit-records"].endswith("/api/v1/credit-records/")
    assert client.get(body["organizations"]).status_code == 200
