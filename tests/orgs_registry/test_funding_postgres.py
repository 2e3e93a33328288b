"""The PostgreSQL write path of the funding imports: COPY in chunks (psycopg 3), NULL for
missing dates and categories, "" for blank text, and progress committed per chunk."""

from __future__ import annotations

from datetime import date

import pytest

from orgs_registry.models import FundingImport, FundingImportStatus, StaffingRecord, Subsidy
from orgs_registry.services_funding import funding_import_from_path
from tests.funding_support import (
    STAFFING_HEADER,
    SUBSIDY_HEADER,
    csv_bytes,
    staff_row,
    subsidy_row,
)

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]


def test_copy_writes_every_column_of_the_roster(tmp_path, monkeypatch):
    monkeypatch.setattr("orgs_registry.services_funding.CHUNK_ROWS", 2)
    rows = [
        staff_row(1),
        staff_row(2, id_number='bad, "quoted" number', unit_uscc="", function="财务"),
        staff_row(3, end="2024-12-31", person_name="O'Brien, Mary"),
    ]
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(rows, STAFFING_HEADER))
    done = funding_import_from_path(kind="staffing", path=path)
    assert done.status == FundingImportStatus.DONE
    assert FundingImport.objects.get(pk=done.pk).rows_done == 3
    first, second, third = StaffingRecord.objects.order_by("row_number")
    assert first.id_number_normalized == rows[0]["id_number"]
    assert first.birth_date is not None
    assert first.category is not None
    assert first.end is None
    assert second.id_number == 'bad, "quoted" number'
    assert second.id_number_normalized == ""
    assert second.birth_date is None
    assert second.sex == ""
    assert second.unit_uscc == ""
    assert second.category is None
    assert second.function_text == "财务"
    assert third.person_name == "O'Brien, Mary"
    assert third.end == date(2024, 12, 31)


def test_copy_writes_the_ledger(tmp_path, organization):
    path = tmp_path / "ledger.csv"
    rows = [subsidy_row(recipient_uscc=organization.uscc), subsidy_row(programme="")]
    path.write_bytes(csv_bytes(rows, SUBSIDY_HEADER))
    funding_import_from_path(kind="subsidy", path=path)
    linked, other = Subsidy.objects.order_by("row_number")
    assert linked.organization == organization
    assert str(linked.amount) == "120000.00"
    assert other.organization is None
    assert other.programme == ""
