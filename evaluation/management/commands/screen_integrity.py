"""``manage.py screen_integrity [--tender ID]``: run every integrity screen of DESIGN 5.

Draws a progress bar on stderr (one step per screen) and prints the number of flags each
kind of screen found, one ``kind: count`` line per kind, then the run's totals.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evaluation.models import FlagKind, RunTrigger
from evaluation.services.integrity import screens_run
from tenders.models import Tender

BAR_WIDTH = 30


class ProgressBar:
    def __init__(self, stream: Any, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, percent: int, step: str) -> None:
        if not self.enabled:
            return
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r[{bar}] {percent:3d}% {step[:30]:<30} {elapsed:5.1f} s")
        if percent >= 100:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Run every integrity screen (double funding, collusion, assessor bias)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tender", type=int, help="screen this tender only (its id)")
        parser.add_argument(
            "--no-progress", action="store_true", help="do not draw the progress bar"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tender = None
        if options.get("tender") is not None:
            tender = Tender.objects.filter(pk=options["tender"]).first()
            if tender is None:
                raise CommandError(f"There is no tender {options['tender']}.")
        show = not options["no_progress"] and getattr(sys.stderr, "isatty", lambda: False)()
        bar = ProgressBar(self.stderr._out, enabled=show)
        run = screens_run(tender=tender, progress=bar, trigger=RunTrigger.COMMAND)
        for kind in FlagKind:
            if kind.value in run.counts:
                self.stdout.write(f"{kind.value}: {run.counts[kind.value]}")
        total = sum(run.counts.values())
        self.stdout.write(f"run #{run.pk}: {total} finding(s), {run.new_flags} new flag(s)")
