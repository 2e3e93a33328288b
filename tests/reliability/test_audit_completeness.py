"""Audit completeness: a seeded stream of random operations through the real services
(registry, tenders, bids, opening and review, panels, contracts), each checked against the
rows it changed.

For every operation the state of every object with a lifecycle (every model with a
``status`` field in the registry, tenders and evaluation apps) is read before and after:

- an operation that changed a state wrote exactly one event per object it moved, whose
  ``state_before`` and ``state_after`` are the states read (a change the log does not
  tell, or tells twice, fails);
- every event with a state points at a row whose state it names;
- a refused operation (a permission or rule refusal) changed nothing and wrote nothing;
- after the stream ``verify_audit`` passes; on PostgreSQL a database superuser's UPDATE or
  DELETE of one of the stream's events (the append-only trigger disabled, as
  ``tests/marketplace/test_audit.py``'s ``tamper`` does) is named by its sequence.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Max, Model
from django.http import Http404

from evaluation.models import MemberStatus, PanelMember
from evaluation.services.panels import panel_declare
from marketplace.models import AuditEvent, Role, User
from orgs_registry.identifiers import make_id_number, make_uscc
from orgs_registry.models import Organization, OrganizationStatus, ServiceCategory
from orgs_registry.services import StaffInput, organization_create, organization_verify, staff_add
from tenders import services
from tenders.models import Bid, BidStatus, Contract, Question, Tender, TenderStatus
from tenders.services import contracts as contract_services
from tests.conftest import building, module_database, persona
from tests.contract_support import DRAFT_DAY, supplier_admin
from tests.evaluation.conftest import form_panel
from tests.evaluation.test_api_support import build_personas, build_pool
from tests.marketplace.test_audit import tamper, verify
from tests.tenders.conftest import Bidder, make_bidder, tender_data
from tests.tenders.test_award import RANKED_AT, awarded_tender

SEED = 20261126
OPERATIONS = 90
TRACKED_APPS = ("orgs_registry", "tenders", "evaluation")


@functools.cache
def lifecycle_models() -> list[type[Model]]:
    """Every model of the tracked apps with a ``status`` field (its lifecycle)."""
    return [
        model
        for app in TRACKED_APPS
        for model in apps.get_app_config(app).get_models()
        if any(f.name == "status" for f in model._meta.concrete_fields)
    ]


Key = tuple[str, str]  # (object_type as the audit log writes it, object id)


def snapshot() -> dict[Key, str]:
    states: dict[Key, str] = {}
    for model in lifecycle_models():
        for pk, status in model.objects.values_list("pk", "status"):
            states[(model._meta.label_lower, str(pk))] = str(status)
    return states


def last_sequence() -> int:
    return AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0


class NothingToDo(Exception):
    """The operation found no object to act on: skipped, not counted."""


@dataclass
class Ledger:
    """What the stream did: operations run and refused, states moved, problems found."""

    performed: int = 0
    refused: int = 0
    skipped: int = 0
    moves: int = 0
    events: int = 0
    by_name: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refusals: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    problems: list[str] = field(default_factory=list)


def check_operation(name: str, run: Callable[[], Any], ledger: Ledger) -> None:
    """Run one operation and compare the events it wrote with the states it moved."""
    before, since = snapshot(), last_sequence()
    try:
        run()
    except NothingToDo:
        ledger.skipped += 1
        return
    except (ValidationError, PermissionDenied, Http404) as exc:
        ledger.refusals[name].append(str(exc)[:80])
        after = snapshot()
        written = AuditEvent.objects.filter(sequence__gt=since).count()
        ledger.refused += 1
        if written or after != before:
            ledger.problems.append(f"{name}: refused, yet wrote {written} events")
        return
    after = snapshot()
    events = list(AuditEvent.objects.filter(sequence__gt=since).order_by("sequence"))
    ledger.performed += 1
    ledger.by_name[name] += 1
    ledger.events += len(events)
    moved = {key: (before[key], state) for key, state in after.items() if key in before}
    moved = {key: pair for key, pair in moved.items() if pair[0] != pair[1]}
    ledger.moves += len(moved)
    telling: dict[Key, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.state_after:
            telling[(event.object_type, event.object_id)].append(event)
    for key, (old, new) in moved.items():
        told = telling.get(key, [])
        # One event per transition: an object that went through two (closed -> opened ->
        # failed) has two events that chain from the state read before to the one after.
        chain = [old] + [event.state_after for event in told]
        linked = all(
            event.state_before in ("", chain[i]) and event.state_after != chain[i]
            for i, event in enumerate(told)
        )
        if not told or chain[-1] != new or not linked:
            steps = [f"{e.state_before}->{e.state_after} ({e.action})" for e in told]
            ledger.problems.append(f"{name}: {key} moved {old} -> {new}; events {steps}")
    lifecycle_types = {model._meta.label_lower for model in lifecycle_models()}
    for key, told in telling.items():
        if key[0] not in lifecycle_types:
            continue  # an object without a lifecycle field (its state lives elsewhere)
        current = after.get(key)
        if current is None:
            ledger.problems.append(f"{name}: events about {key}, which does not exist")
        elif told[-1].state_after != current:
            ledger.problems.append(
                f"{name}: {key} is {current}; its event ({told[-1].action}) says "
                f"{told[-1].state_after}"
            )
        elif (
            key in before
            and key not in moved
            and any(e.state_before not in ("", current) for e in told)
        ):
            ledger.problems.append(
                f"{name}: {key} stayed {current}; {len(told)} events say it moved"
            )


# --- The world and the stream --------------------------------------------------------------


@dataclass
class World:
    bidders: list[Bidder]
    awarded: int


@pytest.fixture(scope="module")
def _streamed(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple[Ledger, int]]:
    """The stream, run once for the module on top of an awarded tender and four bidders
    (each test rolls back to its end): the ledger and the last event before it."""
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        build_personas()
        build_pool()
        ranked = awarded_tender(clock)
        bidders = [make_bidder(f"审计流机构{i}") for i in range(4)]
        clock.set(DRAFT_DAY)
        since = last_sequence()
        ledger = run_stream(World(bidders=bidders, awarded=ranked.tender.pk), clock)
        yield ledger, since


class Stream:
    """Random operations over the world; each picks its targets with the seeded ``rng``."""

    def __init__(self, world: World, clock: Any, rng: random.Random) -> None:
        self.world = world
        self.clock = clock
        self.rng = rng
        self.official = persona("official", Role.OFFICIAL)
        self.second_official = persona("second_official", Role.OFFICIAL)
        self.approver = persona("approver", Role.APPROVER)
        self.registry_admin = persona("registry_admin", Role.REGISTRY_ADMIN)
        self.category = ServiceCategory.objects.get(code="elderly_care")
        self.serial = 0

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _pick(self, rows: list[Any]) -> Any:
        if not rows:
            raise NothingToDo
        return self.rng.choice(rows)

    def _bidder(self) -> Bidder:
        return self.rng.choice(self.world.bidders)

    def _tenders(self, *states: str) -> list[Tender]:
        rows = Tender.objects.exclude(pk=self.world.awarded).order_by("pk")
        return list(rows.filter(status__in=states) if states else rows)

    # Registry
    def org_create(self) -> None:
        n = self._next()
        organization_create(
            name=f"随机社会组织{n}",
            uscc=make_uscc(authority="5", category="2", region="500103", org_body=f"7{n:07d}"),
            actor=self.registry_admin,
            verified=self.rng.random() < 0.5,
        )

    def org_verify(self) -> None:
        pending = list(Organization.objects.filter(status=OrganizationStatus.PENDING))
        organization_verify(organization=self._pick(pending), actor=self.registry_admin)

    def staff_add(self) -> None:
        bidder, n = self._bidder(), self._next()
        staff_add(
            organization=bidder.organization,
            actor=bidder.admin,
            data=StaffInput(
                name=f"随机员工{n}",
                id_number=make_id_number(
                    region="500103",
                    born=date(1970 + n % 30, 1 + n % 12, 1 + n % 28),
                    sequence=n,
                    male=bool(n % 2),
                ),
                role="社工",
                start_date=date(2025, 1, 1),
            ),
        )

    # Tenders
    def tender_create(self) -> None:
        if len(self._tenders()) >= 3:
            raise NothingToDo  # few tenders, so that bids gather on each
        data = tender_data(self.category, self.clock.current, title=f"随机项目{self._next()}")
        services.tender_create(actor=self.official, **data)

    def tender_update(self) -> None:
        tender = self._pick(self._tenders())
        services.tender_update(tender=tender, actor=self.official, title=f"改名{self._next()}")

    def tender_publish(self) -> None:
        tender = self._pick(self._tenders(TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL))
        actor = self.approver if tender.status == TenderStatus.PENDING_APPROVAL else self.official
        if self.rng.random() < 0.15:
            actor = self.rng.choice([self.official, self.approver])  # sometimes the wrong one
        services.tender_publish(tender=tender, actor=actor)

    def question_ask(self) -> None:
        tender = self._pick(self._tenders(TenderStatus.PUBLISHED))
        services.question_ask(
            tender=tender, actor=self._bidder().member, text="服务范围包括哪些社区？"
        )

    def question_answer(self) -> None:
        questions = list(Question.objects.filter(answer="").order_by("pk"))
        services.question_answer(
            question=self._pick(questions), actor=self.official, answer="全部社区。"
        )

    # Bids
    def bid_prepare(self) -> None:
        tender, bidder = self._pick(self._tenders(TenderStatus.PUBLISHED)), self._bidder()
        services.bid_prepare(
            tender=tender,
            actor=bidder.admin,
            price=Decimal(self.rng.randrange(380_000, 500_000, 1000)),
            staff=[{"person": bidder.staff_ids[0], "role": "社工", "fte": "0.5"}],
            proposal="每周上门两次。",
        )

    def _bid(self, *states: str) -> Bid:
        bids = Bid.objects.filter(status__in=states).exclude(tender_id=self.world.awarded)
        return self._pick(list(bids.order_by("pk")))

    def _admin_of(self, bid: Bid) -> User:
        return next(b.admin for b in self.world.bidders if b.organization.pk == bid.organization_id)

    def bid_submit(self) -> None:
        bid = self._bid(BidStatus.DRAFT)
        services.bid_submit(bid=bid, actor=self._admin_of(bid))

    def bid_withdraw(self) -> None:
        bid = self._bid(BidStatus.SUBMITTED)
        services.bid_withdraw(bid=bid, actor=self._admin_of(bid))

    def bid_reopen(self) -> None:
        bid = self._bid(BidStatus.WITHDRAWN)
        services.bid_reopen(bid=bid, actor=self._admin_of(bid))

    # Opening, review, panels (after the deadlines)
    def tender_open(self) -> None:
        tender = self._pick(self._tenders(TenderStatus.PUBLISHED, TenderStatus.CLOSED))
        actor = self.rng.choice([self.official, self.second_official])
        services.tender_open(tender=tender, actor=actor)

    def bid_review(self) -> None:
        # The oldest tender's bids first, so that some tender gets every bid reviewed.
        waiting = Bid.objects.filter(status=BidStatus.OPENED, tender__status=TenderStatus.OPENED)
        bid = waiting.order_by("tender_id", "pk").first()
        bid = self._pick([bid] if bid else [])
        qualified = self.rng.random() < 0.8
        services.bid_review(
            bid=bid, actor=self.official, qualified=qualified, reason="" if qualified else "缺资质"
        )

    def panel_form(self) -> None:
        tender = self._pick(self._tenders(TenderStatus.OPENED))
        form_panel(tender, self.official)

    def panel_declare(self) -> None:
        members = PanelMember.objects.filter(status=MemberStatus.ASSIGNED).select_related("user")
        member = self._pick(list(members.order_by("pk")))
        panel_declare(member=member, actor=member.user, conflict=False, statement="无利害关系。")

    # Contracts (the world's awarded tender)
    def contract_draft(self) -> None:
        tender = Tender.objects.get(pk=self.world.awarded)
        contract_services.contract_draft(tender=tender, actor=self.official)

    def contract_sign(self) -> None:
        contract = self._pick(list(Contract.objects.all()))
        actor = self.rng.choice([self.official, supplier_admin(contract)])
        contract_services.contract_sign(contract=contract, actor=actor)

    def clock_passes(self) -> None:
        """Time passes; nothing may be written for it."""
        self.clock.advance(hours=self.rng.randrange(1, 30))


BEFORE_DEADLINES = [
    ("org_create", 2),
    ("org_verify", 1),
    ("staff_add", 2),
    ("tender_create", 3),
    ("tender_update", 2),
    ("tender_publish", 5),
    ("question_ask", 2),
    ("question_answer", 2),
    ("bid_prepare", 9),
    ("bid_submit", 7),
    ("bid_withdraw", 1),
    ("bid_reopen", 1),
    ("contract_draft", 1),
    ("contract_sign", 2),
    ("clock_passes", 1),
]
AFTER_DEADLINES = [
    ("org_create", 1),
    ("staff_add", 1),
    ("tender_open", 4),
    ("bid_review", 5),
    ("panel_form", 2),
    ("panel_declare", 4),
    ("bid_submit", 1),  # too late: refused
    ("clock_passes", 1),
]


def run_stream(world: World, clock: Any) -> Ledger:
    """Before the deadlines, then after them: each step draws an operation by weight and
    draws again (up to five times) when the drawn one finds nothing to act on."""
    rng = random.Random(SEED)
    stream, ledger = Stream(world, clock, rng), Ledger()
    for phase, count in [
        (BEFORE_DEADLINES, OPERATIONS * 2 // 3),
        (AFTER_DEADLINES, OPERATIONS // 3),
    ]:
        names = [name for name, _ in phase]
        weights = [weight for _, weight in phase]
        for _step in range(count):
            for _draw in range(5):
                skipped = ledger.skipped
                name = rng.choices(names, weights)[0]
                check_operation(name, getattr(stream, name), ledger)
                if ledger.skipped == skipped:
                    break
        # Every deadline of the stream's tenders passes.
        deadlines = Tender.objects.aggregate(last=Max("bid_deadline"))["last"]
        clock.set(max(clock.current, deadlines) + timedelta(minutes=1))
    return ledger


@pytest.fixture
def streamed(_streamed, db) -> tuple[Ledger, int]:
    return _streamed


def test_every_state_change_of_the_stream_has_exactly_one_matching_event(streamed):
    ledger, since = streamed
    assert not ledger.problems, "\n".join(ledger.problems)
    # The stream did real work across the apps, not only refusals.
    assert ledger.performed >= 40, (ledger.performed, dict(ledger.by_name))
    assert ledger.refused >= 5, dict(ledger.refusals)
    assert ledger.moves >= 20, ledger.moves
    for name in ["org_create", "tender_publish", "bid_submit", "tender_open", "bid_review"]:
        assert ledger.by_name[name] >= 1, (name, dict(ledger.by_name))
    assert ledger.events == last_sequence() - since
    code, output = verify()
    assert code == 0, output
    assert f"{last_sequence()} events" in output


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("UPDATE marketplace_auditevent SET details = '{}'::jsonb WHERE sequence = %s", "changed"),
        ("DELETE FROM marketplace_auditevent WHERE sequence = %s", "deleted"),
    ],
    ids=["update", "delete"],
)
def test_a_superusers_edit_of_a_stream_event_is_named_by_verify_audit(streamed, sql, says):
    _ledger, since = streamed
    target = since + (last_sequence() - since) // 2  # an event in the middle of the stream
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of the test's transaction would forbid ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    tamper(sql, [target])
    code, message = verify()
    assert code == 1
    assert f"broken at event {target}" in message
    assert says in message
