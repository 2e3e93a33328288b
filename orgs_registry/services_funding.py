"""Importing the registries of public funding: the staffing roster (编制) and the subsidy ledger.

Interface:

    imp = funding_import_start(kind="staffing", upload=file, actor=auditor)
    #   streams the upload to a private file, types it by content, records the import
    #   (pending) and queues ``tasks_funding.run_funding_import`` after the commit
    imp = funding_import_run(funding_import_id=imp.pk, path=..., fmt="csv")
    #   the task's body: read, check every row, write, make the version current
    imp = funding_import_from_path(kind="staffing", path=Path(...), progress=callback)
    #   the commands: the same in this process (no actor, the file is left in place)
    funding_imports_fail_stale()
    #   hourly: an import whose worker died (pending or running far too long) fails,
    #   its rows and its orphaned upload are removed

An import is all or nothing: every row is checked before one is written, a bad row fails
the whole import with every problem listed (``FundingImport.errors``), and rows are
visible to readers only once their import is done (``selectors_funding``). Rows are
written in chunks outside one long transaction, so that the progress the page polls is
committed as it goes; a failure while writing deletes the rows already written.

A done import becomes the current version of its kind; the previous one stays as
history with its rows.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, User
from marketplace.uploads import check_size, file_error
from orgs_registry import permissions_funding as permissions
from orgs_registry.funding_import import (
    MAX_BYTES,
    MAX_STORED_PROBLEMS,
    FundingImportError,
    category_lookup,
    check_staffing,
    check_subsidies,
    read_funding_file,
    sniff_funding_file,
)
from orgs_registry.models import (
    FundingImport,
    FundingImportKind,
    FundingImportStatus,
    Organization,
    ServiceCategory,
    StaffingRecord,
    Subsidy,
)

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase is ``"check"`` or ``"write"``."""

CHUNK_ROWS = 50_000
# A queued import not started after this long, or one writing for this long, has lost its
# worker (a roster of a million rows is written in about a minute): it fails and its rows
# and upload are removed, so that the page stops showing it in progress and the file can be
# imported again.
STALE_PENDING = timedelta(hours=6)
STALE_RUNNING = timedelta(hours=1)
_READ_CHUNK = 1024 * 1024


def _upload_dir() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "funding_imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _store_upload(upload: Any) -> tuple[Path, str]:
    """Stream the upload to a private file (never held whole in memory): path, SHA-256."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > MAX_BYTES:
        check_size(declared, max_bytes=MAX_BYTES)
    handle, name = tempfile.mkstemp(dir=_upload_dir(), suffix=".upload")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            if hasattr(upload, "seek"):
                upload.seek(0)
            chunks = (
                upload.chunks(_READ_CHUNK)
                if hasattr(upload, "chunks")
                else iter(lambda: upload.read(_READ_CHUNK), b"")
            )
            for chunk in chunks:
                data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                size += len(data)
                if size > MAX_BYTES:
                    check_size(size, max_bytes=MAX_BYTES)
                digest.update(data)
                out.write(data)
        check_size(size, max_bytes=MAX_BYTES)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_kind(kind: str) -> None:
    if kind not in FundingImportKind.values:
        raise ValidationError(
            {"kind": _("Choose the staffing roster or the subsidy ledger.")}, code="invalid"
        )


def _refuse_current_copy(kind: str, sha256: str) -> None:
    """Importing the current version again would only duplicate it."""
    if FundingImport.objects.filter(kind=kind, is_current=True, sha256=sha256).exists():
        raise file_error(
            _("This file is already the current version; nothing was imported."),
            code="duplicate",
        )


def funding_import_start(*, kind: str, upload: Any, actor: User, note: str = "") -> FundingImport:
    """Record an import of ``upload`` and queue it; the rows are checked by the task."""
    if not permissions.can_import_funding_registry(actor):
        raise PermissionDenied
    _check_kind(kind)
    if len(note) > 200:
        raise ValidationError({"note": _("At most %(max)d characters.") % {"max": 200}})
    path, sha256 = _store_upload(upload)
    try:
        fmt = sniff_funding_file(path)
        _refuse_current_copy(kind, sha256)
    except ValidationError:
        path.unlink(missing_ok=True)
        raise
    file_name = os.path.basename(str(getattr(upload, "name", "") or "").replace("\\", "/"))
    with transaction.atomic():
        funding_import = FundingImport.objects.create(
            kind=kind,
            file_name=file_name[:255] or f"{kind}.{fmt}",
            sha256=sha256,
            imported_by=actor,
            note=note,
        )
        pk = funding_import.pk
        transaction.on_commit(lambda: _enqueue(pk, path, fmt))
    return funding_import


def _enqueue(pk: int, path: Path, fmt: str) -> None:
    from orgs_registry.tasks_funding import run_funding_import

    run_funding_import.enqueue(funding_import_id=pk, path=str(path), fmt=fmt)


def funding_import_from_path(
    *, kind: str, path: Path, actor: User | None = None, progress: Progress | None = None
) -> FundingImport:
    """The commands' import: record it and run it here; the file is left where it is."""
    _check_kind(kind)
    if not path.is_file():
        raise file_error(_("There is no file %(path)s.") % {"path": str(path)}, code="missing")
    fmt = sniff_funding_file(path)
    sha256 = _file_sha256(path)
    _refuse_current_copy(kind, sha256)
    funding_import = FundingImport.objects.create(
        kind=kind, file_name=path.name[:255], sha256=sha256, imported_by=actor
    )
    return funding_import_run(
        funding_import_id=funding_import.pk,
        path=str(path),
        fmt=fmt,
        progress=progress,
        delete_file=False,
    )


