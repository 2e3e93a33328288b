"""OpenAPI postprocessing: the error answers that whole kinds of operations can give.

Each view documents the errors of its own rules. A few come from the framework around
every view of a kind, and writing them on each view would be easy to forget on the next:

- 404 on a paginated list: a ``page`` past the last one (or not a number) is "not found";
- 415 on an operation with a request body: a body in a media type it does not read;
- 429 on every operation: the anonymous and per-user rates (``DEFAULT_THROTTLE_CLASSES``).

All of them answer in the CONTRACTS error format (the ``Error`` component).

It also marks the successful answer of the operations that say ``NULLABLE_RESPONSE`` in
their ``extend_schema(extensions=...)`` as possibly the JSON value null: drf-spectacular
has no way to say so of a whole response body.
"""

from __future__ import annotations

from typing import Any

ERROR_REF = "#/components/schemas/Error"
#: Operation extension: the 200 answer is the serializer's object or null ("none yet").
NULLABLE_RESPONSE = "x-nullable-response"


def _error(description: str) -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
        "description": description,
    }


def _is_paginated(operation: dict[str, Any]) -> bool:
    return any(
        parameter.get("in") == "query" and parameter.get("name") == "page"
        for parameter in operation.get("parameters", [])
    )


def _make_nullable(response: dict[str, Any]) -> None:
    for media in response.get("content", {}).values():
        media["schema"] = {"allOf": [media["schema"]], "nullable": True}


def document_framework_errors(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Add the framework's 404, 415 and 429 answers where an operation can give them, and
    null to the answers marked ``NULLABLE_RESPONSE``."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            if operation.pop(NULLABLE_RESPONSE, False):
                _make_nullable(responses.get("200", {}))
            if _is_paginated(operation):
                responses.setdefault("404", _error("No such page of the list."))
            if "requestBody" in operation:
                responses.setdefault("415", _error("The body's media type is not accepted."))
            responses.setdefault("429", _error("Too many requests; try again later."))
    return result
