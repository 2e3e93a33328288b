"""Reading and checking the registries of public funding: the staffing roster (编制) and the
subsidy ledger, from CSV or XLSX, vectorized with pandas and numpy (a roster has a million rows).

Interface (used by ``services_funding``, its task and the ``import_staffing`` /
``import_subsidies`` commands):

    fmt = sniff_funding_file(path)                 # "csv" | "xlsx", by content, or file error
    frame = read_funding_file(path, fmt)           # every cell as text, or file error
    table = check_staffing(frame, categories=...)  # model-ready columns, or FundingImportError
    table = check_subsidies(frame, categories=..., organizations=...)

``FundingImportError.problems`` lists every bad cell as ``row N: column: problem`` (row 1 is
the header, as in the spreadsheet). Nothing here touches the database: the lookups
(categories, organizations by USCC) are passed in.

An ID number on the roster is kept as written even when it is not a valid GB 11643 number:
the record linkage of the integrity screens is built to match mistyped and legacy numbers,
so refusing them would hide exactly the people the screens look for. Its normalized form
(and the birth date and sex it implies) is filled in only when it is valid.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.uploads import check_zip, decode_text, describe_content, file_error
from orgs_registry.identifiers import (
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    PROVINCE_CODES,
    validate_uscc,
)
from orgs_registry.models import PostFunding, PostType
from orgs_registry.roster_import import RowProblem, parse_dates

# A million roster rows as CSV is about 120 MB; the limit leaves room for long unit names.
MAX_BYTES = 400 * 1024 * 1024
MAX_XLSX_BYTES = 80 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_ROWS = 2_000_000
SNIFF_BYTES = 64 * 1024
# Failed imports keep this many problems on record; the command prints them all.
MAX_STORED_PROBLEMS = 2000
HEADER_ROWS = 1

STAFFING_COLUMNS: dict[str, str] = {
    "person_name": "姓名",
    "id_number": "身份证号",
    "employing_unit": "工作单位",
    "unit_uscc": "单位统一社会信用代码",
    "post_type": "编制类型",
    "funding_type": "经费形式",
    "function": "职能类别",
    "start": "起始日期",
    "end": "终止日期",
}
STAFFING_REQUIRED = ("person_name", "id_number", "employing_unit", "post_type", "start")
STAFFING_ALIASES: dict[str, str] = {
    "name": "person_name",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "unit": "employing_unit",
    "用人单位": "employing_unit",
    "单位": "employing_unit",
    "单位名称": "employing_unit",
    "统一社会信用代码": "unit_uscc",
    "uscc": "unit_uscc",
    "岗位类型": "post_type",
    "编制性质": "post_type",
    "经费来源": "funding_type",
    "经费类型": "funding_type",
    "function_category": "function",
    "category": "function",
    "职能": "function",
    "服务类别": "function",
    "start_date": "start",
    "开始日期": "start",
    "end_date": "end",
    "结束日期": "end",
}
STAFFING_LENGTHS = {"person_name": 100, "id_number": 40, "employing_unit": 200, "function": 200}

SUBSIDY_COLUMNS: dict[str, str] = {
    "recipient_name": "受补助单位",
    "recipient_uscc": "统一社会信用代码",
    "purpose": "补助用途",
    "amount": "金额",
    "period_start": "起始日期",
    "period_end": "终止日期",
    "programme": "资金来源",
}
SUBSIDY_REQUIRED = ("recipient_name", "purpose", "amount", "period_start", "period_end")
SUBSIDY_ALIASES: dict[str, str] = {
    "recipient": "recipient_name",
    "受助单位": "recipient_name",
    "单位名称": "recipient_name",
    "uscc": "recipient_uscc",
    "purpose_category": "purpose",
    "category": "purpose",
    "用途": "purpose",
    "服务类别": "purpose",
    "补助金额": "amount",
    "金额(元)": "amount",
    "金额（元）": "amount",
    "start": "period_start",
    "开始日期": "period_start",
    "end": "period_end",
    "结束日期": "period_end",
    "source": "programme",
    "项目名称": "programme",
    "资金项目": "programme",
}
SUBSIDY_LENGTHS = {"recipient_name": 200, "purpose": 200, "programme": 200}
MAX_AMOUNT = Decimal("999999999999.99")

POST_TYPE_LABELS_ZH = {
    "行政编制": PostType.ADMINISTRATIVE,
    "行政": PostType.ADMINISTRATIVE,
    "公务员": PostType.ADMINISTRATIVE,
    "事业编制": PostType.PUBLIC_INSTITUTION,
    "事业": PostType.PUBLIC_INSTITUTION,
    "工勤编制": PostType.SUPPORT,
    "工勤": PostType.SUPPORT,
    "机关工勤": PostType.SUPPORT,
    "其他财政供养": PostType.OTHER_FUNDED,
    "其他": PostType.OTHER_FUNDED,
    "编外": PostType.OTHER_FUNDED,
}
FUNDING_LABELS_ZH = {
    "全额拨款": PostFunding.FULL,
    "全额": PostFunding.FULL,
    "差额拨款": PostFunding.PARTIAL,
    "差额": PostFunding.PARTIAL,
    "自收自支": PostFunding.SELF_FUNDED,
    "其他": PostFunding.OTHER,
}


class FundingImportError(ValidationError):
    """Bad rows: ``problems`` lists every bad cell; nothing was imported."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, p.column, p.problem))
        super().__init__([str(problem) for problem in self.problems], code="invalid_rows")


