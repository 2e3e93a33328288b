"""Imports with broken rows, for both importers: the organization's roster (synchronous,
through the API) and the auditors' staffing roster (the funding import, run from a file).

What the importers' own tests do not already cover: text Excel saves as UTF-16 ("Unicode
text"), merged cells, formula cells, blank rows inside a workbook (row numbers must stay
the spreadsheet's), invisible and control characters, duplicates and a mix of bad dates
and ID numbers in one file. Each file is refused with one message per bad cell
(``row N: column: problem``, the row number a user sees) or for the whole file naming
what is wrong, and nothing is imported: no row, no audit event of an import.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import Employment, FundingImportStatus, StaffingRecord
from orgs_registry.services_funding import funding_import_from_path
from tests.funding_support import STAFFING_HEADER, csv_bytes, staff_row, xlsx_bytes

ROSTER_HEADER = ["姓名", "身份证号", "岗位", "入职日期"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def person(n: int) -> str:
    born = date(1980 + n % 10, 1 + n % 9, 10 + n % 9)
    return make_id_number(region="500103", born=born, sequence=100 + n, male=True)


def roster_rows(count: int = 3) -> list[list[str]]:
    return [[f"员工{i}", person(i), "社工", "2024-01-0" + str(1 + i % 9)] for i in range(count)]


def roster_csv(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    lines = [",".join(ROSTER_HEADER)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def workbook(rows: list[list[Any]], header: list[str] = ROSTER_HEADER) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    return book


def saved(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post_roster(org_admin, data: bytes, name: str = "roster.csv"):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(org_admin)
    url = f"/api/v1/organizations/{org_admin.organization_id}/staff/import/"
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def roster_problems(org_admin, data: bytes, name: str = "roster.csv") -> list[str]:
    """The refusal's messages; fails unless the import was refused and left nothing."""
    before = Employment.objects.count()
    response = post_roster(org_admin, data, name)
    assert response.status_code == 400, response.content
    body = response.json()
    assert Employment.objects.count() == before
    assert not AuditEvent.objects.filter(action=AuditAction.ROSTER_IMPORTED).exists()
    messages = [str(m) for value in body["fields"].values() for m in value]
    assert messages, body
    return messages


# --- The organization's roster -------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_roster_saved_as_unicode_text_is_refused_saying_so(org_admin, encoding):
    (message,) = roster_problems(org_admin, roster_csv(roster_rows(), encoding))
    assert "UTF-16" in message or "binary data" in message
    assert "UTF-8" in message  # it says what to save instead


def test_a_gbk_roster_with_a_bom_less_utf8_neighbour_still_imports(org_admin):
    """GBK (what Chinese Excel writes as CSV) and UTF-8 with a BOM both import."""
    for encoding, rows in [("gbk", roster_rows(2)), ("utf-8-sig", [roster_rows(4)[3]])]:
        response = post_roster(org_admin, roster_csv(rows, encoding))
        assert response.status_code == 201, (encoding, response.content)


def test_merged_cells_report_the_rows_they_leave_empty(org_admin):
    book = workbook(roster_rows(3))
    book.active.merge_cells("A2:A3")  # the name of row 2 spread over row 3
    book.active.merge_cells("C3:C4")
    problems = roster_problems(org_admin, saved(book), "roster.xlsx")
    assert "row 3: name: A value is required." in problems
    assert "row 4: role: A value is required." in problems
    assert not any(p.startswith("row 2:") for p in problems)


def test_formula_cells_without_values_are_reported_per_cell(org_admin):
    """A workbook whose formulas were never calculated (written by a program, not Excel)
    holds no values in them: each such cell is reported, none is imported as a formula."""
    rows = roster_rows(3)
    rows[1][1] = "=B2"  # an ID number copied by formula
    rows[2][0] = '=HYPERLINK("http://evil.example/","点我")'
    problems = roster_problems(org_admin, saved(workbook(rows)), "roster.xlsx")
    assert "row 3: id_number: A value is required." in problems
    assert "row 4: name: A value is required." in problems


def test_blank_rows_inside_a_workbook_keep_the_spreadsheets_row_numbers(org_admin):
    rows: list[list[Any]] = roster_rows(2)
    rows += [[None, None, None, None], ["   ", "", None, " "]]
    rows += [["员工9", "11010519491231002Y", "社工", "2024-02-30"]]
    problems = roster_problems(org_admin, saved(workbook(rows)), "roster.xlsx")
    assert any(p.startswith("row 6: id_number: ") for p in problems), problems
    assert "row 6: start_date: “2024-02-30” is not a date; write it as YYYY-MM-DD." in problems