def funding_import_run(
    *,
    funding_import_id: int,
    path: str,
    fmt: str,
    progress: Progress | None = None,
    delete_file: bool = True,
) -> FundingImport:
    """Check and write one import; it ends done (and current) or failed with its problems.

    The problems are kept in the importer's language (a worker has none of its own); the
    commands, which have no importer, keep the language they run in.
    """
    try:
        funding_import = FundingImport.objects.select_related("imported_by").get(
            pk=funding_import_id
        )
        language = (
            funding_import.imported_by.language
            if funding_import.imported_by is not None
            else translation.get_language()
        )
        with translation.override(language or None):
            return _run(funding_import, Path(path), fmt, progress)
    finally:
        if delete_file:
            Path(path).unlink(missing_ok=True)


def _run(
    funding_import: FundingImport, path: Path, fmt: str, progress: Progress | None
) -> FundingImport:
    if funding_import.status != FundingImportStatus.PENDING:
        return funding_import  # a task delivered twice does nothing the second time
    try:
        table = _checked_table(funding_import.kind, path, fmt, progress)
    except FundingImportError as exc:
        return _fail(funding_import, [str(problem) for problem in exc.problems])
    except ValidationError as exc:
        return _fail(funding_import, exc.messages)
    _start(funding_import, rows=len(table), fmt=fmt)
    try:
        _write(funding_import, table, progress)
    except Exception:
        _delete_rows(funding_import)
        _fail(funding_import, [_("The rows could not be written; nothing was imported.")])
        raise
    return _finish(funding_import)


def _checked_table(kind: str, path: Path, fmt: str, progress: Progress | None) -> pd.DataFrame:
    if progress:
        progress("check", 0, 0)
    frame = read_funding_file(path, fmt)
    categories = category_lookup(ServiceCategory.objects.all())
    if kind == FundingImportKind.STAFFING:
        table = check_staffing(frame, categories=categories)
    else:
        organizations = dict(Organization.objects.values_list("uscc", "pk"))
        table = check_subsidies(frame, categories=categories, organizations=organizations)
    if progress:
        progress("check", len(table), len(table))
    return table


def _fail(
    funding_import: FundingImport, problems: list[str], *, reason: str = "problems"
) -> FundingImport:
    stored = problems[:MAX_STORED_PROBLEMS]
    if len(problems) > len(stored):
        stored.append(_("… and %(count)d more problems.") % {"count": len(problems) - len(stored)})
    with transaction.atomic():
        funding_import = FundingImport.objects.select_for_update().get(pk=funding_import.pk)
        before = funding_import.status
        if funding_import.is_finished:
            return funding_import  # failed already (found stale while the task ended)
        fire(funding_import, "fail", stored)
        funding_import.save()
        audit_record(
            action=AuditAction.FUNDING_IMPORT_FAILED,
            actor=funding_import.imported_by,
            obj=funding_import,
            state_before=before,
            state_after=funding_import.status,
            details={
                "kind": funding_import.kind,
                "file_name": funding_import.file_name,
                "sha256": funding_import.sha256,
                "problems": len(problems),
                "reason": reason,
            },
        )
    # The full list goes back to the caller (the commands print every problem).
    funding_import.all_problems = problems  # type: ignore[attr-defined]
    return funding_import


def _start(funding_import: FundingImport, *, rows: int, fmt: str) -> None:
    with transaction.atomic():
        locked = FundingImport.objects.select_for_update().get(pk=funding_import.pk)
        fire(locked, "start")
        locked.row_count = rows
        locked.save()
        audit_record(
            action=AuditAction.FUNDING_IMPORT_STARTED,
            actor=locked.imported_by,
            obj=locked,
            state_before=FundingImportStatus.PENDING,
            state_after=locked.status,
            details={
                "kind": locked.kind,
                "file_name": locked.file_name,
                "sha256": locked.sha256,
                "format": fmt,
                "rows": rows,
            },
        )