# --- The file ---------------------------------------------------------------------------------


def sniff_funding_file(path: str | Path) -> str:
    """``"xlsx"`` or ``"csv"`` by content (never by name), or a ``file`` error.

    CSV is judged on its first 64 KiB (cut at a line end, so no character is split);
    the full text is decoded again when read. An XLSX goes through the zip-bomb checks
    with limits raised for a workbook of a million rows.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise file_error(_("The file is empty."), code="empty")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        if size > MAX_XLSX_BYTES:
            raise file_error(
                _("An XLSX workbook may be at most %(limit)d MB; save large rosters as CSV.")
                % {"limit": MAX_XLSX_BYTES // (1024 * 1024)},
                code="too_large",
            )
        names = check_zip(path.read_bytes(), max_uncompressed=MAX_XLSX_UNCOMPRESSED)
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx"
        raise file_error(
            _("The file is not a CSV or XLSX spreadsheet but another kind of ZIP archive."),
            code="wrong_type",
        )
    what = describe_content(head)
    if what is not None:
        raise file_error(
            _("The file is not a CSV or XLSX spreadsheet: by its content it is %(what)s.")
            % {"what": what},
            code="wrong_type",
        )
    if len(head) == SNIFF_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    decode_text(head)
    return "csv"


def read_funding_file(path: str | Path, fmt: str) -> pd.DataFrame:
    """Every cell as stripped text, missing cells ``NA``; a ``file`` error if unreadable."""
    try:
        if fmt == "xlsx":
            frame = pd.read_excel(path, sheet_name=0, dtype=str, engine="openpyxl")
        else:
            data = Path(path).read_bytes()
            # pandas' C parser decodes the bytes itself: a tenth of the time of handing it
            # decoded text.
            frame = pd.read_csv(
                io.BytesIO(data),
                encoding=_csv_encoding(data),
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,  # keeps row numbers equal to the spreadsheet's
            )
    except ValidationError:
        raise
    # Untrusted files fail parsers in many ways; each means the file cannot be read.
    except (
        ValueError,
        KeyError,
        IndexError,
        OSError,
        zipfile.BadZipFile,
        pd.errors.ParserError,
    ) as exc:
        raise file_error(
            _("The file could not be read as %(kind)s: %(reason)s")
            % {"kind": fmt.upper(), "reason": str(exc)[:200]},
            code="unreadable",
        ) from exc
    for column in frame.columns:
        text = frame[column]
        if text.dtype != "str":
            text = text.astype("str")  # a column with no value at all arrives as float
        text = text.str.strip()
        frame[column] = text.where((text != "") & (text != "nan"))
    return frame


_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]")


def _csv_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, as ``uploads.decode_text`` decides, with
    the binary-content checks done on the bytes (a Python loop over 100 million
    characters would take longer than the whole import)."""
    if b"\x00" in data or _CONTROL_BYTES.search(data):
        decode_text(b"\x00")  # raises the "binary data" file error
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            decode_text(data)  # raises the encoding file error
            raise
        encoding = "gb18030"
    if not text.strip():
        raise file_error(_("The file is empty."), code="empty")
    return encoding


def _header_key(header: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"[\s\-]+", "_", folded)


