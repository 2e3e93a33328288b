"""manage.py rotate_bid_keys: re-encrypt sealed bids with the first BID_ENCRYPTION_KEYS key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, no_translations

from tenders.services import bid_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every sealed bid value and document with the first key of "
        "BID_ENCRYPTION_KEYS (see tenders/sealing.py for the rotation steps)."
    )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        count = bid_keys_rotate()
        self.stdout.write(self.style.SUCCESS(f"{count} sealed value(s) re-encrypted"))
