"""Concurrent submissions around the deadline, on PostgreSQL: all in or out, never half.

DESIGN.md section 6: the deadline is enforced in the transaction that stores the bid,
after locking the tender row, with the server clock read after the lock. Many bidders
submit in the last moments and just after; every accepted bid was received before the
deadline, every refused one at or after it, and nothing accepted is missing.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tenders import services
from tenders.models import Bid, BidReceipt, BidStatus, Tender
from tests.tenders.conftest import make_bidder

BIDDERS = 24


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_submissions_around_the_deadline_are_all_in_or_all_out(make_tender):
    tender = make_tender()
    bidders = [make_bidder(f"冲刺机构{i}", staff=1) for i in range(BIDDERS)]
    bids = [
        services.bid_prepare(
            tender=tender,
            actor=b.admin,
            price=Decimal("400000") + i,
            staff=[{"person": b.staff_ids[0], "role": "社工", "fte": "1"}],
        )
        for i, b in enumerate(bidders)
    ]
    # Test set-up only: bring the deadline close (publication needs 20 days ahead).
    deadline = timezone.now() + timedelta(seconds=2)
    Tender.objects.filter(pk=tender.pk).update(
        bid_deadline=deadline, question_deadline=deadline - timedelta(seconds=10)
    )

    results: list[tuple[int, str, object]] = []
    lock = threading.Lock()
    start = time.monotonic()
    # Attempts spread from 1.5 s before to 0.5 s after the deadline.
    offsets = [-1.5 + 2.0 * i / (BIDDERS - 1) for i in range(BIDDERS)]

    def attempt(index: int) -> None:
        try:
            wait = 2.0 + offsets[index] - (time.monotonic() - start)
            if wait > 0:
                time.sleep(wait)
            try:
                receipt = services.bid_submit(bid=bids[index], actor=bidders[index].admin)
                outcome: tuple[str, object] = ("accepted", receipt.received_at)
            except services.LateSubmission as late:
                outcome = ("late", late.received_at)
            except Exception as exc:
                outcome = ("error", repr(exc))
            with lock:
                results.append((index, *outcome))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(BIDDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    errors = [r for r in results if r[1] == "error"]
    assert errors == []
    accepted = [r for r in results if r[1] == "accepted"]
    late = [r for r in results if r[1] == "late"]
    assert len(accepted) + len(late) == BIDDERS
    assert accepted, "the early attempts are in"
    assert late, "the attempts after the deadline are out"
    assert all(received < deadline for _i, _o, received in accepted)
    assert all(received >= deadline for _i, _o, received in late)
    # Nothing accepted is lost, nothing refused was half-stored.
    assert BidReceipt.objects.count() == len(accepted)
    submitted = set(Bid.objects.filter(status=BidStatus.SUBMITTED).values_list("pk", flat=True))
    assert submitted == {bids[i].pk for i, _o, _r in accepted}
    assert set(Bid.objects.filter(status=BidStatus.DRAFT).values_list("pk", flat=True)) == {
        bids[i].pk for i, _o, _r in late
    }