def _canonical(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    required: tuple[str, ...],
    aliases: Mapping[str, str],
) -> pd.DataFrame:
    lookup = {code: code for code in columns}
    lookup.update({_header_key(chinese): code for code, chinese in columns.items()})
    lookup.update({_header_key(alias): code for alias, code in aliases.items()})
    renamed: dict[Any, str] = {}
    for header in frame.columns:
        code = lookup.get(_header_key(header))
        if code is None:
            continue  # extra columns (序号, notes) are ignored
        if code in renamed.values():
            raise file_error(
                _("The column %(column)s appears more than once.")
                % {"column": f"{code} ({columns[code]})"},
                code="duplicate_column",
            )
        renamed[header] = code
    missing = [code for code in required if code not in renamed.values()]
    if missing:
        raise file_error(
            _("Missing columns: %(columns)s.")
            % {"columns": ", ".join(f"{code} ({columns[code]})" for code in missing)},
            code="missing_columns",
        )
    table = frame[list(renamed)].rename(columns=renamed)
    for code in columns:
        if code not in table.columns:
            table[code] = pd.Series(pd.NA, index=table.index, dtype="str")
    table.index = table.index + HEADER_ROWS + 1
    table = table[table.notna().any(axis=1)]
    if table.empty:
        raise file_error(_("The file has no rows under the header."), code="no_rows")
    if len(table) > MAX_ROWS:
        raise file_error(
            _("The file has %(count)d rows; at most %(max)d can be imported at once.")
            % {"count": len(table), "max": MAX_ROWS},
            code="too_many_rows",
        )
    return table


# --- Checks shared by both registries -----------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[RowProblem] = []

    def add(self, mask: pd.Series, column: str, message: str) -> None:
        rows = mask[mask.fillna(False).astype(bool)].index
        self.items.extend(RowProblem(int(row), column, message) for row in rows)

    def add_each(self, mask: pd.Series, values: pd.Series, column: str, template: str) -> None:
        rows = mask[mask.fillna(False).astype(bool)].index
        self.items.extend(
            RowProblem(int(row), column, template % {"value": str(values[row])[:40]})
            for row in rows
        )


def _required(table: pd.DataFrame, required: tuple[str, ...], problems: _Problems) -> None:
    for column in required:
        problems.add(table[column].isna(), column, _("A value is required."))


def _lengths(table: pd.DataFrame, limits: Mapping[str, int], problems: _Problems) -> None:
    for column, limit in limits.items():
        problems.add(
            table[column].str.len() > limit,
            column,
            _("At most %(max)d characters.") % {"max": limit},
        )


def _dates(table: pd.DataFrame, column: str, problems: _Problems) -> pd.Series:
    values = table[column]
    # Most files write ISO dates; the other spellings (2023/1/5, 2023年1月5日, Excel serial
    # numbers) go through the roster importer's parser, row by row only where needed.
    parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    retry = values.notna() & parsed.isna()
    if retry.any():
        parsed = parsed.copy()
        parsed[retry] = parse_dates(values[retry])
    problems.add_each(
        values.notna() & parsed.isna(),
        values,
        column,
        _("“%(value)s” is not a date; write it as YYYY-MM-DD."),
    )
    return parsed


def _choices(
    table: pd.DataFrame,
    column: str,
    lookup: Mapping[str, str],
    problems: _Problems,
) -> pd.Series:
    values = table[column]
    codes = _map_folded(values, lookup)
    shown = ", ".join(dict.fromkeys(str(key) for key in lookup))
    problems.add_each(
        values.notna() & codes.isna(),
        values,
        column,
        _("Unknown value “%(value)s”; use one of: ") + shown.replace("%", "%%") + ".",
    )
    return codes


def _map_folded(values: pd.Series, lookup: Mapping[str, Any]) -> pd.Series:
    """Map each cell through ``lookup`` by its folded form, folding each distinct value
    once (a million cells hold a handful of post types)."""
    mapping = {value: lookup.get(_fold(value)) for value in values.dropna().unique()}
    return values.map(mapping)


def _choice_lookup(choices: Any, labels_zh: Mapping[str, str]) -> dict[str, str]:
    lookup = {str(code): str(code) for code in choices.values}
    for member in choices:
        # The English label without the Chinese in brackets, and the label as a whole.
        label = str(member.label)
        lookup[re.sub(r"\s+", "", label).lower()] = member.value
        lookup[re.sub(r"\s+", "", label.split("(")[0]).lower()] = member.value
    lookup.update({key: str(value) for key, value in labels_zh.items()})
    return lookup


def category_lookup(categories: Any) -> dict[str, int]:
    """Code, Chinese and English name of each service category -> its id (folded keys)."""
    lookup: dict[str, int] = {}
    for category in categories:
        for key in (category.code, category.name_zh, category.name_en):
            lookup[_fold(key)] = category.pk
    return lookup


def _fold(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).lower()


def _categories(values: pd.Series, lookup: Mapping[str, int]) -> pd.Series:
    return _map_folded(values, lookup).astype("Int64")


