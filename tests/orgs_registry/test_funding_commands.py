"""manage.py import_staffing FILE / import_subsidies FILE: all or nothing, every bad row
printed as ``row N: column: problem``, exit status 1 on bad rows."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry.funding_command import ProgressBar
from orgs_registry.models import FundingImport, FundingImportStatus, StaffingRecord, Subsidy
from tests.funding_support import (
    STAFFING_HEADER,
    SUBSIDY_HEADER,
    csv_bytes,
    staff_row,
    subsidy_row,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def run(command: str, path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_staffing_imports_a_csv_roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([staff_row(1), staff_row(2)], STAFFING_HEADER))
    out, _err = run("import_staffing", path)
    item = FundingImport.objects.get()
    assert out.strip() == (
        f"2 staffing record(s) imported from roster.csv (import #{item.pk}, now the current "
        "version)"
    )
    assert item.is_current
    assert item.imported_by is None
    assert StaffingRecord.objects.count() == 2
    # The file given on the command line is left where it is.
    assert path.exists()


def test_import_subsidies_imports_an_xlsx_ledger(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx_bytes([subsidy_row(), subsidy_row(amount="5")], SUBSIDY_HEADER))
    out, _err = run("import_subsidies", path)
    assert out.startswith("2 subsidy record(s) imported from ledger.xlsx")
    assert Subsidy.objects.count() == 2


def test_bad_rows_are_all_printed_and_nothing_is_imported(tmp_path):
    path = tmp_path / "roster.csv"
    rows = [staff_row(1), staff_row(2, start="2020-13-01"), staff_row(3, employing_unit="")]
    path.write_bytes(csv_bytes(rows, STAFFING_HEADER))
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_staffing", str(path), stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 1
    assert "2 problem(s) in roster.csv; nothing was imported" in str(caught.value)
    assert err.getvalue().splitlines() == [
        "row 3: start: “2020-13-01” is not a date; write it as YYYY-MM-DD.",
        "row 4: employing_unit: A value is required.",
    ]
    assert StaffingRecord.objects.count() == 0
    assert FundingImport.objects.get().status == FundingImportStatus.FAILED
    assert AuditEvent.objects.filter(action=AuditAction.FUNDING_IMPORT_FAILED).count() == 1


def test_a_file_that_is_not_a_spreadsheet_is_an_error(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(CommandError) as caught:
        run("import_staffing", path)
    assert "by its content it is a PNG image" in str(caught.value)
    assert not FundingImport.objects.exists()


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError) as caught:
        run("import_subsidies", tmp_path / "nowhere.csv")
    assert "There is no file" in str(caught.value)


def test_the_progress_bar_draws_the_phases():
    stream = io.StringIO()
    bar = ProgressBar(stream, enabled=True)
    bar("check", 0, 0)
    bar("write", 50, 100)
    bar("write", 100, 100)
    text = stream.getvalue()
    assert "checking rows" in text
    assert "writing [" + "#" * 30 + "] 100/100 rows" in text
    assert text.endswith("\n")


def test_the_progress_bar_is_silent_when_disabled():
    stream = io.StringIO()
    ProgressBar(stream, enabled=False)("write", 1, 2)
    assert stream.getvalue() == ""
