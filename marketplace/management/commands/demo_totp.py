"""manage.py demo_totp USERNAME: the current two-factor code of a demo staff account.

For trying the demo without an authenticator app. Refuses to run unless DEBUG is on: on a
real site codes come only from the person's own app.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace.demo import demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo staff account (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo_totp prints sign-in codes for the demo: it runs only with DEBUG=true"
            )
        username = options["username"]
        device = (
            TOTPDevice.objects.filter(user__username=username, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise CommandError(
                f"{username} has no confirmed authenticator: is it a staff demo account? "
                "(run manage.py seed_demo)"
            )
        self.stdout.write(f"{username}: {demo_totp_code(device)}")
