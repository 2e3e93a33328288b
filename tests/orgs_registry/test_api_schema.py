"""The OpenAPI schema of the registry API: complete, valid and free of warnings."""

from __future__ import annotations

import pytest
from django.core.management import call_command

REGISTRY_PATHS = [
    "/api/v1/organizations/",
    "/api/v1/organizations/{id}/",
    "/api/v1/organizations/{id}/verify/",
    "/api/v1/organizations/{id}/reject/",
    "/api/v1/organizations/{id}/resubmit/",
    "/api/v1/organizations/{id}/deregistration/",
    "/api/v1/organizations/{id}/deregistration/withdraw/",
    "/api/v1/organizations/{id}/deregistration/complete/",
    "/api/v1/organizations/{id}/eligibility/",
    "/api/v1/organizations/{id}/grade/",
    "/api/v1/organizations/{organization_pk}/staff/",
    "/api/v1/organizations/{organization_pk}/staff/{person_id}/",
    "/api/v1/organizations/{organization_pk}/staff/{person_id}/qualifications/",
    "/api/v1/organizations/{organization_pk}/staff/import/",
    "/api/v1/organizations/{organization_pk}/change-requests/",
    "/api/v1/organizations/{organization_pk}/credit-measures/",
    "/api/v1/change-requests/",
    "/api/v1/change-requests/{id}/approve/",
    "/api/v1/grades/",
    "/api/v1/grades/{id}/scores/",
    "/api/v1/grades/{id}/review-request/",
    "/api/v1/credit-records/",
    "/api/v1/credit-records/{id}/remove/",
]


def test_the_schema_validates_without_warnings(tmp_path, db):
    # --fail-on-warn turns every drf-spectacular warning (an unannotated view, an enum
    # naming clash, an unknown path parameter type) into a failure.
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    assert out.stat().st_size > 0


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    return response.json()


def test_every_registry_resource_is_described(schema):
    missing = [path for path in REGISTRY_PATHS if path not in schema["paths"]]
    assert missing == []


def test_ids_in_paths_are_integers(schema):
    parameters = schema["paths"]["/api/v1/organizations/{organization_pk}/staff/{person_id}/"][
        "get"
    ]["parameters"]
    assert {p["name"]: p["schema"]["type"] for p in parameters if p["in"] == "path"} == {
        "organization_pk": "integer",
        "person_id": "integer",
    }


def test_the_contract_fields_are_in_the_answers(schema):
    components = schema["components"]["schemas"]
    assert {"id", "name", "uscc", "kind", "status"} <= set(components["Organization"]["properties"])
    assert {"id", "name", "id_number_masked"} <= set(components["RosterEntry"]["properties"])
    # The whole ID number is optional: only some callers get it.
    assert "id_number" not in components["RosterEntry"]["required"]


def test_public_reads_need_no_credentials_and_writes_do(schema):
    for path in ("/api/v1/organizations/", "/api/v1/credit-records/"):
        assert "security" not in schema["paths"][path]["get"]
        assert {"tokenAuth": []} in schema["paths"][path]["post"]["security"]
