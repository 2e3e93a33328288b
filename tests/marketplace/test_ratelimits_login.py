"""Rate limits of the sign-in page (per client address, whatever the account), the two-factor
page (per account) and the public survey (per client address, over all sites): the post
beyond the rate gets the 429 page and changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.otp_support import confirmed_device, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
TWO_FACTOR = reverse("two_factor")


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only the rate limit refuses here
    cache.clear()
    yield
    cache.clear()


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def sign_in(client: Client, username: str, password: str, address: str):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_ins_beyond_the_rate_per_address_are_refused_for_any_account(settings, org_admin):
    settings.RATE_LOGIN = "3/m"
    client = english()
    for username in ("alice", "bob", "carol"):
        assert sign_in(client, username, "wrong-password", "10.0.0.7").status_code == 200
    refused = sign_in(client, "org_admin", PASSWORD, "10.0.0.7")
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(LOGIN, REMOTE_ADDR="10.0.0.7").status_code == 200  # reading is not limited
    # Another address is counted apart.
    assert sign_in(Client(), "org_admin", PASSWORD, "10.0.0.8").status_code == 302


@pytest.mark.real_two_factor
def test_two_factor_codes_beyond_the_rate_per_account_are_refused(settings, official, approver):
    settings.RATE_TWO_FACTOR = "2/m"
    confirmed_device(official)
    client = english()
    client.force_login(official)
    wrong = f"{(int(totp_code(official)) + 1) % 1_000_000:06d}"
    for _ in range(2):
        assert client.post(TWO_FACTOR, {"otp_token": wrong}).status_code == 400
    refused = client.post(TWO_FACTOR, {"otp_token": totp_code(official)})
    assert refused.status_code == 429
    assert client.get(reverse("dashboard")).status_code == 302  # still not verified
    # The limit is per account: another account from the same address is not refused.
    confirmed_device(approver)
    other = english()
    other.force_login(approver)
    assert other.post(TWO_FACTOR, {"otp_token": totp_code(approver)}).status_code == 302


def test_survey_answers_beyond_the_rate_per_address_are_refused(settings):
    """Counted before the site is looked up, so an address cannot probe many sites either."""
    settings.RATE_SURVEY = "2/m"
    client = english()
    url = reverse("tenders:survey", args=["no-such-site"])
    for _ in range(2):
        assert client.post(url, {}, REMOTE_ADDR="10.0.0.9").status_code == 404
    assert client.post(url, {}, REMOTE_ADDR="10.0.0.9").status_code == 429
    assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 404  # reading is not limited
    assert client.post(url, {}, REMOTE_ADDR="10.0.0.10").status_code == 404
