"""Object access: every route with an id, asked by every role for objects that are not
theirs and for ids nobody has.

Two rules, for every method a route accepts (GET, and POST/PUT/PATCH/DELETE where the view
takes them):

* A guessed id (a random integer or uuid, or a made-up token) finds nothing: no 2xx answer
  and nothing written (the audit log, which every write appends to, does not move).
* Someone else's object answers exactly as a missing one: the same status and the same
  body once the id is taken out, so that an answer never says "it exists, but it is not
  yours". The objects are the ones that belong to somebody before the opening: sealed bids,
  their documents and receipts (the bidder's), and tenders in draft or waiting for approval
  (the street office's and the auditors'), and a registration the registry has not
  verified yet (its own people's, the registry's and the auditors').

The routes come from the URL configuration (tests/reliability/access_support.py), so a new
route is covered without touching this file; a floor on the number of routes walked keeps a
broken walker from passing.
"""

from __future__ import annotations

import random
import re
import uuid

import pytest
from django.test import Client

from marketplace.models import AuditEvent
from tenders.models import Bid, BidDocument, BidReceipt
from tests.reliability.access_support import (
    ROLES,
    Route,
    World,
    body_of,
    client_as,
    fill,
    walk,
    without_ids,
    without_tokens,
)

GUESSES = 1000
ROUTE_FLOOR = 150
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Tenders whose pk is this route's id: ``tenders/<int:pk>/...`` and the nested API routes.
TENDER_ROUTE = re.compile(r"(^|/)tenders/<int:(pk|tender_pk)>/")
# Routes of one organization: ``organizations/<int:pk>/...`` and the nested API routes.
ORGANIZATION_ROUTE = re.compile(r"(^|/)organizations/<int:(pk|organization_pk)>/")
# Roles that do not see a registration before the registry verifies it (the registry and
# auditors do; so do its own people, who are none of these).
ORGANIZATION_OUTSIDERS = set(ROLES) - {"registry_admin", "auditor"}
# Routes whose answer to a made-up token is a page saying the link is not valid (200).
INVALID_LINK_PAGES = {"accounts/password/reset/<uidb64>/<token>/"}
# Roles that read a draft tender or one waiting for approval (DESIGN.md: the street office;
# auditors read everything).
INTERNAL_TENDER_READERS = {"official", "approver", "auditor"}


def id_routes() -> list[Route]:
    """Every route outside the admin site that names an object in its URL."""
    return [
        route
        for route in walk()
        if not route.is_admin and route.params and fill(route, [1], [str(uuid.UUID(int=1))])
    ]


def ask(client: Client, method: str, url: str):
    """One request; writes carry an empty body (the point is who may, not what)."""
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.generic(method, url, "{}", content_type="application/json")
    return client.generic(method, url, "", content_type="application/x-www-form-urlencoded")


def methods_of(route: Route) -> list[str]:
    return ["GET", *(m for m in WRITE_METHODS if m in route.methods())]


def answer(response, *ids: str) -> tuple[int, str, str]:
    """Status, body and redirect target with the asked ids taken out."""
    text = without_tokens(body_of(response).decode("utf-8", errors="replace"))
    location = response.get("Location", "") or ""
    return response.status_code, without_ids(text, *ids), without_ids(location, *ids)


def audit_count() -> int:
    return AuditEvent.objects.count()


# --- Guessed ids ---------------------------------------------------------------------------------


