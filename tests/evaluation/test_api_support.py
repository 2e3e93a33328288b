"""Helpers for the evaluation and award API tests (no tests in here).

Clients speak English (``Accept-Language: en``) so that messages can be read; every error
answer has the CONTRACTS shape ``{"error", "detail", "fields"}``.

The API modules build their tenders once per module (``tests/conftest.py``: ``building``
inside ``module_database``) with ``build_personas``, ``build_pool`` and ``build_opened``,
record them in a ``Shared`` and hand each test an ``Evaluated`` re-read from the database.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.db.models import Max
from django.test import Client

from evaluation.models import Panel, PanelMember
from marketplace.models import AuditEvent, Role, User
from orgs_registry.models import Organization, ServiceCategory
from tenders.models import Bid, Tender
from tests.conftest import persona, persona_organization
from tests.evaluation.conftest import (
    POOL_SIZE,
    OpenedTender,
    active_members,
    make_assessor,
    open_tender,
)
from tests.tenders.conftest import Bidder, Clock, publish_tender

__all__ = [
    "BUILT_AT",
    "ENGLISH",
    "ERROR_KEYS",
    "PDF",
    "Evaluated",
    "Shared",
    "anonymous",
    "api",
    "build_opened",
    "build_personas",
    "build_pool",
    "delete",
    "events",
    "get",
    "is_error",
    "last_event",
    "patch",
    "post",
    "put",
]

ENGLISH = {"Accept-Language": "en"}
ERROR_KEYS = {"error", "detail", "fields"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def api(user: User) -> Client:
    """A client signed in as ``user`` (session authentication, like the browser's)."""
    client = Client(headers=ENGLISH)
    client.force_login(user)
    return client


def anonymous() -> Client:
    return Client(headers=ENGLISH)


def get(client: Client, url: str, data: dict[str, Any] | None = None):
    return client.get(url, data or {})


def post(client: Client, url: str, data: Any = None):
    return client.post(url, data if data is not None else {}, content_type="application/json")


def put(client: Client, url: str, data: Any):
    return client.put(url, data, content_type="application/json")


def patch(client: Client, url: str, data: Any):
    return client.patch(url, data, content_type="application/json")


def delete(client: Client, url: str):
    return client.delete(url)


def is_error(response, status: int, *fields: str) -> bool:
    """The CONTRACTS error shape with ``status``, naming each of ``fields``."""
    body = response.json()
    return (
        response.status_code == status
        and set(body) == ERROR_KEYS
        and all(name in body["fields"] for name in fields)
    )


def events(action: str, *, since: int = 0) -> list[AuditEvent]:
    """The audit events ``action`` recorded after the event numbered ``since``."""
    return list(AuditEvent.objects.filter(action=action, sequence__gt=since).order_by("sequence"))


def last_event() -> int:
    return AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0


# --- State built once per module ---------------------------------------------------------------

# The shared tenders are published at this moment and opened 25 days later.
BUILT_AT = datetime(2026, 8, 20, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def build_personas() -> None:
    """The personas the tests ask for, made once (their fixtures then reuse them).

    Not the ``assessor`` persona: an assessor joins the pool of every category, and the
    draws of the tests count on the pool being ``build_pool``'s twelve experts.
    """
    for username, role in [
        ("official", Role.OFFICIAL),
        ("second_official", Role.OFFICIAL),
        ("approver", Role.APPROVER),
        ("auditor", Role.AUDITOR),
        ("registry_admin", Role.REGISTRY_ADMIN),
    ]:
        persona(username, role)
    persona("org_admin", Role.ORG_ADMIN, persona_organization("阳光社会工作服务中心", "40000001"))
    unrelated = persona_organization("无关的社会团体", "40000099", category="1")
    persona("outsider", Role.ORG_MEMBER, unrelated)


def build_pool() -> list[User]:
    """The ``pool`` fixture's twelve experts for elderly care, each from a distinct agency."""
    category = ServiceCategory.objects.get(code="elderly_care")
    return [
        make_assessor(f"expert{i:02d}", agency=f"第{i}评估所", categories=[category])
        for i in range(POOL_SIZE)
    ]


def build_opened(clock: Clock, **overrides: Any) -> OpenedTender:
    """The ``opened`` fixture's tender (four qualified bids) through the real services."""
    official = persona("official", Role.OFFICIAL)
    return open_tender(
        make_tender=partial(
            publish_tender,
            official=official,
            approver=persona("approver", Role.APPROVER),
            category=ServiceCategory.objects.get(code="elderly_care"),
        ),
        clock=clock,
        official=official,
        second_official=persona("second_official", Role.OFFICIAL),
        **overrides,
    )


@dataclass
class Evaluated:
    """One shared tender re-read for one test: its bids and bidders, its panel (if any) with
    the active members, the pool, and ``events`` recorded by the test."""

    tender: Tender
    bidders: list[Bidder]
    bids: list[Bid]
    panel: Panel | None
    members: list[PanelMember]
    pool: list[User]
    since: int

    def events(self, action: str) -> list[AuditEvent]:
        """The audit events ``action`` recorded after the shared build (by the test)."""
        return events(action, since=self.since)


@dataclass
class Shared:
    """What a module built once: tenders (with panels) by name, the pool, where the clock
    was left and the last audit event of the build."""

    opened: dict[str, OpenedTender] = field(default_factory=dict)
    panels: dict[str, Panel] = field(default_factory=dict)
    pool: list[User] = field(default_factory=list)
    built_until: datetime | None = None
    last_event: int = 0

    def done(self, clock: Clock) -> Shared:
        self.built_until = clock.current
        self.last_event = last_event()
        return self

    def fresh_pool(self) -> list[User]:
        return [User.objects.get(pk=user.pk) for user in self.pool]

    def evaluated(self, name: str) -> Evaluated:
        """The tender ``name`` with every row re-read (the test's own Python objects)."""
        opened = self.opened[name]
        built = self.panels.get(name)
        panel = Panel.objects.get(pk=built.pk) if built else None
        return Evaluated(
            tender=Tender.objects.get(pk=opened.tender.pk),
            bidders=[
                Bidder(
                    organization=Organization.objects.get(pk=bidder.organization.pk),
                    admin=User.objects.get(pk=bidder.admin.pk),
                    member=User.objects.get(pk=bidder.member.pk),
                    staff_ids=list(bidder.staff_ids),
                )
                for bidder in opened.bidders
            ],
            bids=[Bid.objects.get(pk=bid.pk) for bid in opened.bids],
            panel=panel,
            members=active_members(panel) if panel else [],
            pool=self.fresh_pool(),
            since=self.last_event,
        )
