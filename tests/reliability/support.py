"""Builders for the reliability suite: crowds of bidders and drafts made in bulk, and
threads that fire requests together.

Concurrency tests need hundreds of organizations and drafts; making each through the
services costs a transaction and an audit event apiece (~30 ms), which would dominate the
test. Here the first of a kind goes through the services and the rest are copies of its
rows with their own names, codes and prices, so they stay what the services make.

Every worker thread has its own database connection and closes it when it ends (the
server allows 100 connections, shared by everything running): pools are bounded.
"""

from __future__ import annotations

import copy
import statistics
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Generic, TypeVar

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.client import ClientHandler
from django.urls import resolve
from django.utils import timezone
from django.utils.crypto import get_random_string

from marketplace.models import Role, User
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import Organization
from tenders import sealing, services
from tenders.models import Bid, BidDocument, Tender
from tests.conftest import make_organization, make_user

# A plain one-page PDF: what a bidder attaches.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# Threads racing at once by default: each holds a database connection, and CI runs a test
# file per core against one server that allows 100 connections in all.
MAX_WORKERS = 16

T = TypeVar("T")


# --- Bidders and drafts in bulk --------------------------------------------------------------


def bulk_bidders(count: int, *, body_prefix: str) -> list[User]:
    """The administrators of ``count`` distinct verified organizations.

    ``body_prefix`` (one or two digits) keeps the registration codes apart from other
    builders'. The first organization and administrator are made by the services; the
    others copy their rows.
    """
    width = 8 - len(body_prefix)
    first_org = make_organization("可靠性机构0", f"{body_prefix}{0:0{width}d}")
    first = make_user(f"rel{body_prefix}_0", Role.ORG_ADMIN, first_org)
    organizations = [first_org]
    for number in range(1, count):
        organization = copy.copy(first_org)
        organization.pk = None
        organization.name = f"可靠性机构{number}"
        organization.uscc = make_uscc(
            authority="5",
            category="2",
            region="500103",
            org_body=f"{body_prefix}{number:0{width}d}",
        )
        organizations.append(organization)
    Organization.objects.bulk_create(organizations[1:])
    users = [first]
    for number, organization in enumerate(organizations[1:], start=1):
        user = copy.copy(first)
        user.pk = None
        user.username = f"rel{body_prefix}_{number}"
        user.email = f"{user.username}@example.cn"
        user.full_name = user.username.title()
        user.organization = organization
        users.append(user)
    User.objects.bulk_create(users[1:])
    return users


def bulk_drafts(tender: Tender, admins: Sequence[User], *, first_price: int) -> list[Bid]:
    """One draft per administrator's organization: a price, a proposal and a PDF.

    The first draft is prepared through ``bid_prepare`` and ``bid_document_add``; the
    others copy it (their own price, sealed afresh, and their own stored document file).
    Prices count up from ``first_price``, all under the budget.
    """
    template = services.bid_prepare(
        tender=tender,
        actor=admins[0],
        price=Decimal(first_price),
        proposal="服务方案：每周上门两次。",
    )
    document = services.bid_document_add(
        bid=template,
        actor=admins[0],
        upload=SimpleUploadedFile("方案.pdf", PDF, content_type="application/pdf"),
        kind="technical",
    )
    with document.file.open("rb") as handle:
        sealed_file = handle.read()
    content = sealing.unseal_json(template.sealed)
    bids = [template]
    for number, admin in enumerate(admins[1:], start=1):
        content["price"] = str(Decimal(first_price + number).quantize(Decimal("0.01")))
        bids.append(
            Bid(
                tender=tender,
                organization_id=admin.organization_id,
                created_by=admin,
                sealed=sealing.seal_json(content),
            )
        )
    Bid.objects.bulk_create(bids[1:])
    copies = []
    for bid in bids[1:]:
        clone = copy.copy(document)
        clone.pk = uuid.uuid4()
        clone.bid = bid
        clone.storage_key = uuid.uuid4().hex
        # A name, not the template's FieldFile (copied by reference).
        clone.file = default_storage.save(
            f"bids/{tender.pk}/{bid.pk}/{clone.storage_key}", ContentFile(sealed_file)
        )
        copies.append(clone)
    BidDocument.objects.bulk_create(copies)
    return bids


