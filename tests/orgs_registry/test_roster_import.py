"""Roster import from CSV or XLSX: every bad cell reported by row and column, all or nothing."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace.audit import audit_verify
from marketplace.models import AuditAction, AuditEvent
from marketplace.uploads import sha256_hex
from orgs_registry import roster_import as roster_import_module
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import Employment, Person, Qualification
from orgs_registry.roster_import import (
    MAX_ROWS,
    RosterImportError,
    RosterImportResult,
    RowProblem,
    roster_import,
)
from orgs_registry.services import StaffInput, staff_add

COLUMNS = [
    "name",
    "id_number",
    "role",
    "weekly_hours",
    "start_date",
    "end_date",
    "phone",
    "qualification",
    "certificate_number",
    "certified_on",
]
CHINESE = [
    "姓名",
    "身份证号",
    "岗位",
    "每周工时",
    "入职日期",
    "离职日期",
    "电话",
    "职业水平",
    "证书编号",
    "发证日期",
]


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in their English source form."""
    with translation.override("en"):
        yield


def id_number(n: int, *, region: str = "500103") -> str:
    born = date(1970, 1, 1) + timedelta(days=397 * n)
    return make_id_number(region=region, born=born, sequence=n, male=n % 2 == 0)


def row(n: int, **values: str) -> dict[str, str]:
    """A good row for person ``n``; keyword arguments replace cells."""
    base = {
        "name": f"测试{'甲乙丙丁戊己庚辛壬癸'[n % 10]}{n}",
        "id_number": id_number(n),
        "role": "社工",
        "weekly_hours": "40",
        "start_date": "2024-03-01",
        "end_date": "",
        "phone": "",
        "qualification": "",
        "certificate_number": "",
        "certified_on": "",
    }
    base.update(values)
    return base


def csv_upload(
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    headers: list[str] = COLUMNS,
    name: str = "roster.csv",
) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for values in rows:
        writer.writerow([values.get(code, "") for code in COLUMNS[: len(headers)]])
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), "text/csv")


def counts() -> tuple[int, int, int, int]:
    return (
        Person.objects.count(),
        Employment.objects.count(),
        Qualification.objects.count(),
        AuditEvent.objects.count(),
    )


def problems_of(excinfo: pytest.ExceptionInfo[RosterImportError]) -> set[tuple[int, str]]:
    return {(problem.row, problem.column) for problem in excinfo.value.problems}


# --- Good files -------------------------------------------------------------------------------


def test_a_good_csv_imports_every_row_with_an_event_each(organization, org_admin):
    rows = [
        row(1),
        row(2, weekly_hours="20", phone="13812345678", qualification="social_worker"),
        row(3, end_date="2024-12-31", certificate_number="2019035001", qualification="社会工作师"),
    ]
    upload = csv_upload(rows)
    before = AuditEvent.objects.count()

    result = roster_import(organization=organization, actor=org_admin, upload=upload)

    assert result == RosterImportResult(rows=3, people_created=3)
    employments = Employment.objects.filter(organization=organization)
    assert {e.person.id_number for e in employments} == {id_number(n) for n in (1, 2, 3)}
    second = employments.get(person__id_number=id_number(2))
    assert second.weekly_hours == Decimal("20")
    assert second.person.phone == "13812345678"
    assert employments.get(person__id_number=id_number(3)).end_date == date(2024, 12, 31)
    assert set(Qualification.objects.values_list("level", flat=True)) == {"social_worker"}
    events = AuditEvent.objects.order_by("sequence")[before:]
    assert [e.action for e in events] == [AuditAction.STAFF_ADDED] * 3 + [
        AuditAction.ROSTER_IMPORTED
    ]
    summary = events[3]
    upload.seek(0)
    assert summary.details["sha256"] == sha256_hex(upload.read())
    assert summary.details["rows"] == 3
    assert summary.details["filename"] == "roster.csv"
    assert summary.actor == org_admin
    assert audit_verify().ok


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_headers_in_every_encoding_excel_writes(organization, org_admin, encoding):
    rows = [row(1, qualification="助理社会工作师"), row(2, qualification="高级社会工作师")]
    upload = csv_upload(rows, encoding=encoding, headers=CHINESE)

    result = roster_import(organization=organization, actor=org_admin, upload=upload)

    assert result.rows == 2
    assert set(Qualification.objects.values_list("level", flat=True)) == {
        "assistant_social_worker",
        "senior_social_worker",
    }
    assert set(Person.objects.values_list("name", flat=True)) == {row(1)["name"], row(2)["name"]}


