"""Imports whose worker died: pending or running far too long, they fail, their rows and
orphaned uploads are removed, and a worker that wakes up late cannot make them current."""

from __future__ import annotations

import os
from datetime import timedelta

import pandas as pd
import pytest
from django.conf import settings
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry import services_funding
from orgs_registry.funding_import import check_staffing, read_funding_file
from orgs_registry.models import FundingImport, FundingImportStatus, StaffingRecord
from orgs_registry.services_funding import (
    STALE_PENDING,
    STALE_RUNNING,
    funding_imports_fail_stale,
)
from orgs_registry.tasks_funding import fail_stale_funding_imports
from tests.funding_support import STAFFING_HEADER, csv_bytes, staff_row

pytestmark = pytest.mark.django_db

STOPPED = "The import stopped without finishing"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def pending(age: timedelta, name: str = "roster.csv") -> FundingImport:
    return FundingImport.objects.create(
        kind="staffing",
        file_name=name,
        sha256=f"{name:0>64}"[-64:],
        started_at=timezone.now() - age,
    )


def running_with_rows(tmp_path, age: timedelta) -> tuple[FundingImport, pd.DataFrame]:
    """An import that passed its checks and wrote its rows, then lost its worker."""
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([staff_row(n) for n in range(4)], STAFFING_HEADER))
    table = check_staffing(read_funding_file(path, "csv"), categories={})
    funding_import = pending(age)
    services_funding._start(funding_import, rows=len(table), fmt="csv")
    services_funding._write(funding_import, table, None)
    return FundingImport.objects.get(pk=funding_import.pk), table


def test_a_pending_import_that_never_started_fails_with_the_reason():
    old = pending(STALE_PENDING + timedelta(minutes=1), "old.csv")
    fresh = pending(STALE_PENDING - timedelta(minutes=5), "fresh.csv")
    assert [item.pk for item in funding_imports_fail_stale()] == [old.pk]
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == FundingImportStatus.FAILED
    assert old.errors[0].startswith(STOPPED)
    assert old.finished_at is not None
    assert fresh.status == FundingImportStatus.PENDING
    event = AuditEvent.objects.get(action=AuditAction.FUNDING_IMPORT_FAILED)
    assert event.details["reason"] == "stale"


def test_a_running_import_loses_the_rows_it_wrote(tmp_path):
    stuck, _table = running_with_rows(tmp_path, STALE_RUNNING + timedelta(minutes=1))
    assert StaffingRecord.objects.filter(funding_import=stuck).count() == 4
    funding_imports_fail_stale()
    stuck.refresh_from_db()
    assert stuck.status == FundingImportStatus.FAILED
    assert not stuck.is_current
    assert StaffingRecord.objects.count() == 0


def test_a_running_import_within_its_time_is_left_alone(tmp_path):
    writing, _table = running_with_rows(tmp_path, STALE_RUNNING - timedelta(minutes=5))
    assert funding_imports_fail_stale() == []
    writing.refresh_from_db()
    assert writing.status == FundingImportStatus.RUNNING
    assert StaffingRecord.objects.count() == 4


def test_a_worker_finishing_after_its_import_failed_keeps_nothing(tmp_path):
    late, table = running_with_rows(tmp_path, STALE_RUNNING + timedelta(minutes=1))
    funding_imports_fail_stale()
    services_funding._write(late, table, None)  # the worker wakes up and writes again
    result = services_funding._finish(late)
    assert result.status == FundingImportStatus.FAILED
    assert not FundingImport.objects.filter(is_current=True).exists()
    assert StaffingRecord.objects.count() == 0


def test_done_and_failed_imports_are_not_touched(tmp_path):
    done, _table = running_with_rows(tmp_path, STALE_RUNNING + timedelta(minutes=1))
    services_funding._finish(done)
    assert funding_imports_fail_stale() == []
    done.refresh_from_db()
    assert done.status == FundingImportStatus.DONE
    assert done.is_current


def test_orphaned_uploads_are_removed_and_recent_ones_kept(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    folder = services_funding._upload_dir()
    orphan, recent = folder / "a.upload", folder / "b.upload"
    orphan.write_bytes(b"x")
    recent.write_bytes(b"y")
    old = (timezone.now() - STALE_PENDING - timedelta(minutes=1)).timestamp()
    os.utime(orphan, (old, old))
    funding_imports_fail_stale()
    assert not orphan.exists()
    assert recent.exists()


def test_the_scheduler_runs_the_cleanup_every_hour():
    assert ("orgs_registry.tasks_funding.fail_stale_funding_imports", 3600) in (
        settings.PERIODIC_TASKS
    )
    pending(STALE_PENDING + timedelta(hours=1))
    assert fail_stale_funding_imports.call() == 1