def _usccs(table: pd.DataFrame, column: str, problems: _Problems) -> pd.Series:
    """Validate each distinct code once: a roster names a few hundred units a million times."""
    values = table[column]
    normalized: dict[str, str] = {}
    for value in values.dropna().unique():
        try:
            normalized[value] = validate_uscc(value)
        except ValueError as exc:
            rows = values.index[values == value]
            problems.items.extend(RowProblem(int(row), column, str(exc)) for row in rows)
    mapped = values.map(normalized).astype("object")
    return mapped.where(mapped.notna(), "")


def _period(start: pd.Series, end: pd.Series, end_column: str, problems: _Problems) -> None:
    problems.add(end < start, end_column, _("The end date is before the start date."))


# --- ID numbers, vectorized ---------------------------------------------------------------------

_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)
_CHECK = np.array(list(ID_CHECK_CHARS))


def normalize_id_numbers(values: pd.Series, *, today: date | None = None) -> pd.DataFrame:
    """GB 11643 for a whole column at once: ``normalized`` (valid numbers only, else ""),
    ``birth_date`` (NaT) and ``sex`` ("male"/"female"/"").

    The same rules as ``identifiers.validate_id_number``: full-width folded, spaces dropped,
    ``x`` upper-cased, 15-digit legacy numbers converted (``19`` inserted, check added).
    The digits are one ``(n, 17)`` integer matrix: the check character, province, birth
    date and sex are arithmetic on its columns.
    """
    index = values.index
    text = values.fillna("").astype("str")
    modern = text.str.fullmatch(r"[0-9]{17}[0-9X]").astype(bool)
    if not modern.all():
        # Only cells not already in normal form are folded (the slow string operations).
        messy = ~modern
        folded = text[messy].str.normalize("NFKC")
        folded = folded.str.replace(r"[\s\u3000]+", "", regex=True).str.upper()
        text = text.copy()
        text[messy] = folded
        modern = text.str.fullmatch(r"[0-9]{17}[0-9X]").astype(bool)
    legacy = text.str.fullmatch(r"[0-9]{15}").astype(bool)
    first17 = text.str[:17]
    if legacy.any():
        first17 = first17.copy()
        first17[legacy] = text[legacy].str[:6] + "19" + text[legacy].str[6:]
    candidate = (modern | legacy).to_numpy()
    first17 = first17.where(candidate, "0" * 17)
    digits = (
        first17.to_numpy(dtype="S17").view(np.uint8).reshape(len(first17), 17).astype(np.int64) - 48
    )
    check = _CHECK[(digits @ _WEIGHTS) % 11]
    given = text.str[17:18].to_numpy(dtype="U1")
    check_ok = legacy.to_numpy() | (given == check)
    province = digits[:, 0] * 10 + digits[:, 1]
    province_ok = np.isin(province, np.array(sorted(int(code) for code in PROVINCE_CODES)))
    born = pd.to_datetime(
        pd.DataFrame(
            {
                "year": digits[:, 6:10] @ np.array([1000, 100, 10, 1]),
                "month": digits[:, 10] * 10 + digits[:, 11],
                "day": digits[:, 12] * 10 + digits[:, 13],
            }
        ),
        errors="coerce",
    )
    limit = pd.Timestamp(today or timezone.localdate())
    born_ok = (born.notna() & (born.dt.year >= 1900) & (born <= limit)).to_numpy()
    valid = candidate & check_ok & province_ok & born_ok
    normalized = (first17 + pd.Series(check, index=index)).where(valid, "")
    sex = np.where(valid, np.where(digits[:, 16] % 2 == 1, "male", "female"), "")
    return pd.DataFrame(
        {
            "normalized": normalized,
            "birth_date": pd.Series(born.to_numpy(), index=index).where(valid),
            "sex": pd.Series(sex, index=index),
        },
        index=index,
    )


def _scientific(table: pd.DataFrame, column: str, problems: _Problems) -> None:
    values = table[column]
    plus = values.str.contains("+", regex=False).fillna(False).astype(bool)
    problems.add(
        values[plus].str.contains(r"\d\.?\d*E\+\d+", case=False, regex=True),
        column,
        _(
            "The cell holds a number in scientific notation, which has lost digits; format "
            "the column as text and type the ID number again."
        ),
    )


# --- The staffing roster ----------------------------------------------------------------------


