"""The price screen's severity: tenders of many bids are low (the model's known weakness)."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation import screens
from evaluation.models import FlagSeverity
from evaluation.services import integrity


@pytest.fixture
def flagged(monkeypatch):
    """Three flagged tenders: 4 bids at 0.95, 5 bids at 0.85, 6 bids at 0.97."""
    bids = pd.DataFrame(
        {"tender": [1], "price": [1.0], "valid": [True], "winner": [False], "bid": ["b"]}
    )
    frame = pd.DataFrame(
        {
            "probability": [0.95, 0.85, 0.97],
            "threshold": [0.8, 0.8, 0.8],
            "n_bids": [4, 5, 6],
            **{key: [0.1, 0.1, 0.1] for key in screens.CLASSIC_SCREENS},
        },
        index=pd.Index([1, 2, 3], name="tender"),
    )
    monkeypatch.setattr(integrity, "_opened_bids", lambda: bids)
    monkeypatch.setattr(integrity, "_labels", lambda ids: {})
    monkeypatch.setattr(screens, "price_screen", lambda bids, model: frame)
    monkeypatch.setattr(screens, "load_shipped_model", lambda: screens.CollusionModel())


def test_many_bids_make_a_price_screen_flag_low(flagged):
    found = {finding.tender_id: finding.severity for finding in integrity.price_screen()}
    assert found == {1: FlagSeverity.HIGH, 2: FlagSeverity.MEDIUM, 3: FlagSeverity.LOW}
    assert integrity.PRICE_SCREEN_MANY_BIDS == 6
