"""After the opening, an assessor reads a tender's bids only as a declared panel member.

DESIGN 4.4: every member signs the conflict declaration before seeing the bids; an assessor
who is not on the panel has no business reading them at all.

The module builds once (each test rolls back to it) the pool and the opened tender without
a panel; the ``panel`` fixture forms it for the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenders import permissions
from tests.conftest import building, module_database
from tests.evaluation.conftest import active_members, declare_all, form_panel, make_assessor
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool and the opened tender, no panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        shared.opened["opened"] = build_opened(clock)
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db):
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The shared tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("opened")


@pytest.fixture
def panel(opened, official, pool):
    """The tender's panel: five members drawn from the pool, nobody declared."""
    return form_panel(opened.tender, official)


@pytest.fixture
def outside_assessor(db, category):
    return make_assessor("assessor_outside", agency="局外评估所", categories=[category])


def _api(client, bid) -> int:
    return client.get(f"/api/v1/bids/{bid.pk}/").status_code


def test_an_assessor_off_the_panel_cannot_read_or_list_the_bids(
    client_for, opened, panel, outside_assessor
):
    bid = opened.bids[0]
    assert not permissions.can_read_bid(outside_assessor, bid)
    assert not permissions.can_see_bids_of(outside_assessor, opened.tender)
    assert _api(client_for(outside_assessor), bid) == 404


def test_a_member_reads_the_bids_only_after_declaring(client_for, opened, panel):
    bid = opened.bids[0]
    member = active_members(panel)[0].user
    assert not permissions.can_read_bid(member, bid)
    assert _api(client_for(member), bid) == 404

    declare_all(panel)

    assert permissions.can_read_bid(member, bid)
    assert permissions.can_see_bids_of(member, opened.tender)
    response = client_for(member).get(f"/api/v1/bids/{bid.pk}/")
    assert response.status_code == 200
    assert response.json()["price"] is not None


def test_officials_and_auditors_read_opened_bids_without_a_panel(opened, official, auditor):
    bid = opened.bids[0]
    assert permissions.can_read_bid(official, bid)
    assert permissions.can_read_bid(auditor, bid)
