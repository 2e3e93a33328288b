"""Pure helpers of the integrity screens: evidence is always valid JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from evaluation.integrity import canonical, digest


def test_missing_values_in_evidence_become_null_not_nan():
    evidence = {
        "category": float("nan"),
        "end": pd.NaT,
        "fte": np.float64(0.5),
        "count": np.int64(3),
        "nested": [{"score": np.nan}, pd.NA],
        "start": date(2026, 1, 1),
        "amount": Decimal("12.50"),
    }
    result = canonical(evidence)
    assert result == {
        "amount": "12.50",
        "category": None,
        "count": 3,
        "end": None,
        "fte": 0.5,
        "nested": [{"score": None}, None],
        "start": "2026-01-01",
    }
    # Strict JSON, as PostgreSQL's jsonb requires.
    json.dumps(result, allow_nan=False)


def test_the_digest_ignores_key_order_and_missing_value_spelling():
    assert digest({"a": float("nan"), "b": 1}) == digest({"b": 1, "a": None})
