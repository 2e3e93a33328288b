"""Collusion screens: CollusionModel against a random forest on the seven classic screens.

On each of the six public cartel datasets (García Rodríguez et al. 2022, read from
``../shared/data/collusion/`` or ``$COLLUSION_DATA``; never copied into the repository), both
models are trained and tested on the same stratified 5-fold splits grouped by tender, and
scored by tender-level balanced accuracy. Targets (issue 7): the model beats the forest on
every dataset and by at least 0.03 on average.

The shipped model is also run, through the price screen, on simulated honest tenders of 4, 5, 6
and 8 bids priced at 80-99 % of a budget: the share it flags must stay small and must not grow
with the number of bids.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from evaluation.screens import (
    CLASSIC_SCREENS,
    SHIPPED_MODEL,
    CollusionModel,
    cartel_datasets,
    load_cartel_dataset,
    load_shipped_model,
    price_screen,
    tender_screens,
)
from tests.bench.conftest import report

DATA = Path(
    os.environ.get(
        "COLLUSION_DATA", Path(__file__).resolve().parents[2].parent / "shared/data/collusion"
    )
)
FOLDS = 5
SEED = 0
MIN_MARGIN = 0.03


def _baseline(train: pd.DataFrame, y_train: np.ndarray, test: pd.DataFrame) -> np.ndarray:
    """The reference: a random forest on the seven screens (undefined screens are 0, as in the
    datasets' own precomputed columns)."""
    forest = RandomForestClassifier(n_estimators=500, random_state=SEED, n_jobs=1)
    forest.fit(train.fillna(0), y_train)
    return forest.predict(test.fillna(0))


def _evaluate(path: Path) -> tuple[float, float, float]:
    bids, labels = load_cartel_dataset(path)
    tenders = labels.index.to_numpy()
    y = labels.to_numpy()
    screens = tender_screens(bids).reindex(labels.index)[list(CLASSIC_SCREENS)]
    splitter = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=SEED)
    forest_scores, model_scores = [], []
    started = time.perf_counter()
    for train, test in splitter.split(screens, y, groups=tenders):
        forest = _baseline(screens.iloc[train], y[train], screens.iloc[test])
        forest_scores.append(balanced_accuracy_score(y[test], forest))
        train_bids = bids[bids["tender"].isin(tenders[train])]
        test_bids = bids[bids["tender"].isin(tenders[test])]
        model = CollusionModel(random_state=SEED).fit(train_bids, labels.iloc[train])
        predicted = model.predict(test_bids).reindex(tenders[test]).to_numpy()
        model_scores.append(balanced_accuracy_score(y[test], predicted))
    return (
        float(np.mean(forest_scores)),
        float(np.mean(model_scores)),
        time.perf_counter() - started,
    )


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the cartel datasets are not at {DATA}")
def test_collusion_model_beats_the_random_forest_on_every_dataset():
    files = cartel_datasets(DATA)
    assert len(files) == 6, f"expected the six datasets in {DATA}, found {sorted(files)}"
    rows = []
    # One thread: the figures do not depend on how busy the other core is, and the gradient
    # boosting's OpenMP threads would otherwise fight the other processes on a 2-core machine.
    with threadpool_limits(1):
        for name, path in files.items():
            forest, model, seconds = _evaluate(path)
            rows.append((name, forest, model, model - forest, seconds))
    table = pd.DataFrame(rows, columns=["dataset", "forest", "model", "margin", "seconds"])
    print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))  # noqa: T201
    report("collusion balanced accuracy, random forest (mean of 6)", table.forest.mean(), "", "-")
    report(
        "collusion balanced accuracy, CollusionModel (mean of 6)",
        table.model.mean(),
        "",
        f"≥ forest + {MIN_MARGIN}",
    )
    assert (table.margin > 0).all(), table.to_string()
    assert table.margin.mean() >= MIN_MARGIN, table.to_string()


# --- Honest tenders: how often the shipped model's price screen flags them -----------------

#: Bid counts of the simulated honest tenders, and how many tenders of each.
HONEST_BIDS = (4, 5, 6, 8)
HONEST_TENDERS = 500
#: Target: below this share flagged for tenders of 4 and 5 bids (most of the street office's).
HONEST_MAX_SHARE = 0.10
#: Tenders of 6 and more bids: the public cartel data cannot tell honest bids held under a
#: budget from cover bids (docs/benchmarks.md); the price screen's flags there are of low
#: severity, and this ceiling only guards against a regression.
HONEST_MANY_BIDS = 6
HONEST_MANY_MAX_SHARE = 0.50


def honest_tenders(
    n_bids: int, *, tenders: int, seed: int, shape: str, estimate: bool
) -> pd.DataFrame:
    """Competitive tenders as a street office sees them: every bid between 80 % and 99 % of the
    budget (uniform, or normal around the middle and clipped), rounded to 100 yuan, the lowest
    bid winning; with ``estimate`` the budget is given as the pre-tender estimate."""
    rng = np.random.default_rng([seed, n_bids])
    budget = rng.choice([200_000.0, 500_000.0, 1_280_000.0, 3_000_000.0], tenders)
    if shape == "uniform":
        share = rng.uniform(0.80, 0.99, (tenders, n_bids))
    else:
        share = np.clip(rng.normal(0.895, 0.0475, (tenders, n_bids)), 0.80, 0.99)
    price = np.round(share * budget[:, None], -2)
    bids = pd.DataFrame({"tender": np.repeat(np.arange(tenders), n_bids), "price": price.ravel()})
    bids["winner"] = (bids.groupby("tender")["price"].rank(method="first") == 1).astype(int)
    if estimate:
        bids["estimate"] = np.repeat(budget, n_bids)
    return bids


@pytest.mark.skipif(not SHIPPED_MODEL.exists(), reason="no shipped model")
def test_shipped_model_flags_few_honest_tenders_whatever_their_number_of_bids():
    model = load_shipped_model()
    rows = []
    with threadpool_limits(1):
        for n_bids in HONEST_BIDS:
            for shape in ("uniform", "normal"):
                for estimate in (False, True):
                    bids = honest_tenders(
                        n_bids, tenders=HONEST_TENDERS, seed=SEED, shape=shape, estimate=estimate
                    )
                    flagged = price_screen(bids, model)
                    rows.append((n_bids, shape, estimate, len(flagged) / HONEST_TENDERS))
    table = pd.DataFrame(rows, columns=["bids", "prices", "estimate", "flagged"])
    print("\n" + table.pivot_table("flagged", ["prices", "estimate"], "bids").to_string())  # noqa: T201
    worst = table.groupby("bids")["flagged"].max()
    for n_bids, share in worst.items():
        ceiling = HONEST_MAX_SHARE if n_bids < HONEST_MANY_BIDS else HONEST_MANY_MAX_SHARE
        report(
            f"honest tenders flagged by the price screen, {n_bids} bids (worst case)",
            100 * share,
            "%",
            f"< {100 * ceiling:.0f} %",
        )
    few, many = worst[worst.index < HONEST_MANY_BIDS], worst[worst.index >= HONEST_MANY_BIDS]
    assert (few < HONEST_MAX_SHARE).all(), worst.to_string()
    assert (many < HONEST_MANY_MAX_SHARE).all(), worst.to_string()