def test_an_xlsx_with_date_cells_numbers_and_text_ids_imports(organization, org_admin):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(CHINESE[:7])
    sheet.append(["王芳", id_number(1), "项目主管", 40, date(2021, 5, 10), None, "023-63891234"])
    # An ID ending in X stays text; hours with a decimal; a serial day number as a date.
    x_number = next(id_number(n) for n in range(2, 200) if id_number(n).endswith("X"))
    sheet.append(["李强", x_number, "心理咨询师", 37.5, 45292, date(2024, 6, 30), None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("名册.xlsx", buffer.getvalue())

    result = roster_import(organization=organization, actor=org_admin, upload=upload)

    assert result.rows == 2
    first = Employment.objects.get(person__id_number=id_number(1))
    assert first.start_date == date(2021, 5, 10)
    assert first.person.phone == "023-63891234"
    second = Employment.objects.get(person__id_number=x_number)
    assert (second.weekly_hours, second.start_date, second.end_date) == (
        Decimal("37.5"),
        date(2024, 1, 1),
        date(2024, 6, 30),
    )


def test_an_xlsx_written_by_pandas_imports(organization, org_admin):
    frame = pd.DataFrame([row(1, phone="13900001111"), row(2)])
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    upload = SimpleUploadedFile("roster.xlsx", buffer.getvalue())

    assert roster_import(organization=organization, actor=org_admin, upload=upload).rows == 2


def test_a_legacy_15_digit_number_is_stored_as_18(organization, org_admin):
    full = make_id_number(region="500103", born=date(1968, 4, 12), sequence=37, male=True)
    legacy = full[:6] + full[8:17]
    assert len(legacy) == 15

    roster_import(
        organization=organization, actor=org_admin, upload=csv_upload([row(1, id_number=legacy)])
    )

    assert Person.objects.get().id_number == full


def test_a_person_already_on_record_elsewhere_is_linked_not_duplicated(
    organization, org_admin, other_organization, other_org_admin
):
    staff_add(
        organization=other_organization,
        actor=other_org_admin,
        data=StaffInput(
            name="张 三", id_number=id_number(1), role="社工", start_date=date(2020, 1, 1)
        ),
    )
    upload = csv_upload([row(1, name="张三"), row(2)])

    result = roster_import(organization=organization, actor=org_admin, upload=upload)

    assert result == RosterImportResult(rows=2, people_created=1)
    assert Person.objects.count() == 2
    assert Employment.objects.filter(person__id_number=id_number(1)).count() == 2


def test_blank_lines_and_extra_columns_are_ignored_and_row_numbers_kept(organization, org_admin):
    text = (
        "序号,name,id_number,role,start_date,备注\n"
        f"1,甲,{id_number(1)},社工,2024-01-01,\n"
        "\n"
        ",,,,,\n"
        f"2,乙,{id_number(2)},社工,2024-13-01,新入职\n"
    )
    upload = SimpleUploadedFile("roster.csv", text.encode())

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=upload)

    assert [str(p) for p in excinfo.value.problems] == [
        "row 5: start_date: “2024-13-01” is not a date; write it as YYYY-MM-DD."
    ]


# --- Bad rows ---------------------------------------------------------------------------------


def test_every_kind_of_bad_cell_is_reported_by_row_and_column_and_nothing_is_saved(
    organization, org_admin, other_organization, other_org_admin
):
    staff_add(
        organization=other_organization,
        actor=other_org_admin,
        data=StaffInput(
            name="赵六", id_number=id_number(20), role="社工", start_date=date(2020, 1, 1)
        ),
    )
    staff_add(
        organization=organization,
        actor=org_admin,
        data=StaffInput(
            name="钱七", id_number=id_number(21), role="社工", start_date=date(2021, 1, 1)
        ),
    )
    good = id_number(1)
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        row(1),  # row 2: good
        row(2, id_number=bad_check),  # row 3
        row(3, start_date="2023-02-30"),  # row 4
        row(4, weekly_hours="many"),  # row 5
        row(5, weekly_hours="90"),  # row 6
        row(6, start_date="2024-05-01", end_date="2024-04-30"),  # row 7
        row(7, qualification="社工"),  # row 8
        row(8, phone="12345"),  # row 9
        row(9, role=""),  # row 10
        row(10, name="赵陆", id_number=id_number(20)),  # row 11: another name on record
        row(11, name="钱七", id_number=id_number(21)),  # row 12: already works here
        row(12, id_number=good),  # row 13: same ID as row 2
        row(13, certificate_number="2019035001"),  # row 14: certificate without a level
        row(14, id_number="51010119991332123X"),  # row 15: no 32nd of the month
        row(15, name=""),  # row 16
        row(16, start_date=""),  # row 17
        row(17, weekly_hours="37.25"),  # row 18
    ]
    before = counts()

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=csv_upload(rows))

    assert problems_of(excinfo) == {
        (3, "id_number"),
        (4, "start_date"),
        (5, "weekly_hours"),
        (6, "weekly_hours"),
        (7, "end_date"),
        (8, "qualification"),
        (9, "phone"),
        (10, "role"),
        (11, "name"),
        (12, "id_number"),
        (13, "id_number"),
        (14, "certificate_number"),
        (15, "id_number"),
        (16, "name"),
        (17, "start_date"),
        (18, "weekly_hours"),
    }
    messages = [str(p) for p in excinfo.value.problems]
    assert messages[0].startswith("row 3: id_number: ID number check character (position 18) is")
    assert "row 6: weekly_hours: Weekly hours must be between 0 and 84." in messages
    assert "row 7: end_date: The end date is before the start date." in messages
    assert "row 11: name: The name does not match the record for this ID number." in messages
    assert "row 12: id_number: This person already works for the organization." in messages
    assert "row 13: id_number: The same ID number is already in row 2." in messages
    assert "row 15: id_number: ID number birth date 19991332 is not a real date" in messages
    assert messages[0].startswith("row 3:")  # sorted by row
    assert excinfo.value.messages == messages
    assert counts() == before


