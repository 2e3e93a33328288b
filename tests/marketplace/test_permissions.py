"""Role predicates, checked against a table of roles (STYLE.md example 4)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from marketplace import permissions
from marketplace.models import Role, User

# role -> (is_official, can_view_audit_log, can_view_dashboard, is_org_user)
MATRIX = {
    Role.ORG_ADMIN: (False, False, True, True),
    Role.ORG_MEMBER: (False, False, True, True),
    Role.OFFICIAL: (True, False, True, False),
    Role.APPROVER: (True, False, True, False),
    Role.ASSESSOR: (False, False, True, False),
    Role.REGISTRY_ADMIN: (False, False, True, False),
    Role.AUDITOR: (False, True, True, False),
}


def test_the_matrix_covers_every_role():
    assert set(MATRIX) == set(Role)


@pytest.mark.parametrize(("role", "expected"), MATRIX.items())
def test_role_predicates(role, expected, organization):
    from tests.conftest import make_user

    user = make_user(f"user_{role}", role, organization if role.startswith("org_") else None)
    actual = (
        permissions.is_official(user),
        permissions.can_view_audit_log(user),
        permissions.can_view_dashboard(user),
        permissions.is_org_user(user),
    )
    assert actual == expected
    assert permissions.has_role(user, role)
    assert not permissions.has_role(user, *(other for other in Role if other != role))


@pytest.mark.parametrize("role", list(Role))
def test_an_inactive_user_has_no_role(role, organization):
    from tests.conftest import make_user

    user = make_user(f"gone_{role}", role, organization if role.startswith("org_") else None)
    user.is_active = False
    assert not permissions.has_role(user, role)
    assert not permissions.can_view_dashboard(user)
    assert not permissions.can_view_audit_log(user)


def test_anonymous_visitors_have_no_role():
    anonymous = AnonymousUser()
    assert not permissions.has_role(anonymous, *Role)
    assert not permissions.can_view_dashboard(anonymous)
    assert not permissions.is_official(anonymous)
    assert not permissions.has_role(None, Role.AUDITOR)


@pytest.mark.django_db
def test_a_superuser_without_a_role_only_administers_the_site():
    admin = User.objects.create_superuser("root", "root@example.cn", "a-Strong-passw0rd")
    assert permissions.can_use_admin_site(admin)
    assert permissions.can_view_dashboard(admin)
    assert not permissions.can_view_audit_log(admin)
    assert not permissions.is_official(admin)
