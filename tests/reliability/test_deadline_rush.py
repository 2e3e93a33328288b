"""The deadline rush, through the pages and the API a bidder uses, on PostgreSQL.

DESIGN.md section 6: the server's clock, read under the tender's row lock, decides whether a
submission is in time. Here 20 tenders close one after another; 500 distinct organizations
(25 a tender) submit their prepared drafts from 5 seconds before their tender's deadline to
1 second after it, half through the bid page and half through the API, from a bounded pool
of threads that fires each at its instant. Every submission must end either stored with
exactly one receipt and one audit event, received before the deadline, or refused cleanly
with the message that it came after the deadline: never a server error, never lost, never
accepted late.

Why 25 a tender and not 500: the test process serves requests one at a time under the GIL
(~25 ms a submission on an idle core, 100 ms on a busy shared machine), so 20 x 500 would
take minutes. The deadlines follow each other as closely as the measured speed allows, so
the tenders' windows overlap and the locks (each tender's row, the audit chain's head) see
submissions to several tenders at once.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.test.client import ClientHandler
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from marketplace.audit import audit_verify
from marketplace.models import AuditAction, AuditEvent
from tenders.models import Bid, BidReceipt, BidStatus, Tender
from tests.reliability.support import (
    Shot,
    act_as,
    bulk_bidders,
    bulk_drafts,
    fire_on_schedule,
    latency_summary,
    session_keys,
    shared_client,
    together,
    warm_handler,
)

pytestmark = pytest.mark.postgresql

ROUNDS = 20
PER_ROUND = 25  # distinct organizations a tender: 500 in all
BEFORE = 5.0  # seconds of submissions before each deadline
AFTER = 1.0  # and after it
LEAD = 1.0  # from the schedule to the first submission
# Share of the measured capacity the schedule asks for: a pool that cannot keep up fires
# late, and the rush would become a queue of late submissions.
LOAD = 0.7
WARM_UP = 48  # submissions (to a tender of their own) that measure the capacity
WORKERS = 24  # threads firing the submissions, each with its database connection

# The service's refusal (tenders.services._receive), in whatever language the answer is in.
LATE_MESSAGE = "Received at %(time)s, after the deadline of %(deadline)s: not accepted."


@dataclass(frozen=True)
class Answer:
    """What one submission got: accepted with a receipt, refused as late, or anything else."""

    kind: Literal["accepted", "late", "other"]
    receipt: BidReceipt | None = None
    server_time: datetime | None = None
    detail: str = ""


def _late_pattern(language: str) -> re.Pattern[str]:
    with translation.override(language):
        text = gettext(LATE_MESSAGE)
    pattern = re.escape(text)
    for name in ("time", "deadline"):
        pattern = pattern.replace(re.escape(f"%({name})s"), rf"(?P<{name}>[0-9][0-9 :.-]+[0-9])")
    return re.compile(pattern)


def _server_time(match: re.Match[str]) -> datetime:
    # The message shows the local time of the site's time zone.
    local = f"{match['time']} {timezone.localtime(timezone.now()).strftime('%z')}"
    return datetime.strptime(local, "%Y-%m-%d %H:%M:%S.%f %z")


def _late(text: str, language: str) -> Answer | None:
    match = _late_pattern(language).search(text)
    if match is None:
        return None
    return Answer("late", server_time=_server_time(match), detail=match[0])


def _read_page_answer(response) -> Answer:
    """The bid page's submit: a redirect to the receipt, or the bid page naming the refusal."""
    language = response.headers.get("Content-Language", settings.LANGUAGE_CODE)
    if response.status_code == 302:
        match = resolve(urlparse(response["Location"]).path)
        if match.url_name == "receipt":
            receipt = BidReceipt.objects.filter(pk=match.kwargs["receipt_pk"]).first()
            if receipt is not None:
                return Answer("accepted", receipt=receipt, server_time=receipt.received_at)
    if response.status_code == 200:
        late = _late(html.unescape(response.content.decode()), language)
        if late is not None:
            return late
    return Answer("other", detail=f"page {response.status_code} {response.content[:300]!r}")


def _read_api_answer(response) -> Answer:
    """The API's submit: 200 with the receipt, or 400 whose detail names the refusal."""
    language = response.headers.get("Content-Language", settings.LANGUAGE_CODE)
    body = (
        response.json()
        if response.headers.get("Content-Type", "").startswith("application/json")
        else {}
    )
    if response.status_code == 200 and body.get("receipt"):
        receipt = BidReceipt.objects.filter(sequence=body["receipt"]["sequence"]).first()
        if receipt is not None:
            return Answer("accepted", receipt=receipt, server_time=receipt.received_at)
    if response.status_code == 400:
        late = _late(body.get("detail", ""), language)
        if late is not None:
            return late
    return Answer("other", detail=f"api {response.status_code} {response.content[:300]!r}")


def _submit_shot(at: float, bid: Bid, session: str, *, api: bool) -> Shot:
    def fire(client: Client):
        act_as(client, session)
        if api:
            return client.post(f"/api/v1/bids/{bid.pk}/submit/")
        return client.post(reverse("tenders:bid_submit", args=[bid.pk]))

    return Shot(at=at, fire=fire)


