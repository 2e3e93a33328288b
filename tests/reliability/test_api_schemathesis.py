"""Every operation of the OpenAPI schema, fuzzed by schemathesis as every role.

Each generated request is sent as each caller of ``machine_support.ROLES`` (with its API
token, or none) to the WSGI application, and each answer must be no server error and
conform to the schema: a documented status code, the documented content type and a body
matching the documented response. Path parameters name seeded rows most of the time
(``machine_support.PATH_KEYS``) and generated values otherwise, so that both the found and
the missing paths are exercised.

Generation is deterministic (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation,
each sent as seven callers: about 3,700 requests for the 175 operations, which is what the
file's two-minute budget holds), and writes no Hypothesis database. No operation is left
out: multipart uploads are fuzzed like the rest (their file checks have their own tests in
tests/reliability/test_hostile_uploads.py and the apps' upload tests).

A second sweep sends every operation with each integer path and query parameter beyond 64
bits, where PostgreSQL and SQLite differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test.utils import override_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import building, module_database
from tests.reliability.machine_support import AWARD_DAY, ROLES, ApiWorld, path_keys, seed_api_world

#: Generated cases per operation; each is sent once per role.
MAX_EXAMPLES = 3

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: The host schemathesis's WSGI transport sends.
HOST = "localhost"

with override_settings(ALLOWED_HOSTS=[HOST]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


def _seeded_or(generated: Any, rows: Callable[[], list[Any]]) -> st.SearchStrategy[Any]:
    """Three times in four a seeded row's key, else the generated value."""
    keys = rows()
    if not keys:
        return st.just(generated)
    return st.integers(min_value=0, max_value=3).flatmap(
        lambda pick: st.just(generated) if pick == 0 else st.sampled_from(keys)
    )


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    readers = path_keys(context.operation.path)
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {
            name: _seeded_or(value, readers[name]) if name in readers else st.just(value)
            for name, value in path_parameters.items()
        }
    )


@contextmanager
def _keep_test_connection() -> Iterator[None]:
    """Requests through the WSGI handler must not close the test's open transaction.

    Django's own test client detaches ``close_old_connections`` the same way; the handler
    would otherwise close a connection whose autocommit differs from the settings (the
    test transaction's) at the end of each request.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[ApiWorld]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        # The clock stays at the moment the seed left it (the real date) while the
        # module's tests run.
        yield seed_api_world(clock)


@pytest.fixture
def world(_world: ApiWorld, db, settings) -> ApiWorld:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    return _world


#: Every operation of the schema (an operation that failed to load would fail here).
OPERATIONS = [result.ok() for result in schema.get_all_operations()]

#: One pytest item per operation, named by it: schemathesis's own ``parametrize`` gives its
#: items one shared node id, which pytest-xdist reports as a single test.
FUZZ_SETTINGS = settings(
    database=None,
    deadline=None,
    derandomize=True,
    max_examples=MAX_EXAMPLES,
    # Generated cases only: the explicit phase adds schemathesis's coverage cases (every
    # boundary of every parameter), dozens per operation, beyond the time budget; a failure
    # is reported as found, since shrinking would cost minutes on this many operations.
    phases=[Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_answer_conforms_to_the_schema(operation: Any, world: ApiWorld) -> None:
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(hooks=schema.hooks))
    def every_role_gets_a_conforming_answer(case: Any) -> None:
        with _keep_test_connection():
            for role in ROLES:
                token = world.tokens[role]
                headers = {"Authorization": f"Token {token}"} if token else {}
                case.call_and_validate(headers=headers, checks=CHECKS)

    every_role_gets_a_conforming_answer()


# --- Integers beyond any column --------------------------------------------------------------

#: Beyond a 64-bit integer: PostgreSQL refuses it in an integer comparison where SQLite
#: and Python take it, so only a lookup that guards its range answers 404 on both.
HUGE = 10**20
#: The callers of the integer sweep: the public, the street office and an organization.
SWEEP_ROLES = ("anonymous", "official", "org_admin")


def _huge_integers(operation: Any, location: str) -> dict[str, Any]:
    """``HUGE`` for each integer parameter of ``operation`` in ``location``; any other
    required path parameter gets a plain value of its type."""
    values: dict[str, Any] = {}
    for parameter in operation.definition.raw.get("parameters", []):
        if parameter.get("in") != location:
            continue
        kind = parameter.get("schema", {})
        if kind.get("type") == "integer":
            values[parameter["name"]] = HUGE
        elif location == "path":
            is_uuid = kind.get("format") == "uuid"
            values[parameter["name"]] = (
                "00000000-0000-4000-8000-000000000000" if is_uuid else kind.get("enum", ["x"])[0]
            )
    return values


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_integers_beyond_any_column_are_answered_as_documented(operation, world: ApiWorld):
    """Every operation, with every integer path and query parameter at ``HUGE``: a
    documented answer (a 404 or a 400), never a database error."""
    case = operation.Case(
        path_parameters=_huge_integers(operation, "path"),
        query=_huge_integers(operation, "query"),
    )
    with _keep_test_connection():
        for role in SWEEP_ROLES:
            token = world.tokens[role]
            headers = {"Authorization": f"Token {token}"} if token else {}
            case.call_and_validate(headers=headers, checks=CHECKS)
