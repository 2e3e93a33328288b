"""Sign-in, sign-out, password change and reset by e-mail, and the lock-out."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD

LOGIN = reverse("login")
TOKEN = "/api/v1/auth/token/"


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_signing_in_leads_to_the_dashboard_and_is_audited(client, official):
    response = sign_in(client, "official", PASSWORD)

    assert response.status_code == 302
    # Staff pass the second factor next (tests/marketplace/test_two_factor.py).
    assert response.url == f"{reverse('two_factor')}?next=%2Fdashboard%2F"
    event = AuditEvent.objects.filter(action=AuditAction.AUTH_LOGIN).get()
    assert event.actor == official
    assert event.ip_address == "10.0.0.1"


def test_a_wrong_password_shows_a_form_error_and_signs_nobody_in(client, official):
    response = sign_in(client, "official", "wrong-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].non_field_errors()
    assert "10" in response.context["form"].non_field_errors()[0]


def test_signing_in_honours_a_safe_next_url_only(client, official):
    response = client.post(
        LOGIN, {"username": "official", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.url == f"{reverse('two_factor')}?next=%2Fdashboard%2F"


def test_signing_out_needs_post_and_is_audited(client_for, official):
    client = client_for(official)
    assert client.get(reverse("logout")).status_code == 405

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.AUTH_LOGOUT, actor=official).exists()
    assert client.get(reverse("dashboard")).status_code == 302


def test_password_change_checks_the_old_password(client_for, official):
    client = client_for(official)
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "old_password" in form.errors
    assert "new_password2" in form.errors
    official.refresh_from_db()
    assert official.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.USER_PASSWORD_CHANGED).exists()


def test_password_change_sets_the_password_and_is_audited(client_for, official):
    client = client_for(official)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Strong-passw0rd",
            "new_password2": "a-new-Strong-passw0rd",
        },
    )
    assert response.status_code == 302
    official.refresh_from_db()
    assert official.check_password("a-new-Strong-passw0rd")
    assert AuditEvent.objects.filter(
        action=AuditAction.USER_PASSWORD_CHANGED, actor=official
    ).exists()
    # The session survives the change (update_session_auth_hash).
    assert client.get(reverse("dashboard")).status_code == 200


def test_password_reset_by_email_in_the_users_language(
    client, official, django_capture_on_commit_callbacks
):
    official.language = "en"
    official.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": official.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [official.email]
    assert "Reset your password" in message.subject
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", message.body).group(0)

    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "reset-Strong-passw0rd", "new_password2": "reset-Strong-passw0rd"},
    )
    assert response.status_code == 302
    official.refresh_from_db()
    assert official.check_password("reset-Strong-passw0rd")
    assert AuditEvent.objects.filter(action=AuditAction.USER_PASSWORD_RESET).count() == 1


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.cn"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_reset_email_is_chinese_for_a_chinese_user(
    client, official, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": official.email})
    assert "重置" in mail.outbox[0].subject


# --- Lock-out (django-axes): 10 failures per account and address -------------------------


def fail(client: Client, times: int, username: str = "official", address: str = "10.0.0.1"):
    return [sign_in(client, username, "wrong-password", address) for _ in range(times)]


def test_ten_failed_sign_ins_lock_the_account_for_that_address(client, official):
    responses = fail(client, 9)
    assert {r.status_code for r in responses} == {200}

    locked = fail(client, 1)[0]

    assert locked.status_code == 429
    content = locked.content.decode()
    assert "10" in content
    assert int(locked["Retry-After"]) > 25 * 60
    assert re.search(r"\d{2}:\d{2}", content), "the page says when to try again"


def test_while_locked_even_the_right_password_is_refused(client, official):
    fail(client, 10)
    response = sign_in(client, "official", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_account_and_address(client, official, approver):
    fail(client, 10, "official", "10.0.0.1")

    assert sign_in(Client(), "official", PASSWORD, "10.0.0.2").status_code == 302
    assert sign_in(Client(), "approver", PASSWORD, "10.0.0.1").status_code == 302


def test_the_lock_out_is_audited_once(client, official):
    fail(client, 14)
    events = AuditEvent.objects.filter(action=AuditAction.AUTH_LOCKED_OUT)
    assert events.count() == 1
    event = events.get()
    assert event.details == {"username": "official", "ip_address": "10.0.0.1"}
    assert event.object_id == str(official.pk)


def test_the_lock_out_message_is_in_the_users_language(client, official):
    fail(client, 9)
    client.cookies["django_language"] = "en"
    english = fail(client, 1)[0].content.decode()
    assert "Too many failed sign-ins" in english

    chinese = fail(Client(), 10, address="10.0.0.9")[-1].content.decode()
    assert "登录失败次数过多" in chinese


def test_the_api_token_endpoint_shares_the_lock_out_and_answers_in_json(client, official):
    for _ in range(9):
        response = client.post(
            TOKEN, {"username": "official", "password": "bad"}, REMOTE_ADDR="10.0.0.3"
        )
        assert response.status_code == 401
        assert response.json()["error"] == "authentication_failed"

    response = client.post(
        TOKEN, {"username": "official", "password": "bad"}, REMOTE_ADDR="10.0.0.3"
    )
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "locked_out"
    assert body["fields"] == {}
    assert "Retry-After" in response

    right = client.post(
        TOKEN, {"username": "official", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3"
    )
    assert right.status_code == 429


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_failure_count(client, official):
    fail(client, 9)
    assert sign_in(client, "official", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert {r.status_code for r in fail(client, 9)} == {200}
