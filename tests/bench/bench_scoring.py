"""Weighted scoring: how fast a large tender ranks (pure Decimal arithmetic, no database)."""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal

from evaluation.scoring import BidInput, Criterion, rank
from tests.bench.conftest import report

BIDS = 200
MEMBERS = 9
RUNS = 15
TARGET_MS = 50


def _scheme() -> list[Criterion]:
    """1 price + 4 objective + 15 subjective criteria: 30 + 4 × 5 + (10 × 3 + 5 × 4) = 100."""
    criteria = [Criterion(code="price", kind="price", points=Decimal(30))]
    criteria += [Criterion(code=f"obj{i}", kind="objective", points=Decimal(5)) for i in range(4)]
    criteria += [
        Criterion(code=f"subj{i}", kind="subjective", points=Decimal(3 if i < 10 else 4))
        for i in range(15)
    ]
    return criteria


def _bids(criteria: list[Criterion]) -> list[BidInput]:
    """Random bids, scores in cents, prices in yuan and fen; seeded so every run is the same."""
    rng = random.Random(20261125)

    def score(points: Decimal) -> Decimal:
        return Decimal(rng.randint(0, int(points * 100))).scaleb(-2)

    bids = []
    for i in range(BIDS):
        bids.append(
            BidInput(
                key=f"bid-{i:03d}",
                price=Decimal(rng.randint(30_000_000, 60_000_000)).scaleb(-2),
                objective={c.code: score(c.points) for c in criteria if c.kind == "objective"},
                subjective={
                    c.code: [score(c.points) for _ in range(MEMBERS)]
                    for c in criteria
                    if c.kind == "subjective"
                },
            )
        )
    return bids


def test_ranking_200_bids_9_members_20_criteria(stopwatch):
    criteria = _scheme()
    bids = _bids(criteria)
    wall, cpu = [], []
    for _ in range(RUNS):
        started = time.process_time()
        with stopwatch.measure():
            rows = rank(criteria, bids, trim_extremes=True)
        cpu.append((time.process_time() - started) * 1000)
        wall.append(stopwatch.seconds * 1000)
    assert len(rows) == BIDS
    # The figure is the best run's CPU time: on a shared machine, other processes stretch the
    # wall-clock time of every run (waiting for a core), not the work done. On an idle machine
    # the two agree; the wall-clock figures are printed beside it.
    best = min(cpu)
    report(
        f"rank {BIDS} bids × {MEMBERS} members × {len(criteria)} criteria, trimmed mean "
        f"(CPU, best of {RUNS}; wall-clock best {min(wall):.1f} ms, "
        f"median {statistics.median(wall):.1f} ms)",
        best,
        "ms",
        f"<= {TARGET_MS} ms",
    )
    assert best <= TARGET_MS
