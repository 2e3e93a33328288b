"""manage.py remind_milestones: remind suppliers of delivery reports before they fall due."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser, no_translations
from django.utils.dateparse import parse_date

from tenders.services.delivery import milestones_remind


class Command(BaseCommand):
    help = (
        "E-mail the supplier's administrators about planned milestones of contracts in "
        "delivery 7 and 1 days before their due date, and once when the report is overdue "
        "(run daily; each reminder goes once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Run as on this day (YYYY-MM-DD), for catching up.")

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        today = parse_date(options["today"]) if options.get("today") else None
        if options.get("today") and today is None:
            self.stderr.write("--today must be a date, YYYY-MM-DD")
            return
        self.stdout.write(f"{milestones_remind(today=today)} milestone(s) reminded")
