"""Two-factor sign-in for staff: enrolment, verification with a code or a backup code, the
pages and API a half-signed-in session reaches, API tokens, and the audited reset."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry.models import ServiceCategory
from tests.conftest import PASSWORD
from tests.otp_support import confirmed_device, totp_code
from tests.tenders.conftest import publish_tender

pytestmark = [pytest.mark.django_db, pytest.mark.real_two_factor]

TWO_FACTOR = reverse("two_factor")
STAFF = ["official", "approver", "assessor", "registry_admin", "auditor"]


@pytest.fixture(autouse=True)
def _no_code_throttling(settings):
    # django-otp makes the next try wait 1 s after a wrong code; tests that are not about
    # that wait enter the right code at once. test_wrong_codes_are_throttled turns it on.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def password_client(user: User) -> Client:
    """A client past the password step only (what ``force_login`` gives here)."""
    client = english(Client())
    client.force_login(user)
    return client


def pending_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return f"{TOTP(device.bin_key).token():06d}"


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize("persona", STAFF)
def test_each_staff_role_is_sent_to_the_two_factor_page_until_verified(request, persona):
    user = request.getfixturevalue(persona)
    confirmed_device(user)
    client = password_client(user)

    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url == f"{TWO_FACTOR}?next=%2Fdashboard%2F"

    verified = client.post(TWO_FACTOR, {"otp_token": totp_code(user), "next": "/dashboard/"})
    assert verified.status_code == 302
    assert verified.url == "/dashboard/"
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("persona", ["org_admin", "org_member"])
def test_organization_accounts_are_not_asked_for_a_code(request, persona):
    client = password_client(request.getfixturevalue(persona))
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(TWO_FACTOR).status_code == 302  # nothing to do there


def test_signing_in_with_a_password_leads_staff_to_the_two_factor_page(official):
    response = english(Client()).post(
        reverse("login"), {"username": "official", "password": PASSWORD, "next": "/tenders/"}
    )
    assert response.status_code == 302
    assert response.url == f"{TWO_FACTOR}?next=%2Ftenders%2F"


def test_enrolment_shows_a_qr_code_and_the_key_and_refuses_a_wrong_code(official):
    client = password_client(official)
    page = client.get(TWO_FACTOR)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert 'class="qr-code"' in html
    assert "style=" not in html.split('<figure class="qr-figure"')[1].split("</figure>")[0]
    # The page offers no links to the pages it would only bounce back from.
    assert reverse("dashboard") not in [item.url for item in page.context["nav_items"]]
    device = TOTPDevice.objects.get(user=official, confirmed=False)
    assert page.context["secret"].replace(" ", "") in html.replace(" ", "")
    # A reload keeps the key an app may have scanned already.
    client.get(TWO_FACTOR)
    assert TOTPDevice.objects.get(user=official, confirmed=False).key == device.key

    wrong = client.post(TWO_FACTOR, {"otp_token": wrong_code(pending_code(official))})
    assert wrong.status_code == 400
    assert "wrong" in wrong.context["form"].errors["otp_token"][0]
    assert not TOTPDevice.objects.filter(user=official, confirmed=True).exists()
    assert client.get(reverse("dashboard")).status_code == 302

    done = client.post(TWO_FACTOR, {"otp_token": pending_code(official), "next": "/tenders/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert TOTPDevice.objects.get(user=official).confirmed
    assert StaticToken.objects.filter(device__user=official).count() == 10
    event = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_ENROLLED)
    assert event.actor == official
    assert event.object_id == str(official.pk)
    assert codes[0] not in str(event.details)
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_backup_code_verifies_once_only(approver):
    client = password_client(approver)
    client.get(TWO_FACTOR)
    done = client.post(TWO_FACTOR, {"otp_token": pending_code(approver)})
    code = done.context["codes"][3]

    again = password_client(approver)
    assert again.post(TWO_FACTOR, {"otp_token": code.upper()}).status_code == 302
    assert again.get(reverse("dashboard")).status_code == 200
    assert StaticToken.objects.filter(device__user=approver).count() == 9

    third = password_client(approver)
    refused = third.post(TWO_FACTOR, {"otp_token": code})
    assert refused.status_code == 400
    assert third.get(reverse("dashboard")).status_code == 302


def test_a_code_is_accepted_once_only(auditor):
    code = totp_code(auditor)
    first = password_client(auditor)
    assert first.post(TWO_FACTOR, {"otp_token": code}).status_code == 302
    second = password_client(auditor)
    assert second.post(TWO_FACTOR, {"otp_token": code}).status_code == 400


def test_wrong_codes_are_throttled_by_django_otp(settings, assessor):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = confirmed_device(assessor)
    client = password_client(assessor)
    right = totp_code(assessor)
    assert client.post(TWO_FACTOR, {"otp_token": wrong_code(right)}).status_code == 400
    refused = client.post(TWO_FACTOR, {"otp_token": right})
    assert refused.status_code == 400
    assert "Too many wrong codes" in refused.context["form"].errors["otp_token"][0]
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_an_unverified_session_sees_public_pages_as_the_public(official, approver):
    published_tender = publish_tender(
        official=official,
        approver=approver,
        category=ServiceCategory.objects.get(code="elderly_care"),
    )
    confirmed_device(official)
    client = password_client(official)
    for url in [
        "/",
        reverse("tenders:list"),
        reverse("tenders:detail", args=[published_tender.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["user"].is_anonymous, url
    assert client.get(reverse("tenders:workspace")).status_code == 302
    assert client.post(reverse("logout")).status_code == 302


def test_the_api_refuses_an_unverified_session_with_its_code(official):
    client = password_client(official)
    response = client.get(reverse("api:me"))
    assert response.status_code == 403
    assert response.json()["error"] == "two_factor_required"

    client.post(TWO_FACTOR, {"otp_token": totp_code(official)})
    assert client.get(reverse("api:me")).json()["username"] == "official"


def test_the_token_view_needs_a_code_for_staff(official, org_admin):
    url = reverse("api:token")
    credentials = {"username": "official", "password": PASSWORD}
    missing = Client().post(url, credentials, content_type="application/json")
    assert missing.status_code == 400
    assert "otp_token" in missing.json()["fields"]

    wrong = Client().post(
        url,
        {**credentials, "otp_token": wrong_code(totp_code(official))},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert "otp_token" in wrong.json()["fields"]

    issued = Client().post(
        url, {**credentials, "otp_token": totp_code(official)}, content_type="application/json"
    )
    assert issued.status_code == 200
    token = issued.json()["token"]
    me = Client(headers={"Authorization": f"Token {token}"}).get(reverse("api:me"))
    assert me.json()["username"] == "official"

    # Organization accounts need no code.
    org = Client().post(
        url, {"username": "org_admin", "password": PASSWORD}, content_type="application/json"
    )
    assert org.status_code == 200


def test_the_schema_documents_the_code_field(client):
    schema = client.get(reverse("api_schema"), {"format": "json"}).json()
    fields = schema["components"]["schemas"]["CredentialsRequest"]["properties"]
    assert "otp_token" in fields
    assert "two-factor" in fields["otp_token"]["title"].lower() or fields["otp_token"].get(
        "description"
    )


def test_a_registry_admin_resets_devices_and_it_is_audited(client_for, registry_admin, official):
    confirmed_device(official)
    StaticDevice.objects.create(user=official, name="backup codes")
    url = reverse("two_factor_reset", args=[official.pk])
    admin_client = client_for(registry_admin)
    admin_client.post(TWO_FACTOR, {"otp_token": totp_code(registry_admin)})
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=official).exists()
    assert not StaticDevice.objects.filter(user=official).exists()
    event = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_RESET)
    assert event.actor == registry_admin
    assert event.object_id == str(official.pk)
    assert event.details == {"devices_removed": 2}
    # The next sign-in enrols anew.
    assert "qr-code" in password_client(official).get(TWO_FACTOR).content.decode()


@pytest.mark.parametrize("persona", ["official", "auditor", "org_admin"])
def test_others_may_not_reset_devices(request, client_for, persona, assessor):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    if user.role != Role.ORG_ADMIN:
        client.post(TWO_FACTOR, {"otp_token": totp_code(user)})
    assert client.post(reverse("two_factor_reset", args=[assessor.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR_RESET).exists()


def test_a_superuser_resets_devices_with_the_admin_action(official):
    superuser = User.objects.create_superuser("root", "root@example.cn", PASSWORD)
    confirmed_device(official)
    client = password_client(superuser)
    client.post(TWO_FACTOR, {"otp_token": totp_code(superuser)})
    response = client.post(
        reverse("admin:marketplace_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [official.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=official).exists()
    assert AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR_RESET, actor=superuser).exists()


def test_the_demo_code_command_refuses_without_debug(settings, official):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_totp", "official", stdout=io.StringIO())


def test_the_demo_code_command_prints_a_code_the_device_accepts(settings, official):
    settings.DEBUG = True
    confirmed_device(official)
    out = io.StringIO()
    call_command("demo_totp", "official", stdout=out)
    code = out.getvalue().strip().split()[-1]
    assert len(code) == 6
    assert code.isdigit()
    client = password_client(official)
    assert client.post(TWO_FACTOR, {"otp_token": code}).status_code == 302
