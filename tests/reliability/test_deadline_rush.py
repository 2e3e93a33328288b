"""The deadline rush, through gunicorn, the pages and the API a bidder uses, on PostgreSQL.

DESIGN.md section 6: the server's clock, read under the tender's row lock, decides whether a
submission is in time. Here 20 tenders close one after another, and for each of them 500
organizations submit their prepared drafts at instants spread evenly from 5 seconds before
the deadline to 1 second after it: half through the bid page (with the bidder's session
and CSRF token), half through the API (with the bidder's token). The application runs as
deployed, in gunicorn worker processes on the test database, and the requests leave one
event loop at their instants, each on a connection of its own. Every submission must end
either stored with exactly one receipt and one audit event, received before the deadline,
or refused cleanly with the message that it came after the deadline: never a server error,
never lost, never accepted late.

The rounds follow one another: a round asks for its 500 submissions within 6 seconds
whatever the machine, and the next one starts once every submission of this one has its
answer (a slower machine queues more of each round and refuses more as late, which is what
the test checks, but never piles one round onto the next). It is one of the conftest's
``LONG_FILES``: handed out first, so that it runs beside the rest of the suite.
"""

from __future__ import annotations

import asyncio
import gc
import html
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from marketplace.audit import audit_verify
from marketplace.models import AuditAction, AuditEvent, User
from tenders.models import Bid, BidReceipt, BidStatus, Tender
from tests.gunicorn_server import Server, database_url, gunicorn, inherited_environment
from tests.reliability.support import bulk_bidders, bulk_drafts, latency_summary, session_keys

pytestmark = pytest.mark.postgresql

ROUNDS = 20
PER_ROUND = 500  # organizations, each submitting to every tender
BEFORE = 5.0  # seconds of submissions before each deadline
AFTER = 1.0  # and after it
LEAD = 1.0  # from a round's schedule to its first submission
SERVER_WORKERS = 4  # as the README deploys on 2 cores
WARM = 16  # submissions to another tender that load every worker's submission path first

# The service's refusal (tenders.services._receive), in whatever language the answer is in.
LATE_MESSAGE = "Received at %(time)s, after the deadline of %(deadline)s: not accepted."


@dataclass
class Shot:
    """One submission: what to send, when, and what came back."""

    bid: Bid
    round_index: int
    api: bool
    at: float  # time.time() of the instant to send it
    headers: dict[str, str]
    url: str
    fired_at: datetime | None = None
    answered_at: datetime | None = None
    latency: float = 0.0
    status: int = 0
    location: str = ""
    language: str = ""
    content_type: str = ""
    body: str = ""
    error: str = ""


@dataclass(frozen=True)
class Answer:
    """What one submission got: accepted with a receipt, refused as late, or anything else."""

    kind: Literal["accepted", "late", "other"]
    receipt: BidReceipt | None = None
    server_time: datetime | None = None
    detail: str = ""


# --- The server ------------------------------------------------------------------------------


@pytest.fixture
def rush_server(settings, tmp_path) -> Iterator[Server]:
    """gunicorn on this test's database (the test is transactional: what it writes is
    committed and the workers see it) and its media folder; its log (a warning for each
    late submission refused) goes to ``gunicorn.log`` in the test's temporary folder."""
    env = inherited_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        # One bidder submits once a tender; the per-user API rate is not what is tested.
        THROTTLE_USER="1000000/minute",
    )
    with gunicorn(env, workers=SERVER_WORKERS, log=tmp_path / "gunicorn.log") as server:
        yield server


# --- Building the submissions ----------------------------------------------------------------


@dataclass(frozen=True)
class Bidders:
    """The organizations' administrators with an API token and a signed-in session each."""

    admins: list[User]
    tokens: dict[int, str]
    sessions: dict[int, str]

    def shot(self, server: Server, number: int, bid: Bid, round_index: int, at: float) -> Shot:
        """The ``number``th bidder's submission of ``bid``: half the bidders (alternating
        by round) use the API, the others the page."""
        api = bool((number + round_index) % 2)
        credential = (self.tokens if api else self.sessions)[self.admins[number].pk]
        return _shot(server, bid, round_index, at, api=api, credential=credential)


def _bidders(count: int) -> Bidders:
    admins = bulk_bidders(count, body_prefix="61")
    tokens = [Token(user=user, key=Token.generate_key()) for user in admins]
    Token.objects.bulk_create(tokens)
    return Bidders(
        admins=admins,
        tokens={token.user_id: token.key for token in tokens},
        sessions=session_keys(admins),
    )


