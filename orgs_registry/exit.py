"""What an organization must settle before it can leave the register (注销退出).

Apps that hold an organization's commitments (open bids, running contracts) register
a function here; deregistration lists what they return and waits until it is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Commitment:
    """One open obligation: a bid still in competition, a contract still running."""

    kind: str
    label: str | Promise
    url: str = ""


CommitmentSource = Callable[[Any], list[Commitment]]
_sources: list[CommitmentSource] = []


def commitment_source(func: CommitmentSource) -> CommitmentSource:
    """Register a function ``organization -> [Commitment]`` (used as a decorator)."""
    _sources.append(func)
    return func


def open_commitments(organization: Any) -> list[Commitment]:
    """Every open commitment of ``organization`` across the apps."""
    found: list[Commitment] = []
    for source in _sources:
        found.extend(source(organization))
    return found