def test_a_mix_of_bad_dates_ids_and_duplicates_is_reported_cell_by_cell(org_admin):
    good = roster_rows(3)
    rows = [
        good[0],
        [good[1][0], good[1][1], "社工", "2024/13/01"],
        [good[2][0], good[2][1][:-1], "社工", "昨天"],
        ["重复", good[0][1], "社工", "45292"],  # an Excel serial day is a date
        ["无名氏", "ABCDEFGHIJKLMNOPQR", "社工", "2024-01-01"],
        ["零", "0" * 18, "社工", "1899-12-31 00:00"],
    ]
    problems = roster_problems(org_admin, roster_csv(rows))
    assert "row 3: start_date: “2024/13/01” is not a date; write it as YYYY-MM-DD." in problems
    assert any(p.startswith("row 4: id_number: ") for p in problems)
    assert "row 4: start_date: “昨天” is not a date; write it as YYYY-MM-DD." in problems
    assert "row 5: id_number: The same ID number is already in row 2." in problems
    assert not any(p.startswith("row 5: start_date") for p in problems)
    assert any(p.startswith("row 6: id_number: ") for p in problems)
    assert any(p.startswith("row 7: id_number: ") for p in problems)
    assert problems[0] == "6 problems in the file; nothing was imported."
    assert all(p.startswith("row ") for p in problems[1:]), problems


@pytest.mark.parametrize(
    "cell",
    ["张\x1b[31m三".encode(), "张\u202e三".encode(), b"a\x00b", b"\xed\xa0\x80"],
    ids=["escape", "rtl-override", "nul", "lone-surrogate"],
)
def test_control_characters_in_a_cell_never_break_the_import(org_admin, cell):
    """Refused (on the cell, or for bytes no CSV text carries, on the file), or stored
    without the invisible character; never a 500, never a half import."""
    rows = roster_rows(2)
    data = roster_csv(rows[:1]) + cell + b"," + ",".join(rows[1][1:]).encode() + b"\n"
    before = Employment.objects.count()
    response = post_roster(org_admin, data)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert Employment.objects.count() == before
        messages = [m for value in response.json()["fields"].values() for m in value]
        assert any("row 3: name: " in m or "file" in m.lower() or "binary" in m for m in messages)
    else:
        names = Employment.objects.values_list("person__name", flat=True)
        assert all(ch.isprintable() for name in names for ch in name), list(names)


# --- The auditors' staffing roster ---------------------------------------------------------


def import_staffing(tmp_path: Path, data: bytes, name: str = "roster.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return funding_import_from_path(kind="staffing", path=path)


def test_a_staffing_roster_saved_as_unicode_text_is_refused(tmp_path, db):
    data = csv_bytes([staff_row(1)], STAFFING_HEADER).decode().encode("utf-16")
    with pytest.raises(ValidationError, match=r"UTF-16|binary") as excinfo:
        import_staffing(tmp_path, data)
    assert "file" in excinfo.value.message_dict
    assert not StaffingRecord.objects.exists()


def test_a_staffing_workbook_with_merged_cells_formulas_and_blank_rows(tmp_path, db):
    """Bad cells are reported with the spreadsheet's row numbers; nothing is saved."""
    rows = [staff_row(n) for n in range(1, 5)]
    data = xlsx_bytes(rows, STAFFING_HEADER)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    sheet.merge_cells("A2:A3")  # person_name of row 3 left empty
    sheet["B4"] = "=B2"  # a formula never calculated: no value
    sheet.insert_rows(5)  # a blank row 5; the last person moves to row 6
    sheet["E6"] = "not-a-type"
    failed = import_staffing(tmp_path, saved(book), "roster.xlsx")
    assert failed.status == FundingImportStatus.FAILED
    problems = failed.errors
    assert "row 3: person_name: A value is required." in problems
    assert "row 4: id_number: A value is required." in problems
    assert any(p.startswith("row 6: ") for p in problems), problems
    assert not StaffingRecord.objects.exists()


def test_a_staffing_roster_with_a_utf8_bom_and_gbk_neighbours_imports(tmp_path, db):
    for n, encoding in [(1, "utf-8-sig"), (2, "gb18030")]:
        data = csv_bytes([staff_row(n)], STAFFING_HEADER).decode().encode(encoding)
        done = import_staffing(tmp_path, data, f"roster{n}.csv")
        assert done.status == FundingImportStatus.DONE, (encoding, done.errors)
