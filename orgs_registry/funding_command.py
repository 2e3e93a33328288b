"""The shared body of ``manage.py import_staffing FILE`` and ``import_subsidies FILE``.

CSV or XLSX; all or nothing. On bad rows every problem is printed as
``row N: column: problem`` on stderr and the command exits with status 1, having
imported nothing. A progress bar on stderr shows the checking and the writing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orgs_registry.models import FundingImportStatus
from orgs_registry.services_funding import funding_import_from_path

BAR_WIDTH = 30


class ProgressBar:
    """A one-line text progress bar, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if phase == "write" and done < total and now - self._last < 0.1:
            return
        self._last = now
        elapsed = now - self.started
        if phase == "check":
            line = f"checking rows … {elapsed:5.1f} s"
        else:
            filled = BAR_WIDTH * done // max(total, 1)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            line = f"writing [{bar}] {done}/{total} rows {elapsed:5.1f} s"
        self.stream.write("\r" + line.ljust(70))
        if phase == "write" and done >= total:
            self.stream.write("\n")
        self.stream.flush()


class FundingImportCommand(BaseCommand):
    kind = ""
    noun = ""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="CSV (UTF-8 or GB18030) or XLSX file")
        parser.add_argument(
            "--no-progress", action="store_true", help="do not draw the progress bar"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        show = not options["no_progress"] and self.stderr.isatty()
        bar = ProgressBar(cast("TextIO", self.stderr._out), enabled=show)
        try:
            funding_import = funding_import_from_path(kind=self.kind, path=path, progress=bar)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if funding_import.status == FundingImportStatus.FAILED:
            problems = getattr(funding_import, "all_problems", funding_import.errors)
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(problems)} problem(s) in {path.name}; nothing was imported "
                f"(import #{funding_import.pk})",
                returncode=1,
            )
        self.stdout.write(
            f"{funding_import.row_count} {self.noun} imported from {path.name} "
            f"(import #{funding_import.pk}, now the current version)"
        )
