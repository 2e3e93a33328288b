"""manage.py export_ocds [--out FILE]: an OCDS 1.1 release package of every published tender."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import ocds


class Command(BaseCommand):
    help = (
        "Write an OCDS 1.1 release package of every published tender (JSON), to standard "
        "output or to --out FILE. Links in it start with settings.OCDS_SITE_URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", help="the JSON file to write (default: standard output)")

    def handle(self, *args, **options) -> None:
        stats = ocds.ExportStats()
        chunks = ocds.package_chunks(ocds.published_tenders(), stats=stats)
        if not options["out"]:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            self.stdout.write("")
            return
        out = Path(options["out"])
        folder = out.parent
        if not folder.is_dir():
            raise CommandError(f"The folder {folder} does not exist.")
        started = time.perf_counter()
        # Written beside the target and moved over it at the end: a reader of the file
        # (a web server publishing it) never sees half a package.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                for chunk in chunks:
                    file.write(chunk)
            # mkstemp makes the file private; the export is public data, so it gets the
            # permissions any new file would get.
            umask = os.umask(0)
            os.umask(umask)
            Path(temporary).chmod(0o666 & ~umask)
            os.replace(temporary, out)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        seconds = time.perf_counter() - started
        self.stderr.write(
            f"{out}: {stats.releases:,} releases of {stats.tenders:,} tenders "
            f"({out.stat().st_size:,} bytes, {seconds:.1f} s)"
        )
