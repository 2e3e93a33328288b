"""manage.py seed_demo [--scale N]: the demo street office, safe to run twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    no_translations,
)

from marketplace.demo import DEMO_PASSWORD, demo_totp_secret, seed_demo
from marketplace.two_factor import TWO_FACTOR_ROLES


class Command(BaseCommand):
    help = "Build the demo street office and print the demo accounts (all data synthetic)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=int, default=1, help="multiply the data (benchmarks)")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="run even with DEBUG off (the demo accounts share a published password)",
        )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] < 1:
            raise CommandError("--scale must be 1 or more")
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates accounts with a published password; run it with DEBUG=true "
                "or pass --allow-production on a machine that is not production"
            )
        accounts = seed_demo(scale=options["scale"])
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo accounts:"))
        width = max(len(account.username) for account in accounts)
        self.stdout.write(f"  {'username':<{width}} {'role':<16} note")
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<{width}} {account.role.value:<16} {account.note}"
            )
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
        staff = [account for account in accounts if account.role in TWO_FACTOR_ROLES]
        self.stdout.write(
            "Staff accounts then enter a two-factor code: `python manage.py demo_totp USERNAME`"
            " prints the current one (DEBUG only), or add the account's key to an authenticator"
            " app (time-based, 6 digits, 30 s):"
        )
        for account in staff:
            self.stdout.write(f"  {account.username:<{width}} {demo_totp_secret(account.username)}")
