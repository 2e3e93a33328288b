"""Assessor bias screens (evaluation/screens.py): systematic deviation and affinity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.screens import BIAS_MIN_SCORES, assessor_affinity, assessor_deviation

ORGS = ["O1", "O2", "O3", "O4"]


def panels(
    *,
    tenders: int = 8,
    assessors: tuple[str, ...] = ("A1", "A2", "A3", "A4", "A5"),
    shift: dict[str, float] | None = None,
    favour: dict[tuple[str, str], tuple[float, int]] | None = None,
    seed: int = 7,
) -> pd.DataFrame:
    """Scores out of 50 on two criteria; ``shift`` moves an assessor's every score, ``favour``
    moves (assessor, org) by an amount in the first N tenders."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(tenders):
        for org in ORGS:
            quality = rng.uniform(25, 40)
            for criterion in ("plan", "team"):
                for assessor in assessors:
                    score = quality + rng.normal(0, 2.0) + (shift or {}).get(assessor, 0.0)
                    amount, until = (favour or {}).get((assessor, org), (0.0, 0))
                    if t < until:
                        score += amount
                    rows.append(
                        {
                            "tender": t,
                            "assessor": assessor,
                            "bid": f"{t}-{org}",
                            "org": org,
                            "criterion": criterion,
                            "score": float(np.clip(score, 0, 50)),
                            "points": 50,
                        }
                    )
    return pd.DataFrame(rows)


def test_an_assessor_who_always_scores_high_is_flagged_as_lenient():
    result = assessor_deviation(panels(shift={"A1": 4.0}))
    assert [e["assessor"] for e in result["evidence"]] == ["A1"]
    evidence = result.iloc[0]["evidence"]
    assert evidence["direction"] == "lenient"
    assert evidence["z"] >= 2.576
    assert evidence["scores"] == 8 * 4 * 2
    assert evidence["tenders"] == 8
    json.dumps(evidence)


def test_a_severe_assessor_is_flagged_too():
    result = assessor_deviation(panels(shift={"A2": -4.0}))
    assert [(e["assessor"], e["direction"]) for e in result["evidence"]] == [("A2", "severe")]


def test_an_ordinary_panel_has_no_deviating_assessor():
    assert assessor_deviation(panels()).empty


def test_a_deviation_on_too_few_scores_is_not_trusted():
    # One tender: 4 orgs x 2 criteria = 8 scores, fewer than the minimum sample.
    few = panels(tenders=1, shift={"A1": 6.0})
    assert len(few[few["assessor"] == "A1"]) < BIAS_MIN_SCORES
    assert assessor_deviation(few).empty
    assert not assessor_deviation(few, min_scores=5).empty


def test_an_assessor_partial_to_one_org_across_tenders_is_flagged():
    result = assessor_affinity(panels(favour={("A3", "O2"): (5.0, 8)}))
    assert [
        (e["assessor"], row) for e, row in zip(result["evidence"], result["org"], strict=True)
    ] == [("A3", "O2")]
    evidence = result.iloc[0]["evidence"]
    assert evidence["above_share"] >= 0.8
    # Part of the 0.1 favour goes into the bid's mean and the assessor's own effect.
    assert 0.05 <= evidence["mean_excess"] <= 0.1
    assert evidence["tenders"] == list(range(8))


def test_partiality_in_too_few_tenders_is_not_affinity():
    assert assessor_affinity(panels(favour={("A3", "O2"): (5.0, 2)}), min_share=0.8).empty


def test_a_generally_lenient_assessor_is_not_partial_to_everyone():
    assert assessor_affinity(panels(shift={"A4": 4.0})).empty


def test_bias_screens_need_the_score_columns():
    with pytest.raises(ValueError, match="assessor"):
        assessor_deviation(pd.DataFrame({"tender": [1], "bid": [1], "score": [1]}))