def _shot(
    server: Server, bid: Bid, round_index: int, at: float, *, api: bool, credential: str
) -> Shot:
    if api:
        return Shot(
            bid=bid,
            round_index=round_index,
            api=True,
            at=at,
            url=f"{server.base}/api/v1/bids/{bid.pk}/submit/",
            headers={"Authorization": f"Token {credential}"},
        )
    csrf = secrets.token_hex(16)  # a 32-character secret, as the cookie would hold
    return Shot(
        bid=bid,
        round_index=round_index,
        api=False,
        at=at,
        url=server.base + reverse("tenders:bid_submit", args=[bid.pk]),
        headers={
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={credential}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "X-CSRFToken": csrf,
        },
    )


async def _send(session: Any, shot: Shot) -> None:
    pause = shot.at - time.time()
    if pause > 0:
        await asyncio.sleep(pause)
    shot.fired_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        async with session.post(shot.url, headers=shot.headers, allow_redirects=False) as answer:
            shot.body = await answer.text()
            shot.status = answer.status
            shot.location = answer.headers.get("Location", "")
            shot.language = answer.headers.get("Content-Language", settings.LANGUAGE_CODE)
            shot.content_type = answer.headers.get("Content-Type", "")
    except Exception as exc:  # recorded and asserted on by the test
        shot.error = repr(exc)
    shot.latency = time.perf_counter() - started
    shot.answered_at = datetime.now(UTC)


async def _send_all(shots: Sequence[Shot]) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        await asyncio.gather(*(_send(session, shot) for shot in shots))


def fire(shots: Sequence[Shot]) -> None:
    """Send every shot at its instant from one event loop (the client's garbage collector
    is held off meanwhile: its pauses would stop the loop and delay the sends)."""
    gc.collect()
    gc.disable()
    try:
        asyncio.run(_send_all(shots))
    finally:
        gc.enable()


def _warm(server: Server, make_tender, bidders: Bidders) -> None:
    """WARM submissions to a tender of their own, sent at once: every worker process
    imports and prepares the submission path (a server that has run all day has)."""
    admins = bidders.admins[:WARM]
    bids = bulk_drafts(make_tender(title="预热项目"), admins, first_price=300000)
    shots = [bidders.shot(server, number, bid, 0, 0.0) for number, bid in enumerate(bids)]
    fire(shots)
    assert [(s.status, s.error) for s in shots if s.status not in (200, 302)] == []


# --- Reading the answers ---------------------------------------------------------------------


def _late_pattern(language: str) -> re.Pattern[str]:
    with translation.override(language):
        text = gettext(LATE_MESSAGE)
    pattern = re.escape(text)
    for name in ("time", "deadline"):
        pattern = pattern.replace(re.escape(f"%({name})s"), rf"(?P<{name}>[0-9][0-9 :.-]+[0-9])")
    return re.compile(pattern)


def _late(text: str, language: str) -> Answer | None:
    match = _late_pattern(language).search(text)
    if match is None:
        return None
    # The message shows the local time of the site's time zone.
    local = f"{match['time']} {timezone.localtime(timezone.now()).strftime('%z')}"
    server_time = datetime.strptime(local, "%Y-%m-%d %H:%M:%S.%f %z")
    return Answer("late", server_time=server_time, detail=match[0])


