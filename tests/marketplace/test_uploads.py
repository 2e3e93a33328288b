"""Upload checks: a size limit, and the file type decided by content, never by name."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace.uploads import (
    MAX_UNCOMPRESSED_BYTES,
    check_zip,
    decode_text,
    read_upload,
    sniff_spreadsheet,
)

CSV_TEXT = "姓名,身份证号,岗位,入职日期\n张三,11010519491231002X,社工,2023-01-05\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in their English source form."""
    with translation.override("en"):
        yield


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["name", "id_number"])
    workbook.active.append(["张三", "11010519491231002X"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def file_message(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    messages = excinfo.value.message_dict["file"]
    assert len(messages) == 1
    return messages[0]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_text_in_utf8_with_or_without_bom_or_gb18030_is_csv(encoding):
    data = CSV_TEXT.encode(encoding)
    assert sniff_spreadsheet(data) == "csv"
    assert decode_text(data) == CSV_TEXT


def test_a_real_workbook_is_xlsx():
    assert sniff_spreadsheet(xlsx_bytes()) == "xlsx"


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (PNG, "a PNG image"),
        (PDF, "a PDF document"),
        (XLS, "Excel 97-2003 .xls"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "a JPEG image"),
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
        (zip_bytes({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<t/>"}), "Word"),
        (zip_bytes({"notes.txt": b"hello"}), "a ZIP archive that is not an Excel workbook"),
        ("姓名,岗位\n张三,社工\n".encode("utf-16"), "UTF-16 text"),
        (b"name,role\n\x00\x01\x02", "binary data"),
        (b"name,role\n\x01\x02\x03abc\n", "control characters"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused_saying_what_they_are(data, looks_like):
    with pytest.raises(ValidationError) as excinfo:
        sniff_spreadsheet(data)
    message = file_message(excinfo)
    assert "not a CSV or XLSX spreadsheet" in message
    assert looks_like in message
    assert excinfo.value.error_dict["file"][0].code == "wrong_type"


def test_the_name_of_the_file_plays_no_part():
    """A PNG called roster.xlsx is a PNG; CSV text called photo.png is CSV."""
    png = read_upload(SimpleUploadedFile("roster.xlsx", PNG))
    with pytest.raises(ValidationError, match="PNG image"):
        sniff_spreadsheet(png)
    csv = read_upload(SimpleUploadedFile("photo.png", CSV_TEXT.encode()))
    assert sniff_spreadsheet(csv) == "csv"


def test_text_in_neither_utf8_nor_gb18030_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        sniff_spreadsheet(b"name,role\n\x80\x80\x80\n")
    assert "neither UTF-8 nor GB18030" in file_message(excinfo)


def test_a_damaged_zip_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        sniff_spreadsheet(b"PK\x03\x04" + b"not really a zip" * 10)
    assert "damaged" in file_message(excinfo)


def test_a_zip_bomb_that_unpacks_beyond_the_limit_is_refused_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        chunk = b"\x00" * (1024 * 1024)
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(MAX_UNCOMPRESSED_BYTES // len(chunk) + 1):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # small on disk, huge unpacked
    with pytest.raises(ValidationError) as excinfo:
        sniff_spreadsheet(data)
    assert "unpacks to" in file_message(excinfo)
    assert excinfo.value.error_dict["file"][0].code == "zip_bomb"


def test_a_member_compressed_far_beyond_any_workbook_is_refused():
    data = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": b"A" * (4 * 1024 * 1024),
        }
    )
    with pytest.raises(ValidationError) as excinfo:
        sniff_spreadsheet(data)
    assert "zip bomb" in file_message(excinfo)


def test_small_members_may_compress_well():
    """Ratios are checked only above a grace size: a tiny repetitive part is harmless."""
    members = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>" * 5000}
    assert check_zip(zip_bytes(members)) == list(members)


def test_an_oversize_upload_is_refused_with_both_sizes():
    upload = SimpleUploadedFile("roster.csv", b"a" * (5 * 1024 * 1024 + 1))
    with pytest.raises(ValidationError) as excinfo:
        read_upload(upload)
    message = file_message(excinfo)
    assert "the limit is 5.0" in message
    assert excinfo.value.error_dict["file"][0].code == "too_large"


def test_the_limit_is_an_argument_and_applies_without_a_declared_size():
    stream = io.BytesIO(b"x" * 2048)  # no .size attribute
    with pytest.raises(ValidationError, match=r"the limit is 1\.0"):
        read_upload(stream, max_bytes=1024)
    assert read_upload(io.BytesIO(b"x" * 1024), max_bytes=1024) == b"x" * 1024


def test_an_empty_upload_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        read_upload(SimpleUploadedFile("roster.csv", b""))
    assert file_message(excinfo) == "The file is empty."
