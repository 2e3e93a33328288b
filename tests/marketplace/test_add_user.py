"""manage.py add_user (CONTRACTS.md section 1)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evaluation.models import AssessorProfile
from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry.models import ServiceCategory

ROOT = Path(__file__).resolve().parents[2]


def add_user(*args: str, stdin: str = "a-Strong-passw0rd\n") -> str:
    out = io.StringIO()
    original = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("add_user", *args, stdout=out)
    finally:
        sys.stdin = original
    return out.getvalue()


def snapshot() -> tuple[int, int, int]:
    return User.objects.count(), AuditEvent.objects.count(), AssessorProfile.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OFFICIAL, Role.APPROVER, Role.REGISTRY_ADMIN, Role.AUDITOR])
def test_add_user_creates_a_user_with_the_role_and_the_given_password(role):
    output = add_user("lin", "--role", role, "--email", "lin@example.cn")

    user = User.objects.get(username="lin")
    assert user.role == role
    assert user.organization is None
    assert user.email == "lin@example.cn"
    assert user.check_password("a-Strong-passw0rd")
    assert "Created user lin" in output
    assert "Password:" not in output
    event = AuditEvent.objects.get(action=AuditAction.USER_CREATED, object_id=str(user.pk))
    assert event.details["role"] == role


@pytest.mark.parametrize("role", [Role.ORG_ADMIN, Role.ORG_MEMBER])
def test_add_user_with_an_org_role_joins_the_organization(organization, role):
    add_user("mei", "--role", role, "--org", organization.uscc.lower())

    user = User.objects.get(username="mei")
    assert user.organization == organization
    assert user.role == role


def test_add_user_accepts_a_full_width_uscc(organization):
    full_width = organization.uscc.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})
    add_user("mei", "--role", "org_admin", "--org", f" {full_width} ")
    assert User.objects.get(username="mei").organization == organization


@pytest.mark.django_db
def test_add_user_generates_and_prints_a_password_when_none_is_given():
    output = add_user("gen", "--role", "auditor", stdin="")

    password = output.split("Password:")[1].strip()
    assert len(password) >= 12
    assert User.objects.get(username="gen").check_password(password)


@pytest.mark.django_db
def test_assessor_joins_the_pool_for_all_categories_by_default():
    add_user("expert", "--role", "assessor")

    profile = AssessorProfile.objects.get(user__username="expert")
    assert profile.categories.count() == ServiceCategory.objects.count() >= 10


@pytest.mark.django_db
def test_assessor_joins_the_pool_for_the_given_categories():
    add_user("expert", "--role", "assessor", "--categories", "elderly_care, mental_health")

    codes = set(
        AssessorProfile.objects.get(user__username="expert").categories.values_list(
            "code", flat=True
        )
    )
    assert codes == {"elderly_care", "mental_health"}


@pytest.mark.django_db
def test_a_second_call_for_the_same_user_fails_and_changes_nothing():
    add_user("twice", "--role", "official")
    user = User.objects.get(username="twice")
    before = snapshot()

    with pytest.raises(CommandError, match="user 'twice' already exists; nothing was changed"):
        add_user("twice", "--role", "auditor", stdin="another-Strong-passw0rd\n")

    assert snapshot() == before
    user.refresh_from_db()
    assert user.role == Role.OFFICIAL
    assert user.check_password("a-Strong-passw0rd")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "wizard"], "unknown role 'wizard'; choose one of: org_admin, org_member"),
        (["--role", "org_admin"], "role org_admin needs --org USCC"),
        (["--role", "org_member"], "role org_member needs --org USCC"),
        (
            ["--role", "org_admin", "--org", "53100000500019795A"],
            "no organization is registered with USCC 53100000500019795A",
        ),
        (
            ["--role", "org_admin", "--org", "53100000500019795B"],
            "check character (position 18) is 'B', expected 'A'",
        ),
        (["--role", "org_admin", "--org", "123"], "USCC must have 18 characters, not 3"),
        (["--role", "official", "--org", "53100000500019795A"], "does not belong to an org"),
        (["--role", "assessor", "--categories", "astrology"], "unknown service categories"),
        (["--role", "official", "--categories", "elderly_care"], "only for assessors"),
        (["--role", "official", "--email", "not-an-address"], "email: "),
    ],
)
def test_add_user_refuses_bad_input_with_a_clear_message(db, organization, args, message):
    before = snapshot()

    with pytest.raises(CommandError, match=re.escape(message)):
        add_user("newcomer", *args)

    assert snapshot() == before


@pytest.mark.django_db
def test_add_user_refuses_a_weak_password():
    with pytest.raises(CommandError, match=r"password: .*too short"):
        add_user("weak", "--role", "auditor", stdin="short\n")
    assert not User.objects.filter(username="weak").exists()


def test_add_user_exits_with_status_1_and_a_message_on_error():
    """As operators' scripts see it: exit status and standard error."""
    result = subprocess.run(
        [sys.executable, "manage.py", "add_user", "x", "--role", "wizard"],
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": "sqlite:///:memory:"},
    )
    assert result.returncode == 1
    assert "unknown role 'wizard'" in result.stderr
