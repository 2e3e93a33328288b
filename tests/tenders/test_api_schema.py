"""The OpenAPI schema of the tenders API: complete, valid, free of warnings, and in
agreement with the fixed interface (CONTRACTS.md section 3)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

TENDERS_PATHS = [
    "/api/v1/tenders/",
    "/api/v1/tenders/{id}/",
    "/api/v1/tenders/{id}/publish/",
    "/api/v1/tenders/{id}/return/",
    "/api/v1/tenders/{id}/amend/",
    "/api/v1/tenders/{id}/cancel/",
    "/api/v1/tenders/{id}/open/",
    "/api/v1/tenders/{id}/follow/",
    "/api/v1/tenders/{id}/opening-record/",
    "/api/v1/tenders/{tender_pk}/documents/",
    "/api/v1/tenders/{tender_pk}/questions/",
    "/api/v1/tenders/{tender_pk}/bids/",
    "/api/v1/tender-documents/{id}/",
    "/api/v1/tender-documents/{id}/download/",
    "/api/v1/questions/{id}/",
    "/api/v1/questions/{id}/answer/",
    "/api/v1/bids/",
    "/api/v1/bids/{id}/",
    "/api/v1/bids/{id}/submit/",
    "/api/v1/bids/{id}/withdraw/",
    "/api/v1/bids/{id}/reopen/",
    "/api/v1/bids/{id}/confirm/",
    "/api/v1/bids/{id}/receipt/",
    "/api/v1/bids/{id}/qualify/",
    "/api/v1/bids/{bid_pk}/receipts/",
    "/api/v1/bids/{bid_pk}/documents/",
    "/api/v1/bid-documents/{id}/",
    "/api/v1/bid-documents/{id}/download/",
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


def test_every_tenders_resource_is_described(schema):
    missing = [path for path in TENDERS_PATHS if path not in schema["paths"]]
    assert missing == []


def test_ids_in_paths_are_typed(schema):
    """Tenders are numbered; bids have random keys that reveal nothing about their count."""

    def path_schema(path: str) -> list[dict]:
        operation = schema["paths"][path]["post"]
        return [p["schema"] for p in operation["parameters"] if p["in"] == "path"]

    assert path_schema("/api/v1/tenders/{tender_pk}/bids/") == [{"type": "integer"}]
    [bid_id] = path_schema("/api/v1/bids/{id}/submit/")
    assert (bid_id["type"], bid_id.get("format")) == ("string", "uuid")


def test_the_contract_fields_are_in_the_requests_and_answers(schema):
    components = schema["components"]["schemas"]
    create = components["TenderCreateRequest"]
    assert {
        "title",
        "description",
        "category",
        "method",
        "budget",
        "bid_deadline",
        "question_deadline",
        "criteria",
    } <= set(create["required"])
    criterion = components["CriterionInputRequest"]["properties"]
    assert {"code", "name", "kind", "points"} <= set(criterion)
    assert {"id", "status"} <= set(components["Tender"]["properties"])
    assert {"id", "text", "status", "answer"} <= set(components["Question"]["properties"])
    assert {"price", "staff"} <= set(components["BidInputRequest"]["properties"])
    assert {"person", "role", "fte"} <= set(components["StaffInputRequest"]["properties"])
    assert {"id", "status", "receipt"} <= set(components["BidDetail"]["properties"])
    assert {"received_at", "sha256", "sequence"} <= set(components["Receipt"]["properties"])
    assert {"status", "opened", "confirmations"} <= set(components["OpeningResult"]["properties"])
    assert {"qualified", "reason"} <= set(components["ReviewRequest"]["properties"])
    assert {"answer"} <= set(components["AnswerRequest"]["properties"])


def test_each_status_has_its_own_named_enum(schema):
    components = schema["components"]["schemas"]
    assert "draft" in components["TenderStatusEnum"]["enum"]
    assert "submitted" in components["BidStatusEnum"]["enum"]
    assert components["QuestionStatusEnum"]["enum"] == ["open", "answered"]


def test_askers_are_optional_in_the_answers(schema):
    question = schema["components"]["schemas"]["Question"]
    assert not {"organization", "organization_name", "asked_by"} & set(question["required"])


def test_the_directory_documents_its_filters(schema):
    parameters = {p["name"] for p in schema["paths"]["/api/v1/tenders/"]["get"]["parameters"]}
    assert {
        "status",
        "category",
        "method",
        "budget_min",
        "budget_max",
        "deadline_from",
        "deadline_to",
        "q",
        "page",
    } <= parameters


def test_public_reads_need_no_credentials_and_writes_and_bids_do(schema):
    paths = schema["paths"]
    for path in (
        "/api/v1/tenders/",
        "/api/v1/tenders/{id}/",
        "/api/v1/tenders/{tender_pk}/questions/",
        "/api/v1/tenders/{id}/opening-record/",
    ):
        assert "security" not in paths[path]["get"], path
    assert {"tokenAuth": []} in paths["/api/v1/tenders/"]["post"]["security"]
    assert {} not in paths["/api/v1/tenders/{tender_pk}/bids/"]["get"]["security"]
    assert {} not in paths["/api/v1/bids/{id}/"]["get"]["security"]
