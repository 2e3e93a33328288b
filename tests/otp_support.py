"""Two-factor sign-in in tests: a confirmed authenticator for a user, its current code, and
the ``Client`` login that gives staff a verified session.

``tests/conftest.py`` applies ``verified_logins`` and ``skip_token_second_factor`` to every
test not marked ``@pytest.mark.real_two_factor``: ``Client.force_login`` (and
``client_for``) then sign staff in as if they had entered their code, and the token endpoint
issues staff tokens without ``otp_token``, so tests of other features need not bother.
Tests of the second factor itself are marked and get the real behaviour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace.models import User
from marketplace.two_factor import needs_two_factor


def confirmed_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator device; one is made when the user has none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(user: User) -> str:
    """A code the user's device accepts now: the current one, or, when that was used
    already (a second sign-in within 30 seconds), the next step's, which the device's
    tolerance of one step accepts too."""
    device = confirmed_device(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    current = totp.t()
    if current <= device.last_t:
        totp.drift += device.last_t + 1 - current
    return f"{totp.token():0{device.digits}d}"


def verify_session(client: Client, user: User) -> None:
    """Mark the client's session as having passed the second factor with the user's device."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
    session.save()


def verified_logins(login: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``Client._login`` (behind ``login`` and ``force_login``): staff sessions come
    out verified."""

    def _login(self: Client, user: User, backend: str | None = None) -> None:
        login(self, user, backend)
        if needs_two_factor(user):
            verify_session(self, user)

    return _login


def skip_token_second_factor(user: User, otp_token: str) -> None:
    """Stands in for ``TokenView._check_second_factor`` outside ``real_two_factor`` tests."""