def _finish(funding_import: FundingImport) -> FundingImport:
    with transaction.atomic():
        locked = FundingImport.objects.select_for_update().get(pk=funding_import.pk)
        if locked.status != FundingImportStatus.RUNNING:
            # Failed as stale while this worker was still writing: its rows go too.
            _delete_rows(locked)
            return locked
        previous = (
            FundingImport.objects.select_for_update()
            .filter(kind=locked.kind, is_current=True)
            .exclude(pk=locked.pk)
            .first()
        )
        if previous is not None:
            # Cleared first: the constraint allows one current version per kind.
            FundingImport.objects.filter(pk=previous.pk).update(is_current=False)
        fire(locked, "finish")
        locked.save()
        audit_record(
            action=AuditAction.FUNDING_IMPORTED,
            actor=locked.imported_by,
            obj=locked,
            state_before=FundingImportStatus.RUNNING,
            state_after=locked.status,
            details={
                "kind": locked.kind,
                "rows": locked.row_count,
                "replaces": previous.pk if previous else None,
            },
        )
    return locked


def funding_imports_fail_stale(*, now: datetime | None = None) -> list[FundingImport]:
    """Fail the imports whose worker died: pending longer than ``STALE_PENDING`` or running
    longer than ``STALE_RUNNING``. Their rows are deleted (nothing of a failed import is
    kept) and stored uploads older than ``STALE_PENDING`` (no live import reads them any
    more) are removed. Returns the imports failed now."""
    now = now or timezone.now()
    stale = FundingImport.objects.filter(
        Q(status=FundingImportStatus.PENDING, started_at__lt=now - STALE_PENDING)
        | Q(status=FundingImportStatus.RUNNING, started_at__lt=now - STALE_RUNNING)
    ).order_by("pk")
    failed = []
    for funding_import in stale:
        with translation.override(
            (funding_import.imported_by.language if funding_import.imported_by else None) or None
        ):
            message = _(
                "The import stopped without finishing (its worker was interrupted); "
                "nothing was imported. Import the file again."
            )
        _delete_rows(funding_import)
        result = _fail(funding_import, [message], reason="stale")
        if result.status == FundingImportStatus.FAILED and result.errors == [message]:
            failed.append(result)
    cutoff = (now - STALE_PENDING).timestamp()
    for path in _upload_dir().glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:  # removed meanwhile
            continue
    return failed


def _delete_rows(funding_import: FundingImport) -> None:
    StaffingRecord.objects.filter(funding_import_id=funding_import.pk).delete()
    Subsidy.objects.filter(funding_import_id=funding_import.pk).delete()


# --- Writing ----------------------------------------------------------------------------------

_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    FundingImportKind.STAFFING: (
        "person_name",
        "id_number",
        "id_number_normalized",
        "sex",
        "employing_unit",
        "unit_uscc",
        "post_type",
        "funding_type",
        "function_text",
    ),
    FundingImportKind.SUBSIDY: (
        "recipient_name",
        "recipient_uscc",
        "purpose_text",
        "programme",
    ),
}


def _model(kind: str) -> type[StaffingRecord] | type[Subsidy]:
    return StaffingRecord if kind == FundingImportKind.STAFFING else Subsidy


def _write(funding_import: FundingImport, table: pd.DataFrame, progress: Progress | None) -> None:
    """Write the rows in chunks, committing the progress after each chunk."""
    model = _model(funding_import.kind)
    table = table.assign(funding_import_id=funding_import.pk)
    total = len(table)
    chunks = [table.iloc[start : start + CHUNK_ROWS] for start in range(0, total, CHUNK_ROWS)]
    done = 0

    def written(rows: int) -> None:
        nonlocal done
        done += rows
        FundingImport.objects.filter(pk=funding_import.pk).update(rows_done=done)
        if progress:
            progress("write", done, total)

    if connection.vendor == "postgresql":
        _copy_chunks(model, chunks, _TEXT_COLUMNS[funding_import.kind], written)
    else:
        for chunk in chunks:
            _bulk_create_chunk(model, chunk)
            written(len(chunk))


def _csv_text(chunk: pd.DataFrame) -> str:
    return chunk.to_csv(index=False, header=False, date_format="%Y-%m-%d")


def _copy_chunks(
    model: Any,
    chunks: list[pd.DataFrame],
    text_columns: tuple[str, ...],
    written: Callable[[int], None],
) -> None:
    """PostgreSQL COPY of each chunk as CSV (psycopg 3): an order of magnitude over INSERT.

    The next chunk is turned into CSV in a thread while the server stores this one. Empty
    unquoted CSV fields are NULL (dates, the category); the text columns are NOT NULL
    with "" for blank, which FORCE_NOT_NULL gives them.
    """
    if not chunks:
        return
    columns = list(chunks[0].columns)
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    force = ", ".join(quote(column) for column in text_columns)
    sql = (
        f"COPY {quote(model._meta.db_table)} ({names}) "
        f"FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({force}))"
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_csv_text, chunks[0])
        for position, chunk in enumerate(chunks):
            text = pending.result()
            if position + 1 < len(chunks):
                pending = pool.submit(_csv_text, chunks[position + 1])
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(text)
            written(len(chunk))


def _bulk_create_chunk(model: Any, chunk: pd.DataFrame) -> None:
    chunk = chunk.copy()
    for column in chunk.columns:
        if pd.api.types.is_datetime64_any_dtype(chunk[column]):
            chunk[column] = chunk[column].dt.date
    rows = chunk.astype(object).where(chunk.notna(), None).to_dict("records")
    model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