def _print_figures(shots: list[Shot], answers: list[Answer], cost: float, stagger: float) -> None:
    """The latency distribution, for the benchmark record (not asserted)."""
    by_kind = {
        kind: [s.latency for s, a in zip(shots, answers, strict=True) if a.kind == kind]
        for kind in ("accepted", "late")
    }
    print(  # noqa: T201  (the figures the benchmark owner records)
        f"\nrush: {len(shots)} submissions to {ROUNDS} tenders, deadlines {stagger:.2f} s "
        f"apart (measured capacity: {1 / cost:.0f} submissions/s) "
        f"(accepted {len(by_kind['accepted'])}, refused late {len(by_kind['late'])}); "
        f"all {latency_summary([s.latency for s in shots])}; "
        f"accepted {latency_summary(by_kind['accepted'])}; "
        f"refused {latency_summary(by_kind['late'])}; "
        f"worst start lag {max(s.lag for s in shots) * 1000:.0f} ms"
    )


def _calibrate(handler: ClientHandler, make_tender) -> float:
    """Seconds of the pool's time one submission takes here and now (the machine may be
    shared): WARM_UP submissions to a tender of their own, sent by WORKERS threads at once,
    after one that fills the caches."""
    admins = bulk_bidders(WARM_UP + 1, body_prefix="69")
    sessions = session_keys(admins)
    bids = bulk_drafts(make_tender(title="预热项目"), admins, first_price=300000)
    calls = [
        _submit_shot(0.0, bid, sessions[admin.pk], api=bool(i % 2)).fire
        for i, (admin, bid) in enumerate(zip(admins, bids, strict=True))
    ]
    calls[0](shared_client(handler))
    started = time.perf_counter()
    race = together(
        [lambda fire=fire: fire(shared_client(handler)) for fire in calls[1:]], workers=WORKERS
    )
    assert race.errors() == []
    return (time.perf_counter() - started) / WARM_UP


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deadline_rush_loses_nothing_and_accepts_nothing_late(make_tender):
    admins = bulk_bidders(ROUNDS * PER_ROUND, body_prefix="61")
    sessions = session_keys(admins)
    tenders = [make_tender(title=f"冲刺项目{r}") for r in range(ROUNDS)]
    drafts = [
        bulk_drafts(tender, admins[r * PER_ROUND : (r + 1) * PER_ROUND], first_price=300000)
        for r, tender in enumerate(tenders)
    ]
    handler = warm_handler()
    cost = _calibrate(handler, make_tender)
    # The deadlines follow one another so that the whole rush asks for LOAD of the measured
    # capacity; the 6-second windows of several tenders overlap.
    span = ROUNDS * PER_ROUND * cost / LOAD
    stagger = max(0.0, span - BEFORE - AFTER) / (ROUNDS - 1)

    # Test set-up only: bring the deadlines close (publication needs 20 days ahead).
    start, now = time.monotonic(), timezone.now()
    deadlines = []
    shots: list[tuple[Shot, Bid, int, bool]] = []
    for r, tender in enumerate(tenders):
        deadline = now + timedelta(seconds=LEAD + BEFORE + r * stagger)
        Tender.objects.filter(pk=tender.pk).update(
            bid_deadline=deadline, question_deadline=deadline - timedelta(days=1)
        )
        deadlines.append(deadline)
        for i, bid in enumerate(drafts[r]):
            offset = -BEFORE + (BEFORE + AFTER) * (i + 0.5) / PER_ROUND
            at = start + (deadline - now).total_seconds() + offset
            api = bool(i % 2)  # half through the page, half through the API
            session = sessions[admins[r * PER_ROUND + i].pk]
            shots.append((_submit_shot(at, bid, session, api=api), bid, r, api))

    fire_on_schedule([shot for shot, _bid, _r, _api in shots], workers=WORKERS, handler=handler)

    answers = [
        Answer("other", detail=shot.error)
        if shot.error
        else (_read_api_answer if api else _read_page_answer)(shot.result)
        for shot, _bid, _r, api in shots
    ]
    kinds = Counter(a.kind for a in answers)
    _print_figures([shot for shot, _bid, _r, _api in shots], answers, cost, stagger)

    # 0 server errors, 0 unexplained answers.
    assert [a.detail for a in answers if a.kind == "other"] == []
    assert kinds["accepted"], "the submissions well before the deadlines are in"
    assert kinds["late"], "the submissions after the deadlines are out"
    in_rush = {"bid__tender__in": tenders}
    submitted_events = Counter(
        AuditEvent.objects.filter(action=AuditAction.BID_SUBMITTED).values_list(
            "object_id", flat=True
        )
    )
    receipts = Counter(BidReceipt.objects.filter(**in_rush).values_list("bid_id", flat=True))
    for (shot, bid, r, _api), answer in zip(shots, answers, strict=True):
        deadline = deadlines[r]
        assert shot.fired_at <= answer.server_time <= shot.answered_at, (shot, answer)
        stored = Bid.objects.get(pk=bid.pk)
        if answer.kind == "accepted":
            # 0 accepted late; exactly one submission, receipt and audit event.
            assert answer.receipt.bid_id == bid.pk
            assert answer.receipt.received_at < deadline
            assert stored.status == BidStatus.SUBMITTED
            assert stored.submitted_at == answer.receipt.received_at
            assert receipts[bid.pk] == 1
            assert submitted_events[str(bid.pk)] == 1
        else:
            # 0 lost: refused only when the server read its clock at or after the deadline.
            assert answer.server_time >= deadline
            assert stored.status == BidStatus.DRAFT
            assert receipts[bid.pk] == 0
            assert submitted_events[str(bid.pk)] == 0
    assert sum(receipts.values()) == kinds["accepted"]
    assert not BidReceipt.objects.filter(received_at__gte=F("bid__tender__bid_deadline")).exists()
    assert audit_verify().ok
