"""Building staffing-roster and subsidy-ledger files for the funding registry tests and the
benchmark: rows as dicts, written as CSV or XLSX bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date

import openpyxl

from orgs_registry.identifiers import make_id_number, make_uscc

STAFFING_HEADER = [
    "person_name",
    "id_number",
    "employing_unit",
    "unit_uscc",
    "post_type",
    "funding_type",
    "function",
    "start",
    "end",
]
STAFFING_HEADER_ZH = [
    "姓名",
    "身份证号",
    "工作单位",
    "单位统一社会信用代码",
    "编制类型",
    "经费形式",
    "职能类别",
    "起始日期",
    "终止日期",
]
SUBSIDY_HEADER = [
    "recipient_name",
    "recipient_uscc",
    "purpose",
    "amount",
    "period_start",
    "period_end",
    "programme",
]

UNIT_USCC = make_uscc(authority="1", category="2", region="500103", org_body="45678901")


def staff_row(number: int = 1, **overrides: str) -> dict[str, str]:
    """A valid roster row; ``number`` varies the person."""
    row = {
        "person_name": f"张{'伟芳娜敏静丽强磊军洋'[number % 10]}",
        "id_number": make_id_number(
            region="500103",
            born=date(1970 + number % 30, 1 + number % 12, 1 + number % 28),
            sequence=number,
            male=bool(number % 2),
        ),
        "employing_unit": "渝中区解放碑街道社区服务中心",
        "unit_uscc": UNIT_USCC,
        "post_type": "事业编制",
        "funding_type": "全额拨款",
        "function": "养老服务",
        "start": "2020-01-01",
        "end": "",
    }
    row.update(overrides)
    return row


def subsidy_row(**overrides: str) -> dict[str, str]:
    row = {
        "recipient_name": "解放碑社工服务中心",
        "recipient_uscc": "",
        "purpose": "elderly_care",
        "amount": "120000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "programme": "社区养老补助",
    }
    row.update(overrides)
    return row


def csv_bytes(
    rows: Iterable[Mapping[str, str]], header: list[str], *, labels: list[str] | None = None
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(labels or header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(
    rows: Iterable[Mapping[str, str]], header: list[str], *, labels: list[str] | None = None
) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(labels or header)
    for row in rows:
        sheet.append([row.get(column, "") for column in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
