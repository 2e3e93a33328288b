"""manage.py scheduler: enqueue the periodic tasks of PERIODIC_TASKS on their intervals.

One scheduler runs beside any number of task workers (``manage.py db_worker``); it only
enqueues, the workers run. The tasks are idempotent (closing due tenders, expiring
grades), so a restart or a second scheduler does no harm. Cron calling the matching
management commands is an alternative.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser, no_translations
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Enqueue the periodic tasks (settings.PERIODIC_TASKS) on their intervals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="enqueue every task once and stop")

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        schedule = [
            (import_string(path), int(seconds)) for path, seconds in settings.PERIODIC_TASKS
        ]
        due = [0.0] * len(schedule)
        while True:
            now = time.monotonic()
            for index, (task, interval) in enumerate(schedule):
                if now >= due[index]:
                    result = task.enqueue()
                    self.stdout.write(f"enqueued {task.name} ({result.id})")
                    due[index] = now + interval
            if options["once"]:
                return
            time.sleep(max(1.0, min(due) - time.monotonic()))