def test_a_file_of_three_bad_rows_reports_all_three(organization, org_admin):
    rows = [row(1, id_number="123"), row(2, start_date="yesterday"), row(3, weekly_hours="-4")]

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=csv_upload(rows))

    assert problems_of(excinfo) == {(2, "id_number"), (3, "start_date"), (4, "weekly_hours")}
    assert str(excinfo.value.problems[0]) == (
        "row 2: id_number: ID number must have 18 characters (or 15 for a legacy number), not 3"
    )
    assert Person.objects.count() == 0


def test_the_same_id_number_twice_in_the_file_is_reported_on_the_repeat(organization, org_admin):
    rows = [row(1), row(2), row(3, id_number=id_number(1).lower()), row(4, id_number=id_number(2))]

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=csv_upload(rows))

    assert [str(p) for p in excinfo.value.problems] == [
        "row 4: id_number: The same ID number is already in row 2.",
        "row 5: id_number: The same ID number is already in row 3.",
    ]


def test_a_name_that_differs_from_the_person_on_record_is_refused(
    organization, org_admin, other_organization, other_org_admin
):
    staff_add(
        organization=other_organization,
        actor=other_org_admin,
        data=StaffInput(
            name="孙丽", id_number=id_number(5), role="社工", start_date=date(2022, 1, 1)
        ),
    )

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(
            organization=organization,
            actor=org_admin,
            upload=csv_upload([row(1), row(5, name="孙莉")]),
        )

    assert [str(p) for p in excinfo.value.problems] == [
        "row 3: name: The name does not match the record for this ID number."
    ]
    assert Employment.objects.filter(organization=organization).count() == 0


