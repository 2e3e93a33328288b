"""manage.py verify_audit: recompute the audit hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, no_translations

from marketplace.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chain. Exit 0 with the event count when it is "
        "intact; exit 1 naming the first bad event otherwise."
    )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"audit chain broken at event {result.first_bad_sequence}: {result.problem} "
                f"({result.count} events before it are intact)",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.count} events"))
