"""The OpenAPI schema of the evaluation, award and challenge API: every resource described,
the fixed names of CONTRACTS section 3 in the requests and answers, one named enum per set of
states. (``tests/tenders/test_api_schema.py`` checks the whole schema is free of warnings.)"""

from __future__ import annotations

import pytest

PATHS = [
    "/api/v1/tenders/{id}/panel/",
    "/api/v1/tenders/{id}/panel/bids/",
    "/api/v1/tenders/{id}/declaration/",
    "/api/v1/tenders/{id}/ranking/",
    "/api/v1/tenders/{id}/award/",
    "/api/v1/tenders/{id}/result/",
    "/api/v1/scoresheets/",
    "/api/v1/scoresheets/{id}/",
    "/api/v1/scoresheets/{id}/submit/",
    "/api/v1/scoresheets/{id}/reopen/",
    "/api/v1/deviations/{id}/confirm/",
    "/api/v1/deviations/{id}/revise/",
    "/api/v1/objective-scores/",
    "/api/v1/objective-scores/{id}/correct/",
    "/api/v1/price-justifications/",
    "/api/v1/price-justifications/{id}/",
    "/api/v1/price-justifications/{id}/submit/",
    "/api/v1/price-justifications/{id}/decide/",
    "/api/v1/price-justifications/{id}/document/",
    "/api/v1/assessors/{id}/",
    "/api/v1/assessors/me/",
    "/api/v1/assessors/me/employments/",
    "/api/v1/assessors/me/employments/{id}/end/",
    "/api/v1/assessors/me/relations/",
    "/api/v1/assessors/me/relations/{id}/",
    "/api/v1/challenges/",
    "/api/v1/challenges/{id}/",
    "/api/v1/challenges/{id}/answer/",
    "/api/v1/challenges/{id}/decide/",
    "/api/v1/challenges/{id}/close/",
    "/api/v1/challenge-documents/{id}/",
]


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    return response.json()


def properties(schema: dict, name: str) -> set[str]:
    return set(schema["components"]["schemas"][name]["properties"])


def test_every_resource_is_described(schema):
    assert [path for path in PATHS if path not in schema["paths"]] == []


def test_the_methods_of_each_resource(schema):
    paths = schema["paths"]

    def methods(path: str) -> set[str]:
        return {m for m in paths[path] if m in {"get", "post", "put", "patch", "delete"}}

    assert methods("/api/v1/tenders/{id}/panel/") == {"get", "post"}
    assert methods("/api/v1/tenders/{id}/award/") == {"get", "post"}
    assert methods("/api/v1/scoresheets/{id}/") == {"get", "put"}
    assert methods("/api/v1/assessors/me/") == {"get", "patch"}
    assert methods("/api/v1/challenges/") == {"get", "post"}
    assert methods("/api/v1/tenders/{id}/declaration/") == {"post"}


def test_ids_in_paths_are_integers(schema):
    operation = schema["paths"]["/api/v1/scoresheets/{id}/submit/"]["post"]
    assert [p["schema"] for p in operation["parameters"] if p["in"] == "path"] == [
        {"type": "integer"}
    ]


def test_the_contract_fields_are_in_the_requests_and_answers(schema):
    assert {"draw", "members", "representatives", "chair"} <= properties(schema, "PanelFormRequest")
    assert {"members", "excluded", "seed"} <= properties(schema, "Panel")
    assert {"id", "user", "name", "kind", "seat", "status"} <= properties(schema, "PanelMember")
    assert {"user", "reason"} <= properties(schema, "PanelExclusion")
    assert {"conflict", "statement"} <= properties(schema, "PanelDeclarationRequest")
    assert {"status", "replacement"} <= properties(schema, "PanelDeclarationResult")
    assert {"id", "bid", "status", "scores", "flags"} <= properties(schema, "ScoreSheet")
    assert {"criterion", "score", "reason"} <= properties(schema, "SheetScore")
    assert {"scores"} <= properties(schema, "ScoreSheetInputRequest")
    assert {"criterion", "score", "reason"} <= properties(schema, "SheetScoreInputRequest")
    assert {"id", "criterion", "score", "panel_mean", "deviation", "status"} <= properties(
        schema, "DeviationFlag"
    )
    assert {"rows", "version", "base_price", "tie_break", "tie_seed"} <= properties(
        schema, "Ranking"
    )
    assert {
        "bid",
        "organization",
        "price",
        "price_score",
        "criterion_scores",
        "total",
        "rank",
        "tied",
    } <= properties(schema, "RankingRow")
    assert {"bid", "reason"} <= properties(schema, "AwardInputRequest")
    assert {"status", "award"} <= properties(schema, "AwardResult")
    assert {"tender", "subject", "text"} <= properties(schema, "ChallengeCreateRequest")
    assert {"documents"} <= properties(schema, "ChallengeUploadRequest")
    assert {"answer", "upheld", "remedy"} <= properties(schema, "ChallengeAnswerRequest")


def test_each_set_of_states_has_its_own_named_enum(schema):
    components = schema["components"]["schemas"]
    assert {"draft", "submitted", "locked", "reopened"} <= set(
        components["ScoreSheetStatusEnum"]["enum"]
    )
    assert {"assigned", "declared", "replaced"} <= set(components["PanelMemberStatusEnum"]["enum"])
    assert {"declaring", "scoring", "ranked"} <= set(components["PanelStatusEnum"]["enum"])
    assert set(components["DeviationStatusEnum"]["enum"]) == {"open", "confirmed", "revised"}
    assert set(components["CorrectionReasonEnum"]["enum"]) == {
        "arithmetic_error",
        "out_of_range",
        "inconsistent_objective",
        "abnormal_score",
    }
    assert "filed" in components["ChallengeStatusEnum"]["enum"]
    assert "withdrawn" in components["AwardStatusEnum"]["enum"]


def test_public_reads_need_no_credentials(schema):
    paths = schema["paths"]
    for path in ("/api/v1/tenders/{id}/award/", "/api/v1/tenders/{id}/ranking/"):
        assert "security" not in paths[path]["get"], path
    assert {} not in paths["/api/v1/tenders/{id}/result/"]["get"]["security"]
    assert {} not in paths["/api/v1/scoresheets/"]["get"]["security"]
