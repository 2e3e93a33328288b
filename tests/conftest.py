"""Persona fixtures (STYLE.md) built with the real services, and test-wide settings."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from evaluation.services import assessor_pool_join
from marketplace.models import Role, User
from marketplace.services import user_create
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import Organization
from orgs_registry.services import organization_create

PASSWORD = "correct-horse-battery-staple"


def _on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests run wherever the database is PostgreSQL, and always in CI."""
    if _on_postgresql():
        return
    marked = [item for item in items if "postgresql" in item.keywords]
    if marked and os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(
            "CI must run the PostgreSQL tests: set DATABASE_URL=postgres://... (see .ci/run)"
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")
    for item in marked:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    # Hashing with Argon2 costs ~50 ms a user; the algorithm is not what tests check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Throttle counters and lock-out state live in the cache and must not leak between tests.
    cache.clear()
    # Uploaded files (bid documents, tender documents) go to a folder of this test only.
    settings.MEDIA_ROOT = tmp_path / "media"


def make_organization(name: str, body: str, *, verified: bool = True, category: str = "2"):
    return organization_create(
        name=name,
        uscc=make_uscc(authority="5", category=category, region="500103", org_body=body),
        actor=None,
        verified=verified,
    )


def make_user(username: str, role: Role, organization: Organization | None = None, **extra) -> User:
    user = user_create(
        username=username,
        role=role,
        password=PASSWORD,
        actor=None,
        organization=organization,
        email=extra.pop("email", f"{username}@example.cn"),
        full_name=extra.pop("full_name", username.title()),
        **extra,
    )
    if role == Role.ASSESSOR:
        assessor_pool_join(user=user, categories=[], actor=None)
    return user


@pytest.fixture
def organization(db) -> Organization:
    return make_organization("阳光社会工作服务中心", "40000001")


@pytest.fixture
def other_organization(db) -> Organization:
    return make_organization("夕阳红养老服务中心", "40000002")


@pytest.fixture
def official(db) -> User:
    return make_user("official", Role.OFFICIAL)


@pytest.fixture
def approver(db) -> User:
    return make_user("approver", Role.APPROVER)


@pytest.fixture
def org_admin(organization) -> User:
    return make_user("org_admin", Role.ORG_ADMIN, organization)


@pytest.fixture
def org_member(organization) -> User:
    return make_user("org_member", Role.ORG_MEMBER, organization)


@pytest.fixture
def other_org_admin(other_organization) -> User:
    return make_user("other_org_admin", Role.ORG_ADMIN, other_organization)


@pytest.fixture
def assessor(db) -> User:
    return make_user("assessor", Role.ASSESSOR)


@pytest.fixture
def registry_admin(db) -> User:
    return make_user("registry_admin", Role.REGISTRY_ADMIN)


@pytest.fixture
def auditor(db) -> User:
    return make_user("auditor", Role.AUDITOR)


@pytest.fixture
def outsider(db) -> User:
    """A signed-in member of an organization unrelated to anything under test."""
    unrelated = make_organization("无关的社会团体", "40000099", category="1")
    return make_user("outsider", Role.ORG_MEMBER, unrelated)


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """A test client signed in as the given user.

    It asks for ``db`` so that pytest-django orders every test using it with the database
    tests, before the transactional ones that flush the tables (and the catalogue rows the
    data migrations loaded).
    """

    def build(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build
