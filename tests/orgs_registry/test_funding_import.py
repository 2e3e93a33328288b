"""Staffing roster and subsidy ledger imports: parsing, every bad cell by row and column,
all or nothing, versions kept as history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace.audit import audit_verify
from marketplace.models import AuditAction, AuditEvent
from orgs_registry import funding_import, selectors_funding
from orgs_registry.funding_import import normalize_id_numbers
from orgs_registry.identifiers import make_id_number, validate_id_number
from orgs_registry.models import (
    FundingImport,
    FundingImportStatus,
    PostFunding,
    PostType,
    ServiceCategory,
    StaffingRecord,
    Subsidy,
)
from orgs_registry.services_funding import funding_import_from_path, funding_import_start
from tests.funding_support import (
    STAFFING_HEADER,
    STAFFING_HEADER_ZH,
    SUBSIDY_HEADER,
    UNIT_USCC,
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


def write(tmp_path: Path, data: bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def import_staff(tmp_path: Path, rows, **kwargs) -> FundingImport:
    data = csv_bytes(rows, STAFFING_HEADER, **kwargs)
    return funding_import_from_path(kind="staffing", path=write(tmp_path, data))


def import_subsidies(tmp_path: Path, rows) -> FundingImport:
    data = csv_bytes(rows, SUBSIDY_HEADER)
    return funding_import_from_path(kind="subsidy", path=write(tmp_path, data, "ledger.csv"))


# --- GB 11643 for a whole column ----------------------------------------------------------------


def test_normalize_id_numbers_agrees_with_the_single_number_rule():
    valid = make_id_number(region="500103", born=date(1980, 1, 2), sequence=3, male=True)
    values = [
        valid,
        valid.lower(),
        " ".join(valid),
        "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in valid),  # full-width
        "500103800102031",  # legacy 15 digits
        valid[:17] + ("0" if valid[17] != "0" else "1"),  # wrong check character
        valid[:6] + "20991231" + valid[14:],  # birth date in the future
        "990103198001020310",  # no such province
        "12345",
        "١" * 18,  # Arabic-Indic digits are digits to a regex, not to GB 11643
        "",
    ]
    frame = normalize_id_numbers(pd.Series(values))
    for value, normalized in zip(values, frame["normalized"], strict=True):
        try:
            expected = validate_id_number(value)
        except ValueError:
            expected = ""
        assert normalized == expected, value
    assert frame.loc[0, "birth_date"] == pd.Timestamp(1980, 1, 2)
    assert frame.loc[0, "sex"] == "male"
    assert frame.loc[5, "sex"] == ""
    assert pd.isna(frame.loc[5, "birth_date"])


def test_normalize_id_numbers_of_an_empty_column_is_empty():
    assert normalize_id_numbers(pd.Series([], dtype="str")).empty


# --- Staffing roster ----------------------------------------------------------------------------


def test_a_roster_is_imported_with_normalized_ids_categories_and_choices(tmp_path, auditor):
    legacy = "500103800102031"
    rows = [
        staff_row(1),
        staff_row(2, id_number=legacy, post_type="administrative", funding_type="差额拨款"),
        staff_row(3, function="财务管理", end="2025-06-30", funding_type=""),
    ]
    done = import_staff(tmp_path, rows)
    assert done.status == FundingImportStatus.DONE
    assert done.is_current
    assert done.row_count == 3
    assert done.progress == 100
    first, second, third = StaffingRecord.objects.order_by("row_number")
    assert first.row_number == 2
    assert first.id_number_normalized == rows[0]["id_number"]
    assert first.birth_date == date(1971, 2, 2)
    assert first.sex == "male"
    assert first.category == ServiceCategory.objects.get(code="elderly_care")
    assert first.post_type == PostType.PUBLIC_INSTITUTION
    assert first.funding_type == PostFunding.FULL
    assert first.unit_uscc == UNIT_USCC
    assert second.id_number == legacy
    assert second.id_number_normalized == validate_id_number(legacy)
    assert second.post_type == PostType.ADMINISTRATIVE
    assert second.funding_type == PostFunding.PARTIAL
    # A function outside the service catalogue is kept as written, without a category.
    assert third.category is None
    assert third.function_text == "财务管理"
    assert third.end == date(2025, 6, 30)
    assert third.funding_type == PostFunding.FULL


def test_a_mistyped_id_number_is_kept_as_written_for_the_linkage(tmp_path):
    good = staff_row(1)["id_number"]
    typo = good[:5] + str((int(good[5]) + 1) % 10) + good[6:]
    import_staff(tmp_path, [staff_row(1, id_number=typo)])
    record = StaffingRecord.objects.get()
    assert record.id_number == typo
    assert record.id_number_normalized == ""
    assert record.birth_date is None
    assert record.sex == ""


def test_chinese_headers_and_an_xlsx_file_are_read(tmp_path):
    data = csv_bytes([staff_row(1)], STAFFING_HEADER, labels=STAFFING_HEADER_ZH)
    funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    xlsx = xlsx_bytes([staff_row(2), staff_row(3)], STAFFING_HEADER, labels=STAFFING_HEADER_ZH)
    # The name says CSV; the content decides.
    second = funding_import_from_path(kind="staffing", path=write(tmp_path, xlsx, "x.csv"))
    assert second.status == FundingImportStatus.DONE
    assert second.staffing_records.count() == 2
    assert StaffingRecord.objects.count() == 3


def test_a_gb18030_csv_is_read(tmp_path):
    data = csv_bytes([staff_row(1)], STAFFING_HEADER).decode().encode("gb18030")
    done = funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    assert done.staffing_records.get().employing_unit == "渝中区解放碑街道社区服务中心"


def test_every_bad_cell_is_reported_by_row_and_column_and_nothing_is_saved(tmp_path):
    rows = [
        staff_row(1),
        staff_row(2, person_name=""),
        staff_row(3, post_type="临时工"),
        staff_row(4, funding_type="donations"),
        staff_row(5, start="2020-02-30"),
        staff_row(6, start="2021-01-01", end="2020-01-01"),
        staff_row(7, unit_uscc="12345"),
        staff_row(8, id_number="5.00103E+17"),
        staff_row(9, employing_unit="单" * 201),
        staff_row(10, id_number=""),
    ]
    failed = import_staff(tmp_path, rows)
    assert failed.status == FundingImportStatus.FAILED
    assert StaffingRecord.objects.count() == 0
    assert not failed.is_current
    problems = failed.errors
    assert "row 3: person_name: A value is required." in problems
    assert any(
        p.startswith("row 4: post_type: Unknown value “临时工”; use one of:") for p in problems
    )
    assert any(p.startswith("row 5: funding_type: Unknown value “donations”") for p in problems)
    assert "row 6: start: “2020-02-30” is not a date; write it as YYYY-MM-DD." in problems
    assert "row 7: end: The end date is before the start date." in problems
    assert any(p.startswith("row 8: unit_uscc: USCC must have 18 characters") for p in problems)
    assert any(
        p.startswith("row 9: id_number: The cell holds a number in scientific") for p in problems
    )
    assert "row 10: employing_unit: At most 200 characters." in problems
    assert "row 11: id_number: A value is required." in problems
    assert len(problems) == 9
    assert not any(p.startswith("row 2:") for p in problems)


def test_a_failed_import_leaves_the_current_version_current(tmp_path):
    first = import_staff(tmp_path, [staff_row(1)])
    failed = import_staff(tmp_path, [staff_row(2, start="soon")])
    first.refresh_from_db(fields=["is_current"])
    assert failed.status == FundingImportStatus.FAILED
    assert first.is_current
    assert selectors_funding.funding_import_current("staffing") == first


def test_file_problems_fail_the_import_with_the_reason(tmp_path):
    missing = csv_bytes([{"person_name": "张伟"}], ["person_name"])
    failed = funding_import_from_path(kind="staffing", path=write(tmp_path, missing))
    assert failed.status == FundingImportStatus.FAILED
    assert failed.errors[0].startswith("Missing columns: id_number (身份证号)")
    empty = csv_bytes([], STAFFING_HEADER)
    failed = funding_import_from_path(kind="staffing", path=write(tmp_path, empty))
    assert failed.errors == ["The file has no rows under the header."]


def test_a_file_that_is_not_a_spreadsheet_is_refused_before_an_import_is_recorded(tmp_path):
    pdf = write(tmp_path, b"%PDF-1.7\n...", "roster.csv")
    with pytest.raises(ValidationError) as caught:
        funding_import_from_path(kind="staffing", path=pdf)
    assert "by its content it is a PDF document" in caught.value.message_dict["file"][0]
    assert not FundingImport.objects.exists()


def test_a_newer_roster_becomes_current_and_the_old_one_stays_as_history(tmp_path, auditor):
    first = import_staff(tmp_path, [staff_row(1), staff_row(2)])
    second = import_staff(tmp_path, [staff_row(3)])
    first.refresh_from_db(fields=["is_current"])
    assert second.is_current
    assert not first.is_current
    assert FundingImport.objects.filter(kind="staffing").count() == 2
    current = selectors_funding.staffing_record_list_for_user(auditor)
    assert [r.id_number for r in current] == [staff_row(3)["id_number"]]
    old = selectors_funding.staffing_record_list_for_user(auditor, filters={"version": first.pk})
    assert old.count() == 2
    event = (
        AuditEvent.objects.filter(action=AuditAction.FUNDING_IMPORTED).order_by("sequence").last()
    )
    assert event.details["replaces"] == first.pk
    assert audit_verify().ok


def test_importing_the_current_file_again_is_refused(tmp_path):
    data = csv_bytes([staff_row(1)], STAFFING_HEADER)
    funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    with pytest.raises(ValidationError) as caught:
        funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    assert "already the current version" in caught.value.message_dict["file"][0]


def test_an_import_writes_one_audit_event_per_state_change(tmp_path):
    done = import_staff(tmp_path, [staff_row(1)])
    events = AuditEvent.objects.filter(object_id=str(done.pk)).order_by("sequence")
    assert [(e.action, e.state_before, e.state_after) for e in events] == [
        (AuditAction.FUNDING_IMPORT_STARTED, "pending", "running"),
        (AuditAction.FUNDING_IMPORTED, "running", "done"),
    ]
    assert events[0].details["rows"] == 1
    assert events[0].details["format"] == "csv"
    failed = import_staff(tmp_path, [staff_row(2, start="x")])
    event = AuditEvent.objects.get(object_id=str(failed.pk))
    assert event.action == AuditAction.FUNDING_IMPORT_FAILED
    assert event.details["problems"] == 1


def test_rows_are_written_in_chunks_with_progress(tmp_path, monkeypatch):
    monkeypatch.setattr("orgs_registry.services_funding.CHUNK_ROWS", 2)
    seen = []
    data = csv_bytes([staff_row(n) for n in range(5)], STAFFING_HEADER)
    done = funding_import_from_path(
        kind="staffing",
        path=write(tmp_path, data),
        progress=lambda phase, n, total: seen.append((phase, n, total)),
    )
    assert done.staffing_records.count() == 5
    assert [s for s in seen if s[0] == "write"] == [
        ("write", 2, 5),
        ("write", 4, 5),
        ("write", 5, 5),
    ]


def test_a_failure_while_writing_deletes_the_rows_already_written(tmp_path, monkeypatch):
    monkeypatch.setattr("orgs_registry.services_funding.CHUNK_ROWS", 2)
    calls = []
    real = __import__("orgs_registry.services_funding", fromlist=["x"])._bulk_create_chunk

    def flaky(model, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(model, chunk)

    monkeypatch.setattr("orgs_registry.services_funding._bulk_create_chunk", flaky)
    # PostgreSQL writes with COPY: the same failure there, on the second chunk.
    real_copy = __import__("orgs_registry.services_funding", fromlist=["x"])._copy_chunks

    def flaky_copy(model, chunks, columns, written):
        real_copy(model, chunks[:1], columns, written)
        raise RuntimeError("disk full")

    monkeypatch.setattr("orgs_registry.services_funding._copy_chunks", flaky_copy)
    data = csv_bytes([staff_row(n) for n in range(5)], STAFFING_HEADER)
    with pytest.raises(RuntimeError):
        funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    assert StaffingRecord.objects.count() == 0
    assert FundingImport.objects.get().status == FundingImportStatus.FAILED


# --- Subsidy ledger -----------------------------------------------------------------------------


def test_a_ledger_is_imported_and_linked_to_the_registered_organization(tmp_path, organization):
    rows = [
        subsidy_row(recipient_uscc=organization.uscc, amount="¥12,000.5"),
        subsidy_row(recipient_name="某协会", purpose="读书会", amount="800"),
    ]
    done = import_subsidies(tmp_path, rows)
    assert done.status == FundingImportStatus.DONE
    linked, other = Subsidy.objects.order_by("row_number")
    assert linked.organization == organization
    assert str(linked.amount) == "12000.50"
    assert linked.category.code == "elderly_care"
    assert linked.period_start == date(2026, 1, 1)
    assert linked.period_end == date(2026, 12, 31)
    assert other.organization is None
    assert other.category is None
    assert other.purpose_text == "读书会"


def test_bad_ledger_rows_are_all_reported(tmp_path):
    rows = [
        subsidy_row(amount="lots"),
        subsidy_row(amount="-5"),
        subsidy_row(amount="1.234"),
        subsidy_row(period_end="2025-01-01"),
        subsidy_row(recipient_uscc="91500000MA5U0XXXXX"),
        subsidy_row(purpose=""),
    ]
    failed = import_subsidies(tmp_path, rows)
    assert failed.status == FundingImportStatus.FAILED
    assert Subsidy.objects.count() == 0
    problems = failed.errors
    assert "row 2: amount: “lots” is not an amount of money." in problems
    assert "row 3: amount: The amount must be more than 0." in problems
    assert "row 4: amount: Use at most two decimal places (fen)." in problems
    assert "row 5: period_end: The end date is before the start date." in problems
    assert any(p.startswith("row 6: recipient_uscc: ") for p in problems)
    assert "row 7: purpose: A value is required." in problems


# --- Uploads (the page and the API) -------------------------------------------------------------


def test_an_upload_is_queued_and_run_after_the_commit(
    auditor, django_capture_on_commit_callbacks, settings
):
    upload = SimpleUploadedFile("roster.csv", csv_bytes([staff_row(1)], STAFFING_HEADER))
    with django_capture_on_commit_callbacks(execute=True):
        queued = funding_import_start(kind="staffing", upload=upload, actor=auditor)
    assert queued.status == FundingImportStatus.PENDING
    done = FundingImport.objects.get(pk=queued.pk)
    assert done.status == FundingImportStatus.DONE
    assert done.imported_by == auditor
    assert done.file_name == "roster.csv"
    # The private copy of the upload is deleted once imported.
    assert list((Path(settings.MEDIA_ROOT) / "funding_imports").iterdir()) == []


def test_only_auditors_may_upload(official, registry_admin, org_admin):
    for user in (official, registry_admin, org_admin):
        upload = SimpleUploadedFile("roster.csv", csv_bytes([staff_row(1)], STAFFING_HEADER))
        with pytest.raises(PermissionDenied):
            funding_import_start(kind="staffing", upload=upload, actor=user)
    assert not FundingImport.objects.exists()


def test_an_upload_over_the_size_limit_is_refused(auditor, monkeypatch):
    monkeypatch.setattr("orgs_registry.services_funding.MAX_BYTES", 100)
    upload = SimpleUploadedFile(
        "roster.csv", csv_bytes([staff_row(n) for n in range(5)], STAFFING_HEADER)
    )
    with pytest.raises(ValidationError) as caught:
        funding_import_start(kind="staffing", upload=upload, actor=auditor)
    assert "the limit is 100" in caught.value.message_dict["file"][0]
    assert not FundingImport.objects.exists()


def test_an_unknown_kind_is_refused(auditor):
    upload = SimpleUploadedFile("roster.csv", csv_bytes([staff_row(1)], STAFFING_HEADER))
    with pytest.raises(ValidationError) as caught:
        funding_import_start(kind="payroll", upload=upload, actor=auditor)
    assert "kind" in caught.value.message_dict


def test_the_row_limit_is_a_file_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(funding_import, "MAX_ROWS", 2)
    failed = import_staff(tmp_path, [staff_row(n) for n in range(3)])
    assert failed.errors == ["The file has 3 rows; at most 2 can be imported at once."]


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ValidationError) as caught:
        funding_import_from_path(kind="staffing", path=write(tmp_path, buffer.getvalue()))
    assert "another kind of ZIP archive" in caught.value.message_dict["file"][0]


def test_binary_data_early_in_a_csv_is_refused_before_an_import_is_recorded(tmp_path):
    data = csv_bytes([staff_row(1)], STAFFING_HEADER) + b"\x01\x02garbage\n"
    with pytest.raises(ValidationError) as caught:
        funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    assert "binary data" in caught.value.message_dict["file"][0]
    assert not FundingImport.objects.exists()


def test_binary_data_past_the_sniffed_start_fails_the_import(tmp_path):
    rows = [staff_row(n) for n in range(800)]  # more than the 64 KiB the sniff reads
    data = csv_bytes(rows, STAFFING_HEADER) + b"\x01\x02garbage\n"
    failed = funding_import_from_path(kind="staffing", path=write(tmp_path, data))
    assert failed.status == FundingImportStatus.FAILED
    assert "binary data" in failed.errors[0]
    assert StaffingRecord.objects.count() == 0


def test_an_import_run_twice_runs_once(tmp_path):
    from orgs_registry.services_funding import funding_import_run

    path = write(tmp_path, csv_bytes([staff_row(1)], STAFFING_HEADER))
    done = funding_import_from_path(kind="staffing", path=path)
    again = funding_import_run(
        funding_import_id=done.pk, path=str(path), fmt="csv", delete_file=False
    )
    assert again.status == FundingImportStatus.DONE
    assert StaffingRecord.objects.count() == 1
