"""Hostile inputs for the reliability suite (no tests in here): files that lie about what
they are, files that explode when unpacked, PDFs that run code, names that try to escape
their folder, and text that tries to break pages, exports or the database.

Every builder is deterministic and small in memory: the oversize upload is a sparse temp
file (its size is declared, its bytes are holes), so a 20 MB or 400 MB limit is tested
without allocating it.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

# --- Files -----------------------------------------------------------------------------------

PLAIN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>\n"
)


def _pdf(objects: list[bytes]) -> bytes:
    """A small PDF whose objects are numbered from 1 in the order given."""
    body = b"%PDF-1.7\n"
    for number, content in enumerate(objects, start=1):
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


PDF_OPEN_ACTION_JS = _pdf(
    [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /S /JavaScript /JS (app.alert('pwned')) >>",
    ]
)
# The same action with its names written with PDF's #xx escapes: readers decode
# /J#61vaScript to /JavaScript and /J#53 to /JS.
PDF_ESCAPED_JS = _pdf(
    [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /S /J#61vaScript /J#53 (app.alert('pwned')) >>",
    ]
)
PDF_LAUNCH = _pdf(
    [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /S /Launch /F (cmd.exe) >>",
    ]
)


def _pdf_object_stream() -> bytes:
    """The action dictionary inside a compressed object stream (PDF 1.5): its bytes never
    show ``/JS`` in the file, only once inflated, as a reader does."""
    action = b"<< /S /JavaScript /JS (app.alert('pwned')) >>"
    header = b"3 0 "
    packed = zlib.compress(header + action)
    stream = (
        b"<< /Type /ObjStm /N 1 /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
        % (len(header), len(packed))
        + packed
        + b"\nendstream"
    )
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>",
            b"<< /Type /Pages /Kids [] /Count 0 >>",
            b"<< >>",  # object 3 lives in the object stream (object 4)
            stream,
        ]
    )


PDF_OBJECT_STREAM_JS = _pdf_object_stream()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _bomb(members: dict[str, bytes], big: str, megabytes: int) -> bytes:
    """An Office archive one of whose parts unpacks to ``megabytes`` of zeros, written in
    1 MB chunks (the archive itself stays small)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        chunk = b"\x00" * (1024 * 1024)
        with archive.open(big, "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return buffer.getvalue()


DOCX_BOMB = _bomb(
    {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"},
    "word/media/image1.bin",
    60,
)
XLSX_BOMB = _bomb(
    {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"},
    "xl/worksheets/sheet1.xml",
    60,
)
DOCX_WITH_MACROS = zip_bytes(
    {
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"<w:document/>",
        "word/vbaProject.bin": b"\x00" * 64,
    }
)


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@contextmanager
def sparse_file(name: str, size: int, head: bytes = b"%PDF-1.4\n") -> Iterator[io.BufferedReader]:
    """An open file called ``name`` of ``size`` bytes that costs almost no disk: ``head``
    then holes (a sparse file). The test client sends it like any file a browser sends."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            handle.write(head)
            handle.truncate(size)
        with path.open("rb") as handle:
            yield handle


class StreamedUpload:
    """A file object of ``length`` bytes (``head`` then zeros) made on demand, never held
    whole: it declares a size (its length unless told to lie), as Django's uploaded files
    do, and counts what was read."""

    def __init__(self, name: str, length: int, head: bytes = b"", declared: int = -1) -> None:
        self.name = name
        self.length = length
        self.size = length if declared < 0 else declared  # a client may lie about it
        self._head = head
        self.bytes_read = 0

    def _bytes(self, count: int) -> bytes:
        count = max(0, min(count, self.length - self.bytes_read))
        start = self.bytes_read
        self.bytes_read += count
        head = self._head[start : start + count]
        return head + b"\x00" * (count - len(head))

    def read(self, size: int = -1) -> bytes:
        return self._bytes(self.length if size < 0 else size)

    def chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        while self.bytes_read < self.length:
            yield self._bytes(chunk_size)

    def seek(self, offset: int) -> None:
        self.bytes_read = offset


def media_files() -> list[Path]:
    """Every file under ``MEDIA_ROOT`` (each test has its own, tests/conftest.py)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
