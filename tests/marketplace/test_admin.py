"""The admin site browses data; changes go through audited services only."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent, User
from tenders.models import Bid
from tests.conftest import PASSWORD


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.cn", "a-Strong-passw0rd")


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "marketplace/user",
        "marketplace/auditevent",
        "orgs_registry/organization",
        "orgs_registry/servicecategory",
        "orgs_registry/person",
        "orgs_registry/employment",
        "orgs_registry/gradeassessment",
        "orgs_registry/indicatorset",
        "orgs_registry/changerequest",
        "orgs_registry/creditentry",
        "orgs_registry/creditmeasure",
        "evaluation/assessorprofile",
    ],
)
def test_admin_lists_load_but_offer_no_add(admin_client, official, model):
    response = admin_client.get(f"/admin/{model}/")
    assert response.status_code == 200
    assert admin_client.get(f"/admin/{model}/add/").status_code == 403


def test_a_user_cannot_be_edited_in_the_admin(admin_client, official):
    url = reverse("admin:marketplace_user_change", args=[official.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"username": "renamed", "role": "auditor"})
    assert response.status_code == 403
    official.refresh_from_db()
    assert (official.username, official.role) == ("official", "official")


def test_an_audit_event_cannot_be_deleted_in_the_admin(admin_client, official):
    event = AuditEvent.objects.first()
    url = reverse("admin:marketplace_auditevent_delete", args=[event.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_deactivating_in_the_admin_is_audited_and_blocks_sign_in(admin_client, superuser, official):
    response = admin_client.post(
        reverse("admin:marketplace_user_changelist"),
        {"action": "deactivate", "_selected_action": [official.pk, superuser.pk]},
    )
    assert response.status_code == 302
    official.refresh_from_db()
    superuser.refresh_from_db()
    assert not official.is_active
    assert superuser.is_active, "nobody deactivates themselves"
    event = AuditEvent.objects.get(action=AuditAction.USER_DEACTIVATED)
    assert (event.actor, event.object_id) == (superuser, str(official.pk))
    assert (
        Client().post(reverse("login"), {"username": "official", "password": PASSWORD}).status_code
        == 200
    )

    admin_client.post(
        reverse("admin:marketplace_user_changelist"),
        {"action": "reactivate", "_selected_action": [official.pk]},
    )
    official.refresh_from_db()
    assert official.is_active
    assert AuditEvent.objects.filter(action=AuditAction.USER_REACTIVATED).count() == 1


def test_people_with_roles_do_not_get_into_the_admin(client_for, auditor):
    response = client_for(auditor).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_the_admin_masks_id_numbers(admin_client, org_admin, organization):
    from datetime import date

    from orgs_registry.identifiers import make_id_number
    from orgs_registry.services import StaffInput, staff_add

    number = make_id_number(region="500103", born=date(1980, 1, 2), sequence=3, male=True)
    employment = staff_add(
        organization=organization,
        actor=org_admin,
        data=StaffInput(name="王五", id_number=number, role="社工", start_date=date(2025, 1, 1)),
    )
    listing = admin_client.get("/admin/orgs_registry/person/").content.decode()
    detail = admin_client.get(
        f"/admin/orgs_registry/person/{employment.person_id}/change/"
    ).content.decode()
    for html in (listing, detail):
        assert number not in html
        assert employment.person.id_number_masked in html


def test_view_on_site_with_an_id_not_of_the_key_type_is_a_404(admin_client):
    bid_type = ContentType.objects.get_for_model(Bid)  # a UUID key
    response = admin_client.get(f"/admin/r/{bid_type.pk}/1/")
    assert response.status_code == 404
    assert Client().get(f"/admin/r/{bid_type.pk}/1/").status_code == 302  # to the admin login