def session_keys(users: Sequence[User]) -> dict[int, str]:
    """A signed-in session for each user, by user id: what ``login`` stores, in bulk.

    ``Client.force_login`` also records the sign-in in the audit log, ~100 ms a user on a
    busy machine; organization accounts need nothing more than the session (no second
    factor). Requests send the key with ``act_as``.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    model = store_class.get_model_class()  # the database-backed engines
    store = store_class()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    sessions = [
        model(
            session_key=get_random_string(32, VALID_KEY_CHARS),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expires,
        )
        for user in users
    ]
    model.objects.bulk_create(sessions)
    return {user.pk: session.session_key for user, session in zip(users, sessions, strict=True)}


def act_as(client: Client, session_key: str) -> Client:
    """Make ``client``'s next requests carry only the given session (see ``session_keys``)."""
    client.cookies = SimpleCookie({settings.SESSION_COOKIE_NAME: session_key})
    return client


def shared_client(handler: ClientHandler) -> Client:
    """A client on the shared ``handler`` (``warm_handler``)."""
    client = Client()
    client.handler = handler
    return client


def client_as(handler: ClientHandler, session_key: str) -> Client:
    """A client on the shared ``handler`` signed in with the session."""
    return act_as(shared_client(handler), session_key)


# --- Threads ---------------------------------------------------------------------------------


def warm_handler() -> ClientHandler:
    """One request handler with its middleware loaded, for every worker's client to share.

    A server shares one handler between its threads too; loading the middleware costs
    ~30 ms (whitenoise lists the static files), which each fresh client would pay on its
    first request, and resolving the first URL imports every URLconf.
    """
    handler = ClientHandler(enforce_csrf_checks=False)
    handler.load_middleware()
    resolve("/")
    return handler


def run_threads(targets: Sequence[Callable[[], None]]) -> None:
    """Run each target in its own thread and wait for all of them."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Outcome(Generic[T]):
    """What one of the racing calls returned or raised."""

    value: T | None = None
    error: Exception | None = None


@dataclass
class Race(Generic[T]):
    """The outcomes of ``together``, in call order."""

    outcomes: list[Outcome[T]] = field(default_factory=list)

    @property
    def values(self) -> list[T]:
        return [o.value for o in self.outcomes if o.error is None and o.value is not None]

    def errors(self, *allowed: type[Exception]) -> list[Exception]:
        """The exceptions that are not of the ``allowed`` (clean refusal) types."""
        return [
            o.error
            for o in self.outcomes
            if o.error is not None and not isinstance(o.error, allowed)
        ]


def together(calls: Sequence[Callable[[], T]], *, workers: int = MAX_WORKERS) -> Race[T]:
    """Run ``calls`` in parallel: ``workers`` threads start on a barrier, then each runs
    its share of the calls back to back, each thread on its own database connection."""
    count = min(workers, len(calls))
    barrier = threading.Barrier(count)
    outcomes: list[Outcome[T]] = [Outcome() for _ in calls]

    def work(first: int) -> None:
        try:
            barrier.wait()
            for index in range(first, len(calls), count):
                try:
                    outcomes[index].value = calls[index]()
                except Exception as exc:  # kept for the test to judge
                    outcomes[index].error = exc
        finally:
            connection.close()

    run_threads([lambda first=first: work(first) for first in range(count)])
    return Race(outcomes)


# --- Figures ---------------------------------------------------------------------------------


def latency_summary(seconds: Sequence[float]) -> str:
    """p50, p99 and the maximum in milliseconds (printed for the benchmark record)."""
    if not seconds:
        return "no samples"
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"n={len(ordered)} p50={statistics.median(ordered) * 1000:.0f} ms "
        f"p99={p99 * 1000:.0f} ms max={ordered[-1] * 1000:.0f} ms"
    )
