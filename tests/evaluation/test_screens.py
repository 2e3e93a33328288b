"""Price-distribution screens and the collusion model (evaluation/screens.py): pure, no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.screens import (
    CLASSIC_SCREENS,
    SHIPPED_MODEL,
    CollusionModel,
    load_shipped_model,
    tender_features,
    tender_screens,
)


def bids_of(**tenders: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"tender": t, "price": p} for t, prices in tenders.items() for p in prices]
    )


def test_screens_match_the_published_formulas_worked_by_hand():
    prices = [100.0, 102.0, 110.0, 130.0]
    screens = tender_screens(bids_of(a=prices)).loc["a"]
    series = pd.Series(prices)
    losing = series[1:]
    assert screens["n_bids"] == 4
    assert screens["cv"] == pytest.approx(series.std() / series.mean())
    assert screens["spd"] == pytest.approx(0.30)
    assert screens["diffp"] == pytest.approx(0.02)
    # Relative distance: (second - lowest) / SD of the losing bids.
    assert screens["rd"] == pytest.approx(2.0 / losing.std())
    assert screens["skew"] == pytest.approx(series.skew())
    assert screens["kurt"] == pytest.approx(series.kurt())
    # KS distance to uniform on [100, 130]: at 102 the ECDF reaches 0.5 where the uniform CDF
    # is 2/30, the largest gap.
    assert screens["kstest"] == pytest.approx(0.5 - 2 / 30)


def test_screens_need_enough_bids_and_are_nan_otherwise():
    screens = tender_screens(bids_of(one=[50.0], two=[50.0, 60.0], three=[50.0, 60.0, 65.0]))
    assert screens.loc["one", "n_bids"] == 1
    assert screens.loc["one", ["cv", "spd", "diffp", "rd", "skew", "kurt"]].isna().all()
    assert screens.loc["two", "diffp"] == pytest.approx(0.2)
    assert np.isnan(screens.loc["two", "rd"])
    assert not np.isnan(screens.loc["three", "skew"])
    assert np.isnan(screens.loc["three", "kurt"])


def test_screens_of_equal_bids_have_no_shape_rather_than_undefined_values():
    screens = tender_screens(bids_of(flat=[80.0, 80.0, 80.0, 80.0])).loc["flat"]
    assert screens["cv"] == 0
    assert screens["skew"] == 0
    assert screens["kurt"] == 0


def test_screens_ignore_bids_without_a_positive_price_and_keep_every_column():
    bids = pd.DataFrame({"tender": [1, 1, 1, 1], "price": [100, None, -5, 120]})
    screens = tender_screens(bids)
    assert list(screens.index) == [1]
    assert screens.loc[1, "n_bids"] == 2
    assert set(CLASSIC_SCREENS) <= set(screens.columns)


def test_screens_refuse_bids_without_a_price_column():
    with pytest.raises(ValueError, match="price"):
        tender_screens(pd.DataFrame({"tender": [1]}))


def test_screens_do_not_depend_on_the_order_of_the_bids():
    bids = bids_of(a=[100.0, 130.0, 102.0, 110.0], b=[7.0, 5.0, 6.0])
    shuffled = bids.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(
        tender_screens(bids).sort_index(), tender_screens(shuffled).sort_index()
    )


def test_features_use_the_estimate_and_the_winner_when_given():
    bids = pd.DataFrame(
        {
            "tender": ["a"] * 3,
            "price": [90.0, 95.0, 99.0],
            "estimate": [100.0] * 3,
            "winner": [0, 1, 0],
        }
    )
    features = tender_features(bids).loc["a"]
    assert features["rel_min"] == pytest.approx(0.9)
    assert features["winner_over_low"] == pytest.approx(95 / 90)
    assert features["share_near_low_0.1"] == pytest.approx(1.0)


def _planted_market(tenders: int = 120, seed: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    """Competitive tenders spread widely; collusive ones have cover bids packed 1-3 % above."""
    rng = np.random.default_rng(seed)
    rows, labels = [], {}
    for t in range(tenders):
        collusive = t % 3 == 0
        n = int(rng.integers(3, 8))
        base = float(rng.uniform(1e5, 1e6))
        if collusive:
            prices = base * (1 + np.concatenate([[0.0], rng.uniform(0.01, 0.03, n - 1)]))
        else:
            prices = base * rng.uniform(0.8, 1.3, n)
        rows += [{"tender": t, "price": float(p)} for p in prices]
        labels[t] = int(collusive)
    return pd.DataFrame(rows), pd.Series(labels)


def test_collusion_model_fits_and_tells_packed_cover_bids_from_competition():
    bids, labels = _planted_market()
    train = labels.index < 90
    model = CollusionModel(params={"max_iter": 30, "class_weight": "balanced"}).fit(
        bids[bids["tender"] < 90], labels[train]
    )
    test_bids = bids[bids["tender"] >= 90]
    probability = model.predict_proba(test_bids)
    assert isinstance(probability, pd.Series)
    assert set(probability.index) == set(labels.index[~train])
    assert probability.between(0, 1).all()
    predicted = model.predict(test_bids)
    assert (predicted == labels[~train].reindex(predicted.index)).mean() >= 0.9
    assert 0 < model.threshold < 1


def test_collusion_model_needs_both_classes_and_a_label_for_every_tender():
    bids, labels = _planted_market(tenders=12)
    with pytest.raises(ValueError, match="both classes"):
        CollusionModel().fit(bids, labels * 0)
    with pytest.raises(ValueError, match="no label"):
        CollusionModel().fit(bids, labels.iloc[:-1])


def test_unfitted_collusion_model_says_so():
    bids, _ = _planted_market(tenders=3)
    with pytest.raises(ValueError, match="not fitted"):
        CollusionModel().predict_proba(bids)


def test_saved_model_loads_and_predicts_the_same(tmp_path):
    bids, labels = _planted_market(tenders=30)
    model = CollusionModel(params={"max_iter": 10}).fit(bids, labels)
    path = tmp_path / "model.skops"
    digest = model.save(path)
    assert (tmp_path / "model.skops.sha256").read_text().startswith(digest)
    loaded = CollusionModel.load(path)
    pd.testing.assert_series_equal(loaded.predict_proba(bids), model.predict_proba(bids))
    assert loaded.threshold == model.threshold


def test_a_tampered_model_file_is_refused(tmp_path):
    bids, labels = _planted_market(tenders=30)
    path = tmp_path / "model.skops"
    CollusionModel(params={"max_iter": 5}).fit(bids, labels).save(path)
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ValueError, match="SHA-256"):
        CollusionModel.load(path)


def test_shipped_model_loads_and_predicts_probabilities_for_new_tenders():
    assert SHIPPED_MODEL.exists(), "run manage.py train_collusion_model to ship the model"
    model = load_shipped_model()
    bids = bids_of(packed=[100_000.0, 100_900.0, 101_500.0, 102_000.0], spread=[80e3, 99e3, 130e3])
    probability = model.predict_proba(bids)
    assert set(probability.index) == {"packed", "spread"}
    assert probability.between(0, 1).all()
    assert set(model.predict(bids).unique()) <= {0, 1}
