"""manage.py start_contracts: signed contracts whose service period began go into delivery."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, no_translations

from tenders.services.contracts import contracts_start_due


class Command(BaseCommand):
    help = (
        "Start the signed contracts whose first day of service has come: the contract is in "
        "delivery and its tender too (run daily; the scheduler runs it hourly)."
    )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{contracts_start_due()} contract(s) started")
