"""Safe checks for uploaded files: a size limit, and the file type decided by content.

The name a file arrives with is never trusted: a PDF renamed ``roster.csv`` is still a PDF.
Every refusal is ``ValidationError({"file": [message]})`` whose message says what is wrong
(and, for a file of the wrong type, what the file really looks like), so that a form and
the API show it next to the upload field. Used by the roster import and, later, by bid
documents.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# Zip-bomb guards, applied to the central directory before any parser opens the archive.
# The thresholds follow Apache POI's ZipSecureFile: an XLSX is deflated XML, which
# compresses well but not a hundredfold; tiny members may exceed the ratio harmlessly.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_GRACE_BYTES = 100 * 1024
MAX_ZIP_MEMBERS = 1000

SpreadsheetKind = Literal["csv", "xlsx"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# C0 control characters other than tab, line feed and carriage return never occur in
# a spreadsheet exported as text; their presence means binary data.
_CONTROL_CHARS = frozenset(chr(c) for c in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def file_error(message: str, *, code: str) -> ValidationError:
    """The error every check raises: attached to the form's ``file`` field."""
    return ValidationError({"file": [ValidationError(message, code=code)]})


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_size(size: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse an empty file or one larger than ``max_bytes``."""
    if size <= 0:
        raise file_error(_("The file is empty."), code="empty")
    if size > max_bytes:
        raise file_error(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
            code="too_large",
        )


def read_upload(upload: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read an uploaded file (Django ``UploadedFile`` or any binary file object) into memory.

    The declared size is checked before reading and the read stops one byte past the
    limit, so that an oversize upload is never held in memory whole.
    """
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        check_size(declared, max_bytes=max_bytes)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > max_bytes:
        # The declared size was missing or wrong: report at least the limit plus one byte.
        check_size(max(len(data), declared or 0), max_bytes=max_bytes)
    check_size(len(data), max_bytes=max_bytes)
    return bytes(data)


def describe_content(data: bytes) -> str | None:
    """Name a well-known binary format from the first bytes, or ``None``."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return _("a PDF document")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _("a PNG image")
    if head.startswith(b"\xff\xd8\xff"):
        return _("a JPEG image")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _("a GIF image")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _("a WebP image")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return _("a TIFF image")
    if head.startswith(_OLE2_MAGIC):
        return _(
            "an old binary Office file (an Excel 97-2003 .xls workbook, a .doc document "
            "or a password-protected workbook)"
        )
    if head.startswith(b"{\\rtf"):
        return _("an RTF document")
    if head.startswith(b"\x1f\x8b"):
        return _("a gzip archive")
    if head.startswith(b"Rar!\x1a\x07"):
        return _("a RAR archive")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return _("a 7-Zip archive")
    if head.startswith(b"\x7fELF") or (head.startswith(b"MZ") and b"\x00" in data[:512]):
        return _("a program (executable file)")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _("UTF-16 text (Excel's “Unicode text”)")
    return None


def _not_a_spreadsheet(what: str) -> ValidationError:
    return file_error(
        _(
            "The file is not a CSV or XLSX spreadsheet: by its content it is %(what)s. "
            "Save it from the spreadsheet program as .xlsx or as CSV (UTF-8) and upload it again."
        )
        % {"what": what},
        code="wrong_type",
    )


def check_zip(
    data: bytes,
    *,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
    max_ratio: int = MAX_COMPRESSION_RATIO,
) -> list[str]:
    """Refuse a damaged archive or a zip bomb; return the member names.

    Only the central directory is read. The declared sizes can be trusted for what
    follows because Python's ``zipfile`` stops every member at its declared size (and
    fails the CRC check if the data goes on), and openpyxl reads through ``zipfile``.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise file_error(
            _("The file looks like a ZIP archive (as XLSX files are) but it is damaged."),
            code="damaged",
        ) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise file_error(
            _("The archive holds %(count)s files; a workbook never needs more than %(max)s.")
            % {"count": len(members), "max": MAX_ZIP_MEMBERS},
            code="zip_bomb",
        )
    total = sum(member.file_size for member in members)
    if total > max_uncompressed:
        raise file_error(
            _("The file unpacks to %(size)s; at most %(limit)s is accepted.")
            % {"size": filesizeformat(total), "limit": filesizeformat(max_uncompressed)},
            code="zip_bomb",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_GRACE_BYTES and ratio > max_ratio:
            raise file_error(
                _(
                    "The file is compressed suspiciously well (%(ratio)d to 1 in %(member)s); "
                    "it is refused as a possible zip bomb."
                )
                % {"ratio": ratio, "member": member.filename[:80]},
                code="zip_bomb",
            )
    return [member.filename for member in members]


def _describe_zip(names: list[str]) -> str:
    found = set(names)
    if "word/document.xml" in found:
        return _("a Word document (.docx)")
    if "ppt/presentation.xml" in found:
        return _("a PowerPoint presentation (.pptx)")
    if "mimetype" in found and "content.xml" in found:
        return _("an OpenDocument file (.ods or .odt)")
    return _("a ZIP archive that is not an Excel workbook")


def decode_text(data: bytes) -> str:
    """Decode CSV text: UTF-8 (with or without BOM), else GB18030 (Chinese Excel exports).

    Raises the ``file`` error when the bytes are not text in either encoding.
    """
    if b"\x00" in data:
        raise _not_a_spreadsheet(_("binary data (it contains NUL bytes)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise file_error(
                _("The file is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8)."),
                code="encoding",
            ) from exc
    if any(char in _CONTROL_CHARS for char in text):
        raise _not_a_spreadsheet(_("binary data (it contains control characters)"))
    if not text.strip():
        raise file_error(_("The file is empty."), code="empty")
    return text


def sniff_spreadsheet(data: bytes) -> SpreadsheetKind:
    """Decide from the content whether ``data`` is an XLSX workbook or CSV text.

    XLSX: a sound ZIP archive (no zip bomb) holding ``[Content_Types].xml`` and
    ``xl/workbook.xml``. CSV: UTF-8 or GB18030 text without NUL or control characters.
    Anything else is refused with a message naming what the file looks like.
    """
    if not data:
        raise file_error(_("The file is empty."), code="empty")
    if data.startswith(_ZIP_MAGIC):
        names = check_zip(data)
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx"
        raise _not_a_spreadsheet(_describe_zip(names))
    what = describe_content(data)
    if what is not None:
        raise _not_a_spreadsheet(what)
    decode_text(data)
    return "csv"


# --- Documents (bid and tender documents) -------------------------------------------------------

DocumentKind = Literal["pdf", "docx", "xlsx", "png", "jpeg"]
DOCUMENT_CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
DOCUMENT_EXTENSIONS: dict[str, str] = {
    "pdf": ".pdf",
    "docx": ".docx",
    "xlsx": ".xlsx",
    "png": ".png",
    "jpeg": ".jpg",
}
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
# PDF features that run code or carry other files when the PDF is opened.
_PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia")
_PDF_ACTIVE_NAMES = frozenset(marker[1:] for marker in _PDF_ACTIVE_CONTENT)
# A PDF name: a slash and regular characters; ``#xx`` escapes any byte (/J#53 is /JS).
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Compressed object streams (PDF 1.5) hold dictionaries, actions included, out of sight.
_PDF_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b.*?>>\s*stream\r?\n", re.DOTALL)
# Object streams hold only small dictionaries; a reader inflating more is fed a bomb.
PDF_MAX_INFLATED_BYTES = 16 * 1024 * 1024


def _pdf_names(data: bytes) -> set[bytes]:
    """Every name in ``data`` as a reader decodes it (``#xx`` escapes undone)."""
    return {
        _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        for name in _PDF_NAME.findall(data)
    }


def _pdf_object_streams(data: bytes) -> list[bytes]:
    """The inflated content of every FlateDecode object stream, within a total budget."""
    inflated: list[bytes] = []
    budget = PDF_MAX_INFLATED_BYTES
    for match in _PDF_OBJECT_STREAM.finditer(data):
        end = data.find(b"endstream", match.end())
        raw = data[match.end() : end if end >= 0 else len(data)]
        decompressor = zlib.decompressobj()
        try:
            content = decompressor.decompress(raw, budget + 1)
        except zlib.error:
            continue  # a stream a reader cannot inflate either shows it nothing
        if len(content) > budget:
            raise file_error(
                _("The PDF unpacks to more than %(limit)s; it is refused as a possible bomb.")
                % {"limit": filesizeformat(PDF_MAX_INFLATED_BYTES)},
                code="zip_bomb",
            )
        budget -= len(content)
        inflated.append(content)
    return inflated


def _pdf_has_active_content(data: bytes) -> bool:
    """Scripts, launch actions or embedded files: written plainly, with escaped names, or
    inside compressed object streams."""
    if any(marker in data for marker in _PDF_ACTIVE_CONTENT):
        return True
    return any(_pdf_names(part) & _PDF_ACTIVE_NAMES for part in [data, *_pdf_object_streams(data)])


def _not_a_document(what: str) -> ValidationError:
    return file_error(
        _(
            "The file is not an accepted document (PDF, Word .docx, Excel .xlsx, PNG or JPEG): "
            "by its content it is %(what)s."
        )
        % {"what": what},
        code="wrong_type",
    )


def sniff_document(data: bytes) -> DocumentKind:
    """Decide from the content which accepted document type ``data`` is, or refuse it.

    PDFs that carry scripts, launch actions or embedded files are refused; Office files
    must be sound, bomb-free archives of the right kind.
    """
    if not data:
        raise file_error(_("The file is empty."), code="empty")
    head = data[:16]
    if head.startswith(b"%PDF-"):
        if _pdf_has_active_content(data):
            raise file_error(
                _(
                    "The PDF contains scripts, actions or embedded files; print it to a plain "
                    "PDF and upload that."
                ),
                code="active_content",
            )
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_ZIP_MAGIC):
        names = set(check_zip(data))
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise file_error(
                    _("The document contains macros; save it as a plain .docx."),
                    code="active_content",
                )
            return "docx"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise file_error(
                    _("The workbook contains macros; save it as a plain .xlsx."),
                    code="active_content",
                )
            return "xlsx"
        raise _not_a_document(_describe_zip(sorted(names)))
    what = describe_content(data)
    raise _not_a_document(what or _("text or an unknown format"))


def safe_filename(name: str, kind: str) -> str:
    """A display name without path parts, with the extension the content really has."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "document"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = "".join(ch for ch in stem if ch.isprintable() and ch not in '<>:"|?*')[:150]
    return f"{stem or 'document'}{DOCUMENT_EXTENSIONS[kind]}"