def _read(shot: Shot, receipts: dict[Any, BidReceipt]) -> Answer:
    """The page: a redirect to the receipt, or the bid page naming the refusal. The API:
    200 with the receipt, or 400 whose detail names the refusal."""
    if shot.error:
        return Answer("other", detail=shot.error)
    if shot.api:
        body = _json(shot.body) if shot.content_type.startswith("application/json") else {}
        if shot.status == 200 and body.get("receipt"):
            receipt = receipts.get(("sequence", body["receipt"]["sequence"]))
            if receipt is not None:
                return Answer("accepted", receipt=receipt, server_time=receipt.received_at)
        if shot.status == 400:
            late = _late(str(body.get("detail", "")), shot.language)
            if late is not None:
                return late
        return Answer("other", detail=f"api {shot.status} {shot.body[:300]!r}")
    if shot.status == 302:
        match = resolve(urlparse(shot.location).path)
        if match.url_name == "receipt":
            receipt = receipts.get(match.kwargs["receipt_pk"])
            if receipt is not None:
                return Answer("accepted", receipt=receipt, server_time=receipt.received_at)
    if shot.status == 200:
        late = _late(html.unescape(shot.body), shot.language)
        if late is not None:
            return late
    return Answer("other", detail=f"page {shot.status} {shot.body[:300]!r}")


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- The test --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deadline_rush_loses_nothing_and_accepts_nothing_late(make_tender, rush_server):
    bidders = _bidders(PER_ROUND)
    tenders = [make_tender(title=f"冲刺项目{r}") for r in range(ROUNDS)]
    drafts = [bulk_drafts(tender, bidders.admins, first_price=300000) for tender in tenders]
    _warm(rush_server, make_tender, bidders)

    # One round after another: each tender's deadline is set (test set-up only: publication
    # needs 20 days ahead) just before its window opens, and the next round starts once
    # every submission of this one has its answer, so a slow machine queues within a round
    # but never piles one round onto the next.
    deadlines = []
    shots: list[Shot] = []
    started = time.perf_counter()
    for r, tender in enumerate(tenders):
        now = timezone.now()
        deadline = now + timedelta(seconds=LEAD + BEFORE)
        Tender.objects.filter(pk=tender.pk).update(
            bid_deadline=deadline, question_deadline=deadline - timedelta(days=1)
        )
        deadlines.append(deadline)
        round_shots = [
            bidders.shot(
                rush_server,
                number,
                bid,
                r,
                deadline.timestamp() - BEFORE + (BEFORE + AFTER) * (number + 0.5) / PER_ROUND,
            )
            for number, bid in enumerate(drafts[r])
        ]
        fire(round_shots)
        shots.extend(round_shots)
    elapsed = time.perf_counter() - started

    in_rush = {"bid__tender__in": tenders}
    stored_receipts = list(BidReceipt.objects.filter(**in_rush))
    by_key: dict[Any, BidReceipt] = {r.pk: r for r in stored_receipts}
    by_key.update({("sequence", r.sequence): r for r in stored_receipts})
    answers = [_read(shot, by_key) for shot in shots]
    kinds = Counter(a.kind for a in answers)
    accepted = [s.latency for s, a in zip(shots, answers, strict=True) if a.kind == "accepted"]
    print(  # noqa: T201  (the figures, for the record; not asserted)
        f"\nrush: {len(shots)} submissions, {PER_ROUND} to each of {ROUNDS} tenders one "
        f"after another in {elapsed:.0f} s (accepted {kinds['accepted']}, refused late "
        f"{kinds['late']}); "
        f"all {latency_summary([s.latency for s in shots])}; accepted "
        f"{latency_summary(accepted)}; "
        f"worst send lag {max(s.fired_at.timestamp() - s.at for s in shots) * 1000:.0f} ms"
    )

    # 0 server errors, 0 unexplained answers.
    assert [a.detail for a in answers if a.kind == "other"] == []
    assert kinds["accepted"], "the submissions well before the deadlines are in"
    assert kinds["late"], "the submissions after the deadlines are out"
    stored = {
        bid.pk: bid
        for bid in Bid.objects.filter(tender__in=tenders).only("pk", "status", "submitted_at")
    }
    submitted_events = Counter(
        AuditEvent.objects.filter(action=AuditAction.BID_SUBMITTED).values_list(
            "object_id", flat=True
        )
    )
    receipts = Counter(r.bid_id for r in stored_receipts)
    for shot, answer in zip(shots, answers, strict=True):
        deadline = deadlines[shot.round_index]
        bid = stored[shot.bid.pk]
        assert shot.fired_at <= answer.server_time <= shot.answered_at, (shot, answer)
        if answer.kind == "accepted":
            # 0 accepted late; exactly one submission, receipt and audit event.
            assert answer.receipt.bid_id == bid.pk
            assert answer.receipt.received_at < deadline
            assert bid.status == BidStatus.SUBMITTED
            assert bid.submitted_at == answer.receipt.received_at
            assert receipts[bid.pk] == 1
            assert submitted_events[str(bid.pk)] == 1
        else:
            # 0 lost: refused only when the server read its clock at or after the deadline.
            assert answer.server_time >= deadline
            assert bid.status == BidStatus.DRAFT
            assert receipts[bid.pk] == 0
            assert submitted_events[str(bid.pk)] == 0
    assert sum(receipts.values()) == kinds["accepted"]
    assert not BidReceipt.objects.filter(received_at__gte=F("bid__tender__bid_deadline")).exists()
    assert audit_verify().ok
