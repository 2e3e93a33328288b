"""The staff accounts page: who has set up the second factor, and the way to a reset."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from marketplace.models import Role, User
from tests.conftest import make_user
from tests.otp_support import confirmed_device

STAFF = reverse("staff_accounts")


def _backup_codes(user: User, count: int, *, confirmed: bool = True) -> None:
    device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=confirmed)
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=f"code{n:04d}") for n in range(count)
    )


def _rows(response) -> dict[str, User]:
    return {account.username: account for account in response.context["page"].object_list}


def test_a_registry_admin_sees_each_staff_account_and_its_second_factor(
    client_for, registry_admin, official, assessor, org_admin
):
    confirmed_device(official)
    _backup_codes(official, 3)
    _backup_codes(assessor, 5, confirmed=False)  # enrolment not finished: no codes yet
    inactive = make_user("gone", Role.AUDITOR)
    User.objects.filter(pk=inactive.pk).update(is_active=False)

    response = client_for(registry_admin).get(STAFF)

    assert response.status_code == 200
    rows = _rows(response)
    assert official.username in rows
    assert assessor.username in rows
    assert rows[official.username].has_authenticator is True
    assert rows[official.username].backup_codes_left == 3
    assert rows[assessor.username].has_authenticator is False
    assert rows[assessor.username].backup_codes_left == 0
    # Organization accounts sign in without a second factor; inactive accounts do not sign in.
    assert org_admin.username not in rows
    assert inactive.username not in rows
    page = response.content.decode()
    assert reverse("two_factor_reset", args=[official.pk]) in page
    assert reverse("two_factor_reset", args=[registry_admin.pk]) not in page  # never one's own


def test_the_list_costs_the_same_queries_for_2_or_12_accounts(client_for, registry_admin):
    client = client_for(registry_admin)
    client.get(STAFF)  # the session and the caches settle

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(STAFF).status_code == 200
        return len(captured)

    make_user("official_a", Role.OFFICIAL)
    few = queries()
    for n in range(10):
        user = make_user(f"official_{n}", Role.OFFICIAL)
        confirmed_device(user)
        _backup_codes(user, 2)
    assert queries() == few


@pytest.mark.parametrize("persona", ["official", "auditor", "assessor", "org_admin"])
def test_others_may_not_see_the_staff_accounts(request, client_for, persona):
    assert client_for(request.getfixturevalue(persona)).get(STAFF).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(STAFF)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_registry_admins_dashboard_counts_staff_without_an_authenticator(
    client_for, registry_admin, official, assessor
):
    confirmed_device(registry_admin)
    confirmed_device(official)  # the assessor has none yet
    response = client_for(registry_admin).get(reverse("dashboard"))
    [card] = [card for card in response.context["cards"] if card.url == STAFF]
    assert card.value == 1
    assert card.tone == "attention"
    assert f'href="{STAFF}"' in response.content.decode()  # the navigation links it too


def test_a_reset_returns_to_the_staff_accounts(client_for, registry_admin, official):
    confirmed_device(official)
    response = client_for(registry_admin).post(reverse("two_factor_reset", args=[official.pk]))
    assert response.status_code == 302
    assert response["Location"] == STAFF
