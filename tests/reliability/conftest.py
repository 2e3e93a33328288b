"""Fixtures for the reliability suite: the tender and bidder fixtures of tests/tenders.

Shared builders that are not fixtures live in ``tests/reliability/support.py``.
"""

from tests.tenders.conftest import (  # noqa: F401  (fixtures re-exported for this folder)
    bidders,
    category,
    clock,
    make_tender,
)
