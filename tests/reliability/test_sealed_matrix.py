"""The sealed-bid matrix (DESIGN.md section 6): every route × every role × every tender state.

One street office is built once for the module with a tender in every state before the
opening (draft, waiting for approval, published, amended with a bid waiting for
confirmation, closed, opening confirmed by one official, cancelled with sealed bids) and
two just after it (opened; evaluating with a declared panel). The bidder and a competitor
bid on every sealed tender with values found nowhere else (prices, proposals, a staff
member, a document's name and bytes). The walk of tests/tenders/test_seal_crawl.py is
generalised: every URL pattern (pages, API, admin, exports read back from CSV and XLSX,
PDFs read with pypdf, OCDS, portal, statistics) is asked as each role, with ids of the
tender of a state that rotates with the route and the role, so that each route meets each
state. Before the opening only the bidder sees its values. A second walk (as a competitor,
the street office and an auditor) asks every list and every route of a tender taking bids,
submits one more sealed bid and asks again: a count of bids ("3 bids", numberOfTenderers)
or anything else that moves with a sealed bid fails. After the opening the street office,
auditors and the declared panel read the bids (and the public the opening record); the
public, competitors, the assessor pool, the registry and the site's superuser outside the
admin site do not read the proposals or the documents.
"""

from __future__ import annotations

import difflib
import re
import uuid
from datetime import datetime

import pytest
from django.test import Client

from marketplace.models import User
from reports.documents import registered_kinds
from reports.exports import export_names
from tenders.models import Bid, BidDocument, Tender
from tests.reliability.access_support import (
    OPENED_STATES,
    ROLES,
    SHANGHAI,
    STATES,
    Route,
    World,
    client_as,
    fill,
    found,
    marked,
    price_forms,
    response_text,
    sample,
    submit_marked_bid,
    walk,
    without_tokens,
)

# Who reads an opened bid's proposal, staff and documents (the price and the bidder are on
# the published opening record). The panel reads only its own tender's.
OPENED_READERS = {"official", "approver", "auditor"}

# Pages where an organization's name is its register entry, not a bid: the directory,
# profiles, the registry's work, grades and credit, and the admin site for the superuser.
REGISTER_PREFIXES = (
    "/organizations/",
    "/registry/",
    "/credit",
    "/grades/",
    "/change-requests/",
    "/credit-proposals/",
    "/funding/",
    "/api/v1/organizations/",
    "/api/v1/change-requests/",
    "/api/v1/credit-",
    "/api/v1/grades/",
    "/exports/organizations",
    "/exports/registrations",
    "/exports/grades",
    "/api/v1/exports/organizations",
    "/api/v1/exports/registrations",
    "/api/v1/exports/grades",
    "/admin/",
)
NAMED_PER_ROLE = 2
# The API's schema and its docs are made from the code, never from rows; generating them
# takes seconds, so two roles ask for them.
STATIC_ROUTES = {"api/schema/", "api/docs/"}
ROUTE_FLOOR = 300


# --- What each role must not see ---------------------------------------------------------------


def own_party(role: str) -> str | None:
    return role.rsplit("_", 1)[0] if role.startswith(("bidder_", "competitor_")) else None


def forbidden_markers(world: World, role: str, url: str) -> dict[str, list[str]]:
    """The values ``role`` must not find at ``url``.

    Sealed tenders: every value of every bid that is not the role's own organization's,
    and the bidders' names and codes outside the register's pages. Opened tenders: the
    proposal, documents and staff of their bids, except for their readers.
    """
    markers: dict[str, list[str]] = {}
    mine = own_party(role)
    for key in ("bidder", "competitor"):
        if key == mine:
            continue
        party = world.parties[key]
        for tender_pk, sealed in party.bids.items():
            for label, forms in sealed.markers().items():
                markers[f"{key} {label} (tender {tender_pk})"] = forms
        # The organization and its staff are on the register (its profile, its roster);
        # what is sealed is that they are on these bids.
        if not url.startswith(REGISTER_PREFIXES):
            markers[f"{key} name or code"] = [party.name, party.uscc]
            markers[f"{key} staff"] = [party.staff_name]
    admin_site = role == "superuser" and url.startswith("/admin/")
    if role not in OPENED_READERS and not admin_site:
        for state in OPENED_STATES:
            if state == "evaluating" and role == "assessor_panel":
                continue
            sealed = world.parties["p1"].bids[str(world.tenders[state])]
            markers[f"opened {state} proposal"] = [sealed.proposal]
            markers[f"opened {state} document"] = [sealed.document_name]
    return markers