def guesses(table: list[Route]) -> list[tuple[Route, str, str, str]]:
    """``GUESSES`` (route, role, method, url) with random ids, spread over every route, role
    and method: each route is asked by each role at least once over the guesses and the
    rounds, and every write method a route takes is tried."""
    rng = random.Random(20270301)
    plan: list[tuple[Route, str, str]] = []
    for index, route in enumerate(table):
        for offset, method in enumerate(methods_of(route)):
            plan.append((route, ROLES[(index + offset) % len(ROLES)], method))
    count = max(GUESSES, len(plan))
    chosen = []
    for n in range(count):
        route, role, method = plan[n % len(plan)]
        if n >= len(plan):
            role = ROLES[(ROLES.index(role) + n // len(plan)) % len(ROLES)]
        ints = [rng.randrange(10**7, 2**31)]
        uuids = [str(uuid.UUID(int=rng.getrandbits(128), version=4))]
        named = {"token": [uuid.UUID(int=rng.getrandbits(128)).hex], "kind": ["tender_notice"]}
        urls = fill(route, ints, uuids, named)
        if urls:
            chosen.append((route, role, method, urls[0]))
    return chosen


def test_guessed_ids_find_nothing_and_change_nothing(world):
    table = id_routes()
    assert len(table) > ROUTE_FLOOR, "the walk reached the site's routes with ids"
    planned = guesses(table)
    assert len(planned) >= GUESSES
    clients = {role: client_as(world, role) for role in ROLES}
    before = audit_count()
    successes = []
    for route, role, method, url in planned:
        response = ask(clients[role], method, url)
        if route.pattern in INVALID_LINK_PAGES:
            # Django's page for a reset link that does not check out: it sets nothing.
            assert response.context["validlink"] is False, url
        elif 200 <= response.status_code < 300:
            successes.append((role, method, url, response.status_code))
    assert successes == [], "\n".join(map(str, successes))
    assert audit_count() == before
    assert {role for _r, role, _m, _u in planned} == set(ROLES)
    assert {route.pattern for route, *_rest in planned} == {route.pattern for route in table}


# --- Someone else's objects ------------------------------------------------------------------


def sealed_objects(world: World, role: str) -> dict[str, str]:
    """The sealed bid, its document and its receipt of an organization that is not the
    role's (the bidder's or the competitor's, in turn by role), on the closed tender."""
    if role.startswith(("bidder", "competitor")):
        key = "competitor" if role.startswith("bidder") else "bidder"
    else:
        key = ("bidder", "competitor")[ROLES.index(role) % 2]
    party = world.parties[key]
    bid = Bid.objects.get(organization_id=party.organization_pk, tender_id=world.tenders["closed"])
    return {
        "bid": str(bid.pk),
        "document": str(BidDocument.objects.filter(bid=bid).values_list("pk", flat=True).get()),
        "receipt": str(BidReceipt.objects.filter(bid=bid).values_list("pk", flat=True)[0]),
    }


def uuid_values(route: Route, objects: dict[str, str]) -> dict[str, list[str]]:
    """Which object each uuid of the route names: a receipt, a bid document, else a bid."""
    values = {}
    for converter, name in route.params:
        if converter != "uuid":
            continue
        if "receipt" in name:
            values[name] = [objects["receipt"]]
        elif "bid-documents/" in route.pattern:
            values[name] = [objects["document"]]
        else:
            values[name] = [objects["bid"]]
    return values


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def pairs(world: World, role: str, table: list[Route], rng: random.Random):
    """(route, URL of someone else's object, URL of a missing one, their ids) for the role.

    Sealed bids and their parts on every route with a uuid; a tender the role may not read
    (in draft or waiting for approval, in turn by role) on every tender route.
    """
    filler_int = 2_000_000_001
    objects = sealed_objects(world, role)
    for route in table:
        values = uuid_values(route, objects)
        if values:
            missing = {name: [random_uuid(rng)] for name in values}
            theirs = fill(route, [filler_int], [], values)
            nobodys = fill(route, [filler_int], [], missing)
            if theirs and nobodys:
                yield (
                    route,
                    theirs[0],
                    nobodys[0],
                    [v[0] for v in values.values()],
                    [v[0] for v in missing.values()],
                )
    if role in ORGANIZATION_OUTSIDERS:
        yield from organization_pairs(world, table, rng)
    if role in INTERNAL_TENDER_READERS:
        return
    internal = ("draft", "pending_approval")[ROLES.index(role) % 2]
    tender = str(world.tenders[internal])
    for route in table:
        if not TENDER_ROUTE.search(route.pattern):
            continue
        missing_pk = str(rng.randrange(10**7, 2**31))
        spare = [str(uuid.UUID(int=7))]
        theirs = fill(route, [tender], spare)
        nobodys = fill(route, [missing_pk], spare)
        if theirs and nobodys:
            yield route, theirs[0], nobodys[0], [tender], [missing_pk]


def organization_pairs(world: World, table: list[Route], rng: random.Random):
    """A registration the registry has not verified (and its staff member) on every route of
    one organization: to everyone but its own people, the registry and auditors, it does
    not exist."""
    party = world.parties["pending"]
    for route in table:
        if not ORGANIZATION_ROUTE.search(route.pattern):
            continue
        theirs = fill(route, [party.organization_pk], [], {"person_id": [str(party.person_pk)]})
        missing_org, missing_person = rng.randrange(10**7, 2**31), rng.randrange(10**7, 2**31)
        nobodys = fill(route, [missing_org], [], {"person_id": [str(missing_person)]})
        if theirs and nobodys:
            yield (
                route,
                theirs[0],
                nobodys[0],
                [str(party.organization_pk), str(party.person_pk)],
                [str(missing_org), str(missing_person)],
            )


@pytest.mark.parametrize("role", ROLES)
def test_someone_elses_object_answers_as_a_missing_one(world, role):
    table = id_routes()
    client = client_as(world, role)
    rng = random.Random(f"access|{role}")
    before = audit_count()
    compared = 0
    differences = []
    for route, private_url, missing_url, private, missing in pairs(world, role, table, rng):
        for method in methods_of(route):
            theirs = answer(ask(client, method, private_url), *private)
            nobodys = answer(ask(client, method, missing_url), *missing)
            compared += 1
            if theirs != nobodys:
                differences.append((method, private_url, theirs[0], nobodys[0], theirs[2]))
    assert differences == [], "\n".join(map(str, differences))
    assert audit_count() == before, "a request about someone else's object wrote something"
    assert compared > 30
