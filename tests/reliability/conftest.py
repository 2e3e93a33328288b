"""Fixtures for the reliability suite: the tender and bidder fixtures of tests/tenders, and
the world of the access matrices (the sealed-bid and object-access tests).

Shared builders that are not fixtures live in ``tests/reliability/support.py``.
"""

from collections.abc import Iterator

import pytest

from tests.reliability.access_support import World, at_walk_time, world_built
from tests.tenders.conftest import (  # noqa: F401  (fixtures re-exported for this folder)
    bidders,
    category,
    clock,
    make_tender,
)


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Every role, organization, tender state and bid of the access matrices, built once a
    module (``access_support.world_built``)."""
    with world_built(django_db_blocker, tmp_path_factory) as built:
        yield built


@pytest.fixture
def world(world_once, db, settings, monkeypatch) -> World:
    """The matrices' world with the clock at its walk time."""
    return at_walk_time(world_once, settings, monkeypatch)
