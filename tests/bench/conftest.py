"""Benchmarks: run with `make bench` (files are bench_*.py, not collected by make test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


class Stopwatch:
    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def measure(self) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds = time.perf_counter() - start


@pytest.fixture
def stopwatch() -> Stopwatch:
    return Stopwatch()


def report(name: str, value: float, unit: str, target: str) -> None:
    """Print one figure in the form docs/benchmarks.md records."""
    print(f"\nBENCH {name}: {value:,.2f} {unit} (target {target})")  # noqa: T201
