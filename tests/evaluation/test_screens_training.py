"""manage.py train_collusion_model and the cartel dataset loader, on small generated files."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from evaluation.screens import CollusionModel, cartel_datasets, load_cartel_dataset


def write_dataset(path, *, tenders: int = 40, seed: int = 1, estimate: bool = False) -> None:
    """A file shaped like the public datasets: one row per bid, the label on every bid."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(tenders):
        collusive = t % 2
        base = float(rng.uniform(1e5, 1e6))
        spread = rng.uniform(0.01, 0.03, 4) if collusive else rng.uniform(-0.2, 0.3, 4)
        for i, price in enumerate(base * (1 + np.concatenate([[0.0], spread]))):
            row = {
                "Tender": t,
                "Bid_value": round(price, 2),
                "Winner": int(i == 0),
                "Collusive_competitor": collusive,
                "RD": 99.0,  # the stored screens are ignored
            }
            if estimate:
                row["Pre-Tender Estimate (PTE)"] = base * 1.1
            rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)


def test_loader_renames_the_columns_and_labels_tenders(tmp_path):
    path = tmp_path / "DB_Collusion_Testland_processed.csv"
    write_dataset(path, tenders=4, estimate=True)
    bids, labels = load_cartel_dataset(path)
    assert {"tender", "price", "winner", "estimate"} <= set(bids.columns)
    assert "RD" not in bids.columns
    assert labels.to_dict() == {0: 0, 1: 1, 2: 0, 3: 1}
    assert cartel_datasets(tmp_path) == {"Testland": path}


def test_command_trains_on_every_dataset_and_writes_a_loadable_model(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_dataset(data / "DB_Collusion_Aland_processed.csv", seed=1)
    write_dataset(data / "DB_Collusion_Bland_processed.csv", seed=2, estimate=True)
    out = tmp_path / "model" / "collusion.skops"
    stdout = io.StringIO()
    call_command("train_collusion_model", "--data", str(data), "--out", str(out), stdout=stdout)
    text = stdout.getvalue()
    assert "Aland: 200 bids, 40 tenders, 50% collusive" in text
    assert "Bland" in text
    assert out.exists()
    assert (tmp_path / "model" / "collusion.skops.sha256").exists()
    model = CollusionModel.load(out)
    bids, _ = load_cartel_dataset(data / "DB_Collusion_Aland_processed.csv")
    assert model.predict_proba(bids).between(0, 1).all()
    # Nothing of the data is copied next to the model.
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "collusion.skops",
        "collusion.skops.sha256",
    ]


def test_command_without_datasets_fails_clearly(tmp_path):
    with pytest.raises(CommandError, match="no DB_Collusion_"):
        call_command("train_collusion_model", "--data", str(tmp_path), "--out", str(tmp_path / "m"))