def check_staffing(frame: pd.DataFrame, *, categories: Mapping[str, int]) -> pd.DataFrame:
    """The roster's rows as model columns, or ``FundingImportError`` listing every bad cell."""
    table = _canonical(frame, STAFFING_COLUMNS, STAFFING_REQUIRED, STAFFING_ALIASES)
    problems = _Problems()
    _required(table, STAFFING_REQUIRED, problems)
    _lengths(table, STAFFING_LENGTHS, problems)
    _scientific(table, "id_number", problems)
    post_type = _choices(
        table, "post_type", _choice_lookup(PostType, POST_TYPE_LABELS_ZH), problems
    )
    funding = _choices(
        table, "funding_type", _choice_lookup(PostFunding, FUNDING_LABELS_ZH), problems
    )
    start = _dates(table, "start", problems)
    end = _dates(table, "end", problems)
    _period(start, end, "end", problems)
    uscc = _usccs(table, "unit_uscc", problems)
    if problems.items:
        raise FundingImportError(problems.items)

    ids = normalize_id_numbers(table["id_number"])
    return pd.DataFrame(
        {
            "row_number": table.index.to_numpy(dtype=np.int64),
            "person_name": _fold_name(table["person_name"]),
            "id_number": table["id_number"].fillna(""),
            "id_number_normalized": ids["normalized"],
            "birth_date": ids["birth_date"],
            "sex": ids["sex"],
            "employing_unit": table["employing_unit"].fillna(""),
            "unit_uscc": uscc,
            "post_type": post_type,
            # A roster that leaves the funding blank lists fully funded posts (the default
            # of 编制 records).
            "funding_type": funding.fillna(PostFunding.FULL.value),
            "category_id": _categories(table["function"], categories),
            "function_text": table["function"].fillna(""),
            "start": start,
            "end": end,
        }
    ).reset_index(drop=True)


def _fold_name(values: pd.Series) -> pd.Series:
    """Names as the registry stores them: NFKC, inner spaces of Chinese names dropped."""
    text = values.fillna("")
    odd = ~text.str.fullmatch(r"[\u4e00-\u9fff]+").astype(bool)
    if odd.any():
        # Only names that are not plain Chinese characters need folding.
        folded = text[odd].str.normalize("NFKC").str.strip()
        text = text.copy()
        text[odd] = folded.str.replace(
            r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", regex=True
        )
    return text


# --- The subsidy ledger -----------------------------------------------------------------------


def check_subsidies(
    frame: pd.DataFrame,
    *,
    categories: Mapping[str, int],
    organizations: Mapping[str, int],
) -> pd.DataFrame:
    """The ledger's rows as model columns, or ``FundingImportError`` listing every bad cell."""
    table = _canonical(frame, SUBSIDY_COLUMNS, SUBSIDY_REQUIRED, SUBSIDY_ALIASES)
    problems = _Problems()
    _required(table, SUBSIDY_REQUIRED, problems)
    _lengths(table, SUBSIDY_LENGTHS, problems)
    uscc = _usccs(table, "recipient_uscc", problems)
    amounts = _amounts(table, problems)
    start = _dates(table, "period_start", problems)
    end = _dates(table, "period_end", problems)
    _period(start, end, "period_end", problems)
    if problems.items:
        raise FundingImportError(problems.items)
    return pd.DataFrame(
        {
            "row_number": table.index.to_numpy(dtype=np.int64),
            "recipient_name": table["recipient_name"].str.normalize("NFKC"),
            "recipient_uscc": uscc,
            "organization_id": uscc.map(dict(organizations)).astype("Int64"),
            "category_id": _categories(table["purpose"], categories),
            "purpose_text": table["purpose"].fillna(""),
            "amount": amounts,
            "period_start": start,
            "period_end": end,
            "programme": table["programme"].fillna(""),
        }
    ).reset_index(drop=True)


def _amounts(table: pd.DataFrame, problems: _Problems) -> pd.Series:
    values = table["amount"]
    text = values.str.normalize("NFKC").str.replace(r"[,\s¥￥元]", "", regex=True)
    amounts = pd.Series(pd.NA, index=table.index, dtype="object")
    for row, value in text.dropna().items():
        try:
            amount = Decimal(value)
        except InvalidOperation:
            problems.items.append(
                RowProblem(
                    int(row),
                    "amount",
                    _("“%(value)s” is not an amount of money.") % {"value": values[row][:40]},
                )
            )
            continue
        if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
            problems.items.append(
                RowProblem(int(row), "amount", _("The amount must be more than 0."))
            )
        elif amount != amount.quantize(Decimal("0.01")):
            problems.items.append(
                RowProblem(int(row), "amount", _("Use at most two decimal places (fen)."))
            )
        else:
            amounts[row] = amount.quantize(Decimal("0.01"))
    return amounts


def problem_lines(problems: list[RowProblem]) -> list[str]:
    return [str(problem) for problem in problems]
