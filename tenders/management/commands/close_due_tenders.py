"""manage.py close_due_tenders: close published tenders whose bid deadline has passed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, no_translations

from tenders.services import tenders_close_due


class Command(BaseCommand):
    help = "Close every published tender whose bid deadline has passed (run every minute)."

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{tenders_close_due()} tender(s) closed")
