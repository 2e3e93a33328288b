"""manage.py seed_demo: every role has a working demo account; a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace.demo import DEMO_PASSWORD, demo_totp_code
from marketplace.models import AuditEvent, Role, User
from orgs_registry.models import Organization


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--allow-production", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_creates_and_prints_an_account_for_every_role():
    output = seed()
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    for user in User.objects.all():
        assert user.username in output
    assert DEMO_PASSWORD in output


@pytest.mark.django_db
@pytest.mark.real_two_factor
def test_every_demo_account_can_sign_in():
    seed()
    for number, user in enumerate(User.objects.all()):
        # Each person signs in from a machine of their own: the sign-in page allows
        # RATE_LOGIN attempts a minute per address, fewer than the demo's accounts.
        client = Client(REMOTE_ADDR=f"10.0.{number // 200}.{number % 200 + 1}")
        response = client.post(
            reverse("login"), {"username": user.username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, user.username
        if response.url.startswith(reverse("two_factor")):
            # Staff demo accounts have a demo authenticator (README: demo accounts).
            device = TOTPDevice.objects.get(user=user, confirmed=True)
            verified = client.post(reverse("two_factor"), {"otp_token": demo_totp_code(device)})
            assert verified.status_code == 302, user.username
        assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_running_seed_demo_twice_changes_nothing():
    seed()
    counts = (User.objects.count(), Organization.objects.count(), AuditEvent.objects.count())
    seed()
    assert (User.objects.count(), Organization.objects.count(), AuditEvent.objects.count()) == (
        counts
    )


@pytest.mark.django_db
def test_scale_multiplies_the_organizations():
    seed()
    base = Organization.objects.count()
    seed("--scale", "3")
    assert Organization.objects.count() == 3 * base


@pytest.mark.django_db
def test_seed_demo_refuses_production_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.count() == 0
