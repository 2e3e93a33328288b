"""Importing an organization's staff roster from CSV or XLSX (pandas): all or nothing.

Interface (used by the roster page and the API):

    result = roster_import(organization=org, actor=user, upload=file)   # file-like, .name
    # -> RosterImportResult(rows=N, people_created=M)
    # raises RosterImportError(problems=[RowProblem(row=3, column="id_number", problem="...")])
    #   (a ValidationError subclass; str(problem) == "row 3: id_number: ...")
    # raises ValidationError({"file": [...]}) when the file itself is unusable
    #   (too big, not CSV/XLSX by content, unreadable, missing columns)
    # raises PermissionDenied unless the actor may manage the organization's roster

Row numbers are the ones a user sees in the spreadsheet: the header is row 1, the first
person row 2. Columns are named by their code (``id_number``); the header may use the
code, the English label or the Chinese name (``身份证号``).

Every row is checked before anything is written and every bad cell is reported; then
each row goes through ``services.staff_add`` (one audit event per staff member) inside
one transaction, with one summary event for the import.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.audit import audit_record
from marketplace.models import AuditAction, User
from marketplace.uploads import (
    DEFAULT_MAX_BYTES,
    decode_text,
    file_error,
    read_upload,
    sha256_hex,
    sniff_spreadsheet,
)
from orgs_registry import permissions
from orgs_registry.identifiers import validate_id_number, validate_phone
from orgs_registry.models import (
    Employment,
    Organization,
    Person,
    QualificationLevel,
)
from orgs_registry.services import StaffInput, normalize_person_name, staff_add

MAX_ROWS = 5000
MAX_BYTES = DEFAULT_MAX_BYTES
HEADER_ROWS = 1  # spreadsheet row number of the header; data starts on the next row

# Column code -> the Chinese header accepted for it (the code itself is always accepted).
COLUMNS: dict[str, str] = {
    "name": "姓名",
    "id_number": "身份证号",
    "role": "岗位",
    "weekly_hours": "每周工时",
    "start_date": "入职日期",
    "end_date": "离职日期",
    "phone": "电话",
    "qualification": "职业水平",
    "certificate_number": "证书编号",
    "certified_on": "发证日期",
}
REQUIRED_COLUMNS = ("name", "id_number", "role", "start_date")
DATE_COLUMNS = ("start_date", "end_date", "certified_on")
TEXT_COLUMNS = ("name", "role", "phone", "certificate_number")
MAX_LENGTHS = {"name": 50, "role": 60, "certificate_number": 40}
DEFAULT_WEEKLY_HOURS = Decimal("40")
MAX_WEEKLY_HOURS = 84  # the Employment check constraint

# Other spellings people use for the same headers (after _header_key folding).
_HEADER_ALIASES: dict[str, str] = {
    "full_name": "name",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "national_id_number": "id_number",
    "职务": "role",
    "hours": "weekly_hours",
    "手机": "phone",
    "手机号": "phone",
    "联系电话": "phone",
    "phone_number": "phone",
    "certificate_date": "certified_on",
}

QUALIFICATION_LABELS_ZH = {
    "助理社会工作师": QualificationLevel.ASSISTANT_SOCIAL_WORKER,
    "社会工作师": QualificationLevel.SOCIAL_WORKER,
    "高级社会工作师": QualificationLevel.SENIOR_SOCIAL_WORKER,
}

# 2023-01-05, 2023/1/5, 2023.1.5, 2023年1月5日; a midnight time is what pandas makes of an
# Excel date cell read as text.
_DATE_PATTERN = r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?$"
# Excel serial day numbers (a date cell exported as a number): 10000 is 1927, 99999 is 2173.
_SERIAL_PATTERN = r"^\d{5}(?:\.0+)?$"
_EXCEL_EPOCH = "1899-12-30"


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: the spreadsheet row a user sees, the column code, what is wrong."""

    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column}: {self.problem}"