def test_a_refusal_by_the_service_rolls_back_the_rows_already_written(
    organization, org_admin, monkeypatch
):
    """Whatever the checks miss, staff_add catches; the rows before it are undone too."""
    real_staff_add = roster_import_module.staff_add

    def refuse_the_second(*, organization, actor, data):
        if data.id_number == id_number(2):
            raise ValidationError({"role": "This role is not allowed."})
        return real_staff_add(organization=organization, actor=actor, data=data)

    monkeypatch.setattr(roster_import_module, "staff_add", refuse_the_second)
    before = counts()

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(
            organization=organization, actor=org_admin, upload=csv_upload([row(1), row(2), row(3)])
        )

    assert excinfo.value.problems == [RowProblem(3, "role", "This role is not allowed.")]
    assert counts() == before


# --- Unusable files ---------------------------------------------------------------------------


def test_missing_columns_are_named(organization, org_admin):
    upload = SimpleUploadedFile("roster.csv", "姓名,每周工时\n张三,40\n".encode())

    with pytest.raises(ValidationError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=upload)

    assert excinfo.value.message_dict == {
        "file": ["Missing columns: id_number (身份证号), role (岗位), start_date (入职日期)."]
    }


def test_a_column_given_twice_is_refused(organization, org_admin):
    upload = SimpleUploadedFile(
        "roster.csv", "name,姓名,id_number,role,start_date\n".encode() + b"a,b,c,d,e\n"
    )
    with pytest.raises(ValidationError, match="name"):
        roster_import(organization=organization, actor=org_admin, upload=upload)


def test_a_header_without_rows_is_refused(organization, org_admin):
    with pytest.raises(ValidationError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=csv_upload([]))
    assert excinfo.value.message_dict == {"file": ["The file has no staff rows under the header."]}


def test_more_rows_than_the_limit_are_refused_before_any_check(organization, org_admin):
    rows = [row(1, id_number="bad")] * (MAX_ROWS + 1)

    with pytest.raises(ValidationError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=csv_upload(rows))

    assert not isinstance(excinfo.value, RosterImportError)
    assert excinfo.value.message_dict == {
        "file": [f"The file has {MAX_ROWS + 1} rows; at most {MAX_ROWS} can be imported at once."]
    }


@pytest.mark.parametrize(
    ("content", "name", "looks_like"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "roster.csv", "a PNG image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "roster.xlsx", "a PDF document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "roster.xls", ".xls"),
    ],
)
def test_files_that_only_pretend_to_be_spreadsheets_are_refused(
    organization, org_admin, content, name, looks_like
):
    with pytest.raises(ValidationError) as excinfo:
        roster_import(
            organization=organization, actor=org_admin, upload=SimpleUploadedFile(name, content)
        )
    assert looks_like in excinfo.value.message_dict["file"][0]


def test_a_zip_bomb_dressed_as_a_workbook_is_refused(organization, org_admin):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 1_000_000)
    upload = SimpleUploadedFile("roster.xlsx", buffer.getvalue())

    with pytest.raises(ValidationError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=upload)
    assert "zip bomb" in excinfo.value.message_dict["file"][0]


def test_an_oversize_file_is_refused(organization, org_admin):
    upload = SimpleUploadedFile("roster.csv", b"name,id_number\n" + b"x" * (5 * 1024 * 1024))
    with pytest.raises(ValidationError) as excinfo:
        roster_import(organization=organization, actor=org_admin, upload=upload)
    assert "the limit is" in excinfo.value.message_dict["file"][0]


# --- Permission -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["other_org_admin", "org_member", "registry_admin", "auditor"])
def test_only_the_organizations_own_admins_may_import(request, organization, persona):
    user = request.getfixturevalue(persona)
    before = counts()
    with pytest.raises(PermissionDenied):
        roster_import(organization=organization, actor=user, upload=csv_upload([row(1)]))
    assert counts() == before
