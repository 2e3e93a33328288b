"""manage.py close_challenge_windows: close decided challenges once the challenge period ends."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, no_translations

from tenders.services import challenges_close_due


class Command(BaseCommand):
    help = (
        "Close the decided challenges of awarded tenders whose challenge period (7 working "
        "days after the award notice) is over and that have no challenge pending (run daily)."
    )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{challenges_close_due()} challenge(s) closed")
