"""manage.py expire_grades: end grades whose five-year validity is over (run daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, no_translations

from orgs_registry.services import grades_expire


class Command(BaseCommand):
    help = "Mark grades whose validity ended as expired (each writes an audit event)."

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        count = grades_expire()
        self.stdout.write(f"{count} grade(s) expired")
