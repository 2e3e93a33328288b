"""manage.py start_contracts: signed contracts whose service period began go into delivery;
drafts near or past their signing day are reminded."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, no_translations

from tenders.services.contracts import contracts_remind_signatures, contracts_start_due


class Command(BaseCommand):
    help = (
        "Start the signed contracts whose first day of service has come: the contract is in "
        "delivery and its tender too; remind the sides of drafts 7 and 1 days before their "
        "signing day and the day after it (run daily; the scheduler runs it hourly)."
    )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{contracts_start_due()} contract(s) started")
        self.stdout.write(f"{contracts_remind_signatures()} signature reminder(s) sent")