def forbidden_bytes(world: World, role: str, url: str) -> list[bytes]:
    mine = own_party(role)
    values = [
        sealed.document_bytes
        for key in ("bidder", "competitor")
        if key != mine
        for sealed in world.parties[key].bids.values()
    ]
    if role not in OPENED_READERS and not (role == "superuser" and url.startswith("/admin/")):
        values += [
            world.parties["p1"].bids[str(world.tenders[state])].document_bytes
            for state in OPENED_STATES
            if not (state == "evaluating" and role == "assessor_panel")
        ]
    return values


# --- The walk ------------------------------------------------------------------------------------


def named_values() -> dict[str, list[str]]:
    return {
        "kind": registered_kinds(),
        "list_name": export_names(),
        "fmt": ["csv", "xlsx"],
    }


def urls_for(route: Route, world: World, role: str, state: str) -> list[str]:
    """The URLs of ``route`` asked as ``role`` for the tender of ``state``.

    The URLs made of the state's first ids (its tender, its bidder's bid) differ only in
    their named parts (an export's list and format, a document's kind): each role takes
    ``NAMED_PER_ROLE`` of them in turn, so the roles together ask them all. A route with a
    uuid (bids, their documents and receipts) also gets one URL with another of the
    state's uuids, drawn with a fixed seed.
    """
    ints, uuids = world.int_ids[state], world.uuid_ids[state] or [str(uuid.UUID(int=0))]
    named = named_values()
    primary = fill(route, ints[:1], uuids[:1], named)
    start = ROLES.index(role) * NAMED_PER_ROLE
    chosen = [primary[(start + i) % len(primary)] for i in range(NAMED_PER_ROLE)] if primary else []
    chosen = list(dict.fromkeys(chosen))
    if any(converter == "uuid" for converter, _name in route.params):
        others = [url for url in fill(route, ints, uuids, named) if url not in primary]
        chosen += sample(others, 1, seed=f"{role}|{route.pattern}")
    return chosen


def state_for(role: str, index: int) -> str:
    """The state a route is walked in for a role: rotating, so that each route meets every
    state across the roles (there are more roles than states)."""
    return STATES[(ROLES.index(role) + index) % len(STATES)]


def check(client: Client, world: World, role: str, url: str) -> tuple[int, str]:
    response = client.get(url)
    text, body = response_text(response)
    leaked = found(
        text, body, forbidden_markers(world, role, url), forbidden_bytes(world, role, url)
    )
    assert leaked == [], (role, url, response.status_code, leaked)
    return response.status_code, text


@pytest.mark.parametrize("role", ROLES)
def test_no_route_shows_a_sealed_value_to_anyone_but_the_bidder(world, role):
    client = client_as(world, role)
    table = walk()
    covered = 0
    states_met: set[str] = set()
    for index, route in enumerate(table):
        state = state_for(role, index)
        urls = urls_for(route, world, role, state)
        if route.pattern in STATIC_ROUTES and role not in ("anonymous", "superuser"):
            continue
        if route.is_admin and role != "superuser":
            # The admin site sends everyone else to its login page: one URL shows it.
            urls = urls[:1]
        for url in urls:
            check(client, world, role, url)
        covered += bool(urls)
        states_met.add(state)
    assert covered > ROUTE_FLOOR, "the walk reached the site's routes"
    assert states_met == set(STATES)


# --- Counting: one more sealed bid changes nothing anyone else sees --------------------------


def normalized(text: str) -> str:
    """The answer without its CSRF token and the wall-clock time a document was printed at
    (the scene runs on its own clock; only a template's ``now`` reads the real one)."""
    today = re.escape(f"{datetime.now(tz=SHANGHAI):%Y-%m-%d}")
    return re.sub(today + r"[ T]\d{2}:\d{2}(:\d{2})?", "<printed>", without_tokens(text))


