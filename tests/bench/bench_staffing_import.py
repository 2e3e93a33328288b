"""Staffing roster import: 1,000,000 rows from CSV, checked and written, in under 2 minutes
(issue 7 point 1). Run against PostgreSQL (the COPY path):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_staffing \\
        .venv/bin/pytest tests/bench/bench_staffing_import.py -o python_files='bench_*.py' -s -q

On SQLite (``make bench`` without DATABASE_URL) it imports a smaller roster through the
batched ``bulk_create`` path and reports its rate; the 2-minute target is PostgreSQL's.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from orgs_registry.models import FundingImportStatus, ServiceCategory, StaffingRecord
from orgs_registry.services_funding import funding_import_from_path
from tests.bench.conftest import report
from tests.bench.roster_generator import roster

ROWS_POSTGRESQL = 1_000_000
ROWS_SQLITE = 100_000
TARGET_SECONDS = 120

POST_TYPES = np.array(["行政编制", "事业编制", "工勤编制", "其他"])
FUNDING = np.array(["全额拨款", "差额拨款", "自收自支", ""])


def write_roster_csv(path, n: int) -> None:
    """A roster as a staffing office exports it: Chinese headers, some blank cells,
    a few hundred units, functions partly outside the service catalogue."""
    rng = np.random.default_rng(3)
    people = roster(n)
    categories = np.array(list(ServiceCategory.objects.values_list("name_zh", flat=True)))
    functions = np.concatenate([categories, np.array(["财务管理", "综合行政", "后勤保障"])])
    units = np.array([f"渝中区第{i}事业单位" for i in range(400)])
    start = np.datetime64("1995-01-01") + rng.integers(0, 30 * 365, n).astype("timedelta64[D]")
    length = rng.integers(200, 6000, n).astype("timedelta64[D]")
    ended = rng.random(n) < 0.3
    frame = pd.DataFrame(
        {
            "姓名": people["name"],
            "身份证号": people["id_number"],
            "工作单位": units[rng.integers(0, len(units), n)],
            "编制类型": POST_TYPES[rng.integers(0, len(POST_TYPES), n)],
            "经费形式": FUNDING[rng.integers(0, len(FUNDING), n)],
            "职能类别": functions[rng.integers(0, len(functions), n)],
            "起始日期": pd.DatetimeIndex(start).strftime("%Y-%m-%d"),
            "终止日期": np.where(ended, pd.DatetimeIndex(start + length).strftime("%Y-%m-%d"), ""),
        }
    )
    frame.to_csv(path, index=False)


@pytest.mark.django_db(transaction=True)
def test_importing_a_million_row_roster(tmp_path):
    on_postgresql = connection.vendor == "postgresql"
    rows = ROWS_POSTGRESQL if on_postgresql else ROWS_SQLITE
    path = tmp_path / "roster.csv"
    started = time.perf_counter()
    write_roster_csv(path, rows)
    generated = time.perf_counter() - started
    phases: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        # "check" is reported at the start (0 of 0) and once every row is checked.
        key = "checked" if phase == "check" and total else phase
        phases.setdefault(key, time.perf_counter())

    started = time.perf_counter()
    done = funding_import_from_path(kind="staffing", path=path, progress=progress)
    seconds = time.perf_counter() - started
    assert done.status == FundingImportStatus.DONE, done.errors[:5]
    assert StaffingRecord.objects.filter(funding_import=done).count() == rows
    checking = phases["checked"] - phases["check"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(
        f"staffing import of {rows:,} rows ({connection.vendor}; CSV of "
        f"{path.stat().st_size / 1e6:.0f} MB generated in {generated:.1f} s; read and checked "
        f"in {checking:.1f} s, written in {seconds - checking:.1f} s; peak RSS {peak_mb:,.0f} MB)",
        seconds,
        "s",
        f"<= {TARGET_SECONDS} s on PostgreSQL",
    )
    if on_postgresql:
        assert seconds <= TARGET_SECONDS
