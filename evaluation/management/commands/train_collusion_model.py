"""manage.py train_collusion_model: fit the shipped collusion model on the public cartel data.

The six datasets of García Rodríguez et al. (2022) are read where they lie (by default
``../shared/data/collusion/`` beside the repository) and are never copied into it; only the
fitted model (skops format, a few hundred kB) and its SHA-256 are written, by default to
``evaluation/models_data/collusion.skops``. Each tender's dataset is passed to the model as its
source (see ``CollusionModel.fit``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.screens import (
    SHIPPED_MODEL,
    CollusionModel,
    cartel_datasets,
    load_cartel_dataset,
)

DEFAULT_DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "collusion"


class Command(BaseCommand):
    help = "Train the collusion model on the public cartel datasets and write the model file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            default=str(DEFAULT_DATA),
            help="folder with the DB_Collusion_*.csv files (default: ../shared/data/collusion)",
        )
        parser.add_argument("--out", default=str(SHIPPED_MODEL), help="model file to write")
        parser.add_argument("--seed", type=int, default=0, help="random seed")

    def handle(self, *args: object, **options: object) -> None:
        folder = Path(str(options["data"]))
        files = cartel_datasets(folder)
        if not files:
            raise CommandError(f"no DB_Collusion_*.csv files in {folder}")
        all_bids, all_labels, all_sources = [], [], []
        for name, path in files.items():
            bids, labels = load_cartel_dataset(path)
            # Tender numbers repeat across datasets: prefix them with the dataset's name.
            bids["tender"] = name + ":" + bids["tender"].astype(str)
            labels.index = name + ":" + labels.index.astype(str)
            all_bids.append(bids)
            all_labels.append(labels)
            all_sources.append(pd.Series(name, index=labels.index))
            self.stdout.write(
                f"{name}: {len(bids):,} bids, {len(labels):,} tenders, "
                f"{labels.mean():.0%} collusive"
            )
        started = time.perf_counter()
        # The sources let the model weigh each dataset's cartels and competitors alike, so
        # that which dataset a tender resembles does not decide its probability.
        model = CollusionModel(random_state=int(str(options["seed"]))).fit(
            pd.concat(all_bids, ignore_index=True),
            pd.concat(all_labels),
            sources=pd.concat(all_sources),
        )
        out = Path(str(options["out"]))
        out.parent.mkdir(parents=True, exist_ok=True)
        digest = model.save(out)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {out} ({out.stat().st_size:,} bytes, SHA-256 {digest[:16]}…, "
                f"threshold {model.threshold:.4f}) in {time.perf_counter() - started:.1f} s"
            )
        )