@dataclass(frozen=True)
class RosterImportResult:
    rows: int
    people_created: int


class RosterImportError(ValidationError):
    """Bad rows: ``problems`` lists every bad cell; nothing was imported."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__([str(problem) for problem in self.problems], code="invalid_rows")


def _problem_order(problem: RowProblem) -> tuple[int, int, str]:
    columns = list(COLUMNS)
    position = columns.index(problem.column) if problem.column in columns else len(columns)
    return problem.row, position, problem.problem


def roster_import(*, organization: Organization, actor: User, upload: Any) -> RosterImportResult:
    """Import every row of ``upload`` onto the organization's roster, or nothing."""
    # The permission is checked before the file is even read: an outsider's upload
    # is never parsed.
    if not permissions.can_manage_roster(actor, organization):
        raise PermissionDenied
    data = read_upload(upload, max_bytes=MAX_BYTES)
    kind = sniff_spreadsheet(data)
    frame = _read_frame(data, kind)
    table = _canonical_columns(frame)
    rows = _RosterRows(table)
    problems = rows.check()
    filename = os.path.basename(str(getattr(upload, "name", "") or ""))[:255]

    with transaction.atomic():
        # Locked for the whole import: the checks against the roster below and the
        # writes after them see the same roster.
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        problems += rows.check_against_records(organization)
        if problems:
            raise RosterImportError(problems)
        numbers = [entry.id_number for entry in rows.entries]
        known = set(
            Person.objects.filter(id_number__in=numbers).values_list("id_number", flat=True)
        )
        for row_number, entry in zip(rows.row_numbers, rows.entries, strict=True):
            try:
                staff_add(organization=organization, actor=actor, data=entry)
            except ValidationError as exc:
                # staff_add rolled back its own savepoint; keep going to report every
                # failing row, then the whole import rolls back below.
                problems += _service_problems(row_number, exc)
        if problems:
            raise RosterImportError(problems)
        people_created = len(set(numbers) - known)
        audit_record(
            action=AuditAction.ROSTER_IMPORTED,
            actor=actor,
            obj=organization,
            details={
                "filename": filename,
                "sha256": sha256_hex(data),
                "format": kind,
                "rows": len(rows.entries),
                "people_created": people_created,
            },
        )
    return RosterImportResult(rows=len(rows.entries), people_created=people_created)


# --- Reading ----------------------------------------------------------------------------------
def _read_frame(data: bytes, kind: str) -> pd.DataFrame:
    """Every cell as text (leading zeros and the X of ID numbers kept), or a ``file`` error."""
    try:
        if kind == "xlsx":
            # Only the first sheet is read; the zip-bomb checks of sniff_spreadsheet
            # have already bounded what openpyxl may unpack.
            frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl")
        else:
            frame = pd.read_csv(
                io.StringIO(decode_text(data)),
                dtype=str,
                keep_default_na=False,  # "NA" or "null" in a cell is text, not missing
                skip_blank_lines=False,  # keeps row numbers equal to the spreadsheet's
            )
    except ValidationError:
        raise
    # Parsers of untrusted files fail in many ways (pandas, openpyxl, zipfile, XML); each
    # one means the same thing to the user: the file cannot be read.
    except Exception as exc:
        raise file_error(
            _("The file could not be read as %(kind)s: %(reason)s")
            % {"kind": kind.upper(), "reason": str(exc)[:200]},
            code="unreadable",
        ) from exc
    frame = frame.astype("str")  # a column with no value at all arrives as float
    for column in frame.columns:
        # astype() turned missing cells into NaN-of-str; strip, then empty means missing.
        frame[column] = frame[column].str.strip().replace("", pd.NA)
    return frame


def _header_key(header: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"[\s\-]+", "_", folded)