def difference(before: str, after: str) -> list[str]:
    """The first lines that differ, to say what moved."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in lines if line[:1] in "+-"][2:8]


# The API's downloads of documents and exports are the pages' own code (reports.documents,
# reports.views_exports): comparing the pages' answers covers them, at half the renders.
API_TWINS = ("api/v1/documents/", "api/v1/^exports/")
# A competitor (who sees what the public sees and more), and those who read the most: the
# street office and auditors.
DIFF_ROLES = ("competitor_admin", "official", "auditor")


@pytest.mark.parametrize("role", DIFF_ROLES)
def test_one_more_sealed_bid_changes_no_answer(world, role):
    """Every list, and every route of a tender taking bids (published, or amended with a
    bid waiting for confirmation: one per role), answers the same before and after a new
    organization bids: no count, no "last bid at", nothing that moves with a bid."""
    client = client_as(world, role)
    state = ("published", "amended")[DIFF_ROLES.index(role) % 2]
    ints = world.int_ids[state]
    # The CSV of a list has the XLSX's rows: one format is enough to compare.
    named = {**named_values(), "fmt": ["csv"]}
    urls: list[str] = []
    for route in walk():
        if route.is_admin or route.pattern in STATIC_ROUTES or route.pattern.startswith(API_TWINS):
            continue
        urls += [url for url in fill(route, ints[:1], [], named) if url not in urls]
    before = {url: normalized(check(client, world, role, url)[1]) for url in urls}
    submit_marked_bid(
        Tender.objects.get(pk=world.tenders[state]),
        world.parties["late"],
        marked(state, 90, "44417", "迟"),
    )
    changed = {}
    for url in urls:
        after = normalized(check(client, world, role, url)[1])
        if after != before[url]:
            changed[url] = difference(before[url], after)
    assert changed == {}, changed
    assert len(urls) > 100


# --- After the opening: the right people read the bids -----------------------------------------


@pytest.mark.parametrize("role", ["official", "approver", "auditor", "p1_admin"])
def test_after_the_opening_the_street_office_auditors_and_the_bidder_read_the_bids(world, role):
    client = Client()
    if role == "p1_admin":
        client.force_login(User.objects.get(pk=world.parties["p1"].admin_pk))
    else:
        client = client_as(world, role)
    sealed = world.parties["p1"].bids[str(world.tenders["opened"])]
    bid = Bid.objects.get(
        tender_id=world.tenders["opened"], organization_id=world.parties["p1"].organization_pk
    )
    text, _body = response_text(client.get(f"/api/v1/bids/{bid.pk}/"))
    assert f"{sealed.price:.2f}" in text
    assert sealed.proposal in text
    document = BidDocument.objects.get(bid=bid)
    text, body = response_text(client.get(f"/api/v1/bid-documents/{document.pk}/download/"))
    assert body == sealed.document_bytes


def test_after_the_opening_the_opening_record_is_public(world):
    client = Client()
    tender = world.tenders["opened"]
    sealed = world.parties["p1"].bids[str(tender)]
    text, _body = response_text(client.get(f"/public/openings/{tender}/"))
    assert world.parties["p1"].name in text
    assert any(form in text for form in price_forms(sealed.price))
    pdf, _body = response_text(client.get(f"/reports/opening_record/{tender}.pdf"))
    assert world.parties["p1"].name in pdf


def test_the_declared_panel_member_reads_its_tenders_bids(world):
    client = client_as(world, "assessor_panel")
    tender = world.tenders["evaluating"]
    sealed = world.parties["p1"].bids[str(tender)]
    text, _body = response_text(client.get(f"/api/v1/tenders/{tender}/panel/bids/"))
    assert sealed.proposal in text or f"{sealed.price:.2f}" in text


@pytest.mark.parametrize("role", ["bidder_admin", "bidder_member"])
def test_the_bidder_sees_its_own_sealed_values(world, role):
    """A control: the markers are real and the walk would find them."""
    client = client_as(world, role)
    tender = world.tenders["closed"]
    sealed = world.parties["bidder"].bids[str(tender)]
    page, _body = response_text(client.get(f"/tenders/{tender}/bid/"))
    assert sealed.proposal in page
    assert sealed.document_name in page
    assert world.parties["bidder"].staff_name in page
    bid = Bid.objects.get(tender_id=tender, organization_id=world.parties["bidder"].organization_pk)
    api, _body = response_text(client.get(f"/api/v1/bids/{bid.pk}/"))
    assert f"{sealed.price:.2f}" in api