def _header_lookup() -> dict[str, str]:
    lookup = {code: code for code in COLUMNS}
    lookup.update({_header_key(chinese): code for code, chinese in COLUMNS.items()})
    lookup.update(_HEADER_ALIASES)
    # English field labels ("ID number", "weekly hours") fold onto the codes already.
    return lookup


def _canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename the known headers to column codes; refuse missing or repeated columns."""
    lookup = _header_lookup()
    renamed: dict[Any, str] = {}
    for header in frame.columns:
        code = lookup.get(_header_key(header))
        if code is None:
            continue  # extra columns (a 序号 column, notes) are ignored
        if code in renamed.values():
            raise file_error(
                _("The column %(column)s appears more than once.")
                % {"column": f"{code} ({COLUMNS[code]})"},
                code="duplicate_column",
            )
        renamed[header] = code
    missing = [code for code in REQUIRED_COLUMNS if code not in renamed.values()]
    if missing:
        raise file_error(
            _("Missing columns: %(columns)s.")
            % {"columns": ", ".join(f"{code} ({COLUMNS[code]})" for code in missing)},
            code="missing_columns",
        )
    table = frame[list(renamed)].rename(columns=renamed)
    for code in COLUMNS:
        if code not in table.columns:
            table[code] = pd.Series(pd.NA, index=table.index, dtype="str")
    # Spreadsheet row numbers before blank rows are dropped: row 2 is the first data row.
    table.index = table.index + HEADER_ROWS + 1
    table = table[table.notna().any(axis=1)]
    if table.empty:
        raise file_error(_("The file has no staff rows under the header."), code="no_rows")
    if len(table) > MAX_ROWS:
        raise file_error(
            _("The file has %(count)d rows; at most %(max)d can be imported at once.")
            % {"count": len(table), "max": MAX_ROWS},
            code="too_many_rows",
        )
    return table


# --- Checking ---------------------------------------------------------------------------------
def parse_dates(values: pd.Series) -> pd.Series:
    """Parse a text column of dates (YYYY-MM-DD and its variants, Excel serial numbers).

    Returns datetimes; cells that are missing or not a real date are ``NaT``.
    """
    text = values.str.normalize("NFKC")
    parts = text.str.extract(_DATE_PATTERN)
    from_parts = pd.to_datetime(
        {
            "year": pd.to_numeric(parts[0]),
            "month": pd.to_numeric(parts[1]),
            "day": pd.to_numeric(parts[2]),
        },
        errors="coerce",
    )
    serial = pd.to_numeric(text.where(text.str.fullmatch(_SERIAL_PATTERN)), errors="coerce")
    from_serial = pd.to_datetime(serial, unit="D", origin=_EXCEL_EPOCH)
    return from_parts.fillna(from_serial)


def _qualification_lookup() -> dict[str, str]:
    lookup = {code: code for code in QualificationLevel.values}
    lookup.update({str(level.label).lower(): level.value for level in QualificationLevel})
    lookup.update({label: level.value for label, level in QUALIFICATION_LABELS_ZH.items()})
    return lookup


class _RosterRows:
    """The rows of one file: pure checks, checks against the records, and the service input."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.row_numbers: list[int] = [int(number) for number in table.index]
        self.entries: list[StaffInput] = []
        self._problems: list[RowProblem] = []
        self._id_numbers = pd.Series(pd.NA, index=table.index, dtype="str")

    def _add(self, mask: pd.Series, column: str, message: str) -> None:
        self._problems.extend(RowProblem(int(row), column, message) for row in mask[mask].index)

    def check(self) -> list[RowProblem]:
        """Every problem visible in the file alone; builds ``entries`` when there is none."""
        table = self.table
        for column in REQUIRED_COLUMNS:
            self._add(table[column].isna(), column, _("A value is required."))
        for column in TEXT_COLUMNS:
            hidden = table[column].map(
                lambda value: isinstance(value, str) and _has_invisible_characters(value)
            )
            self._add(
                hidden.astype(bool),
                column,
                _(
                    "The cell holds invisible control or formatting characters (such as a "
                    "right-to-left override, which makes text read differently); type it again."
                ),
            )
        for column, limit in MAX_LENGTHS.items():
            too_long = table[column].str.len() > limit
            self._add(
                too_long.fillna(False), column, _("At most %(max)d characters.") % {"max": limit}
            )

        self._check_id_numbers()
        dates = {column: self._check_dates(column) for column in DATE_COLUMNS}
        hours = self._check_hours()
        self._check_date_order(dates)
        qualifications = self._check_qualifications(dates["certified_on"])
        phones = self._check_phones()

        if not self._problems:
            self.entries = [
                StaffInput(
                    name=normalize_person_name(table.at[row, "name"]),
                    id_number=self._id_numbers[row],
                    role=table.at[row, "role"],
                    start_date=dates["start_date"][row].date(),
                    weekly_hours=hours[row],
                    end_date=_date_or_none(dates["end_date"][row]),
                    phone=phones.get(row, ""),
                    qualification=qualifications.get(row, ""),
                    certificate_number=_text(table.at[row, "certificate_number"]),
                    certified_on=_date_or_none(dates["certified_on"][row]),
                )
                for row in self.row_numbers
            ]
        return list(self._problems)

    def _check_id_numbers(self) -> None:
        values = self.table["id_number"]
        for row, value in values.dropna().items():
            if "E+" in value.upper():
                self._problems.append(
                    RowProblem(
                        int(row),
                        "id_number",
                        _(
                            "The cell holds a number in scientific notation, which has lost "
                            "digits; format the column as text and type the ID number again."
                        ),
                    )
                )
                continue
            try:
                self._id_numbers[row] = validate_id_number(value)
            except ValueError as exc:
                # The rule's own message (identifiers.validate_id_number) says what failed.
                self._problems.append(RowProblem(int(row), "id_number", str(exc)))
        numbers = self._id_numbers.dropna()
        rows = numbers.index.to_series()
        first_row = rows.groupby(numbers.to_numpy()).transform("first")
        repeated = first_row[first_row != rows]
        for row, first in repeated.items():
            self._problems.append(
                RowProblem(
                    int(row),
                    "id_number",
                    _("The same ID number is already in row %(row)d.") % {"row": int(first)},
                )
            )

    def _check_dates(self, column: str) -> pd.Series:
        values = self.table[column]
        parsed = parse_dates(values)
        bad = values.notna() & parsed.isna()
        for row in bad[bad].index:
            self._problems.append(
                RowProblem(
                    int(row),
                    column,
                    _("“%(value)s” is not a date; write it as YYYY-MM-DD.")
                    % {"value": values[row][:40]},
                )
            )
        return parsed

    def _check_hours(self) -> pd.Series:
        values = self.table["weekly_hours"]
        numbers = pd.to_numeric(values.str.normalize("NFKC"), errors="coerce")
        not_number = values.notna() & numbers.isna()
        for row in not_number[not_number].index:
            self._problems.append(
                RowProblem(
                    int(row),
                    "weekly_hours",
                    _("“%(value)s” is not a number of hours.") % {"value": values[row][:40]},
                )
            )
        numbers = numbers.fillna(float(DEFAULT_WEEKLY_HOURS))
        out_of_range = (numbers <= 0) | (numbers > MAX_WEEKLY_HOURS)
        self._add(
            out_of_range & ~not_number, "weekly_hours", _("Weekly hours must be between 0 and 84.")
        )
        tenths = numbers * 10
        too_precise = (tenths - tenths.round()).abs() > 1e-6
        self._add(
            too_precise & ~out_of_range & ~not_number,
            "weekly_hours",
            _("Use at most one decimal place."),
        )
        return numbers.map(lambda value: Decimal(str(round(value, 1))))

    def _check_date_order(self, dates: Mapping[str, pd.Series]) -> None:
        start, end = dates["start_date"], dates["end_date"]
        self._add(end < start, "end_date", _("The end date is before the start date."))
        # Employment.clean: a start more than a year ahead is a typing error.
        ahead = pd.Timestamp(timezone.localdate() + timedelta(days=366))
        self._add(start > ahead, "start_date", _("The start date is more than a year ahead."))
        today = pd.Timestamp(timezone.localdate())
        self._add(
            dates["certified_on"] > today,
            "certified_on",
            _("The certificate date is in the future."),
        )

    def _check_qualifications(self, certified_on: pd.Series) -> dict[int, str]:
        table = self.table
        lookup = _qualification_lookup()
        given = table["qualification"]
        codes = given.str.normalize("NFKC").str.lower().map(lookup)
        unknown = given.notna() & codes.isna()
        choices = ", ".join([*QualificationLevel.values, *QUALIFICATION_LABELS_ZH])
        for row in unknown[unknown].index:
            self._problems.append(
                RowProblem(
                    int(row),
                    "qualification",
                    _("Unknown qualification “%(value)s”; use one of: %(choices)s.")
                    % {"value": given[row][:40], "choices": choices},
                )
            )
        orphan = given.isna() & (table["certificate_number"].notna() | certified_on.notna())
        self._add(
            orphan & table["certificate_number"].notna(),
            "certificate_number",
            _("A certificate needs a qualification level."),
        )
        self._add(
            orphan & table["certificate_number"].isna(),
            "certified_on",
            _("A certificate needs a qualification level."),
        )
        return {int(row): code for row, code in codes.dropna().items()}

    def _check_phones(self) -> dict[int, str]:
        phones: dict[int, str] = {}
        for row, value in self.table["phone"].dropna().items():
            try:
                phones[int(row)] = validate_phone(value)
            except ValueError as exc:
                self._problems.append(RowProblem(int(row), "phone", str(exc)))
        return phones

    def check_against_records(self, organization: Organization) -> list[RowProblem]:
        """Problems with the people already on record: a different name, already employed."""
        numbers = self._id_numbers.dropna()
        if numbers.empty:
            return []
        on_record = dict(
            Person.objects.filter(id_number__in=numbers.tolist()).values_list("id_number", "name")
        )
        employed = set(
            Employment.objects.filter(
                organization=organization,
                end_date__isnull=True,
                person__id_number__in=numbers.tolist(),
            ).values_list("person__id_number", flat=True)
        )
        problems = []
        for row, number in numbers.items():
            recorded = on_record.get(number)
            name = self.table.at[row, "name"]
            mismatch = (
                recorded is not None
                and not pd.isna(name)
                and normalize_person_name(recorded) != normalize_person_name(name)
            )
            if mismatch:
                problems.append(
                    RowProblem(
                        int(row),
                        "name",
                        _("The name does not match the record for this ID number."),
                    )
                )
            if number in employed:
                problems.append(
                    RowProblem(
                        int(row),
                        "id_number",
                        _("This person already works for the organization."),
                    )
                )
        return problems


def _service_problems(row: int, exc: ValidationError) -> list[RowProblem]:
    """A service refusal as row problems, under the column each message concerns."""
    if not hasattr(exc, "error_dict"):
        return [RowProblem(row, "id_number", message) for message in exc.messages]
    fields = {"level": "qualification", NON_FIELD_ERRORS: "id_number"}
    return [
        RowProblem(row, fields.get(field, field), message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def _has_invisible_characters(value: str) -> bool:
    """Control (Cc) or format (Cf) characters: nobody types them into a name or a role, and
    a bidirectional override among them shows a name other than the one stored."""
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in value)


def _text(value: Any) -> str:
    return "" if pd.isna(value) else str(value)


def _date_or_none(value: Any) -> date | None:
    return None if pd.isna(value) else value.date()
