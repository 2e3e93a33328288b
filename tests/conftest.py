"""Persona fixtures (STYLE.md) built with the real services, and test-wide settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from evaluation.services import assessor_pool_join
from marketplace.api import TokenView
from marketplace.models import Role, User
from marketplace.services import user_create
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import Organization
from orgs_registry.services import organization_create
from tests.otp_support import skip_token_second_factor, verified_logins

PASSWORD = "correct-horse-battery-staple"


def _on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


# Test files that run for minutes. With one worker per core (``--dist loadfile``) they are
# handed out first, so that each runs beside the rest of the suite; pytest-xdist would hand
# out the files with the most tests first and leave a one-test file of minutes to run alone
# at the end.
LONG_FILES = ("tests/reliability/test_deadline_rush.py",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadfile":
        return None  # pytest-xdist's own
    from xdist.scheduler import LoadFileScheduling

    class LongFilesFirst(LoadFileScheduling):
        def _assign_work_unit(self, node: Any) -> None:
            for scope in [scope for scope in self.workqueue if scope in LONG_FILES]:
                self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return LongFilesFirst(config, log)


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


# The migrations' rows as Django serialized them when it made the test database, by alias.
_SERIALIZED: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """Keep the serialized rows apart from the connection objects that carry them.

    Django keeps them on each ``DatabaseWrapper``; a thread running an asyncio loop (the
    browser journeys' Playwright) gets wrappers of its own without them, so neither Django's
    restore nor the one below would find them there.
    """
    from django.db import connections

    for connection in connections.all():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            _SERIALIZED[connection.alias] = contents


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Give every current connection wrapper the serialized rows (see ``django_db_setup``)."""
    if not _SERIALIZED:
        return
    from django.db import connections

    for connection in connections.all():
        if connection.alias in _SERIALIZED:
            connection._test_serialized_contents = _SERIALIZED[connection.alias]  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """Put back the rows the migrations made after a transactional test flushed them.

    Django restores a ``serialized_rollback`` test's data when the NEXT such test starts,
    so the flush at its end leaves the database empty for whatever runs after it. Django's
    own runner runs transactional tests last; with one worker per core a module of them may
    be followed by others, which need the service catalogue and the communities.

    The database is flushed once more before the restore: a flush that ran on a connection
    wrapper without the serialized rows (the browser journeys' thread) let ``post_migrate``
    recreate the content types under new ids, which the restore would collide with.
    """
    marker = item.get_closest_marker("django_db")
    restore = (
        nextitem is not None  # after the last test the test database is gone
        and marker is not None
        and marker.kwargs.get("transaction")
        and marker.kwargs.get("serialized_rollback")
    )
    if restore:
        pytest_runtest_setup(item)  # the wrappers that Django's own flush will use
    result = yield
    if restore:
        from django.core.management import call_command
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for connection in connections.all():
                contents = _SERIALIZED.get(connection.alias) or getattr(
                    connection, "_test_serialized_contents", None
                )
                if contents:
                    call_command(
                        "flush",
                        database=connection.alias,
                        interactive=False,
                        inhibit_post_migrate=True,
                        verbosity=0,
                    )
                    connection.creation.deserialize_db_from_string(contents)
    return result


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    # Hashing with Argon2 costs ~50 ms a user; the algorithm is not what tests check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Throttle counters and lock-out state live in the cache and must not leak between tests.
    cache.clear()
    # Uploaded files (bid documents, tender documents) go to a folder of this test only.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _staff_pass_two_factor(request, monkeypatch) -> None:
    """``force_login`` and ``client_for`` give staff a session that passed the second factor,
    and the token endpoint does not ask staff for a code (``tests.otp_support``), unless the
    test is marked ``real_two_factor``."""
    if request.node.get_closest_marker("real_two_factor") is None:
        monkeypatch.setattr(Client, "_login", verified_logins(Client._login))
        monkeypatch.setattr(
            TokenView, "_check_second_factor", staticmethod(skip_token_second_factor)
        )


# --- State built once per module ----------------------------------------------------------


class Clock:
    """``timezone.now()`` under the test's control (services read it, so do the models)."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> datetime:
        self.current = moment
        return moment


def patch_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> Clock:
    """Make ``timezone.now()`` (and ``timezone.localdate()``) read a ``Clock``."""
    fake = Clock(start)
    localdate = timezone.localdate
    monkeypatch.setattr(timezone, "now", fake)
    # localdate(value) converts value; only localdate() reads the clock.
    monkeypatch.setattr(
        timezone,
        "localdate",
        lambda value=None, tz=None: localdate(value if value is not None else fake(), tz),
    )
    return fake


@contextmanager
def module_database(django_db_blocker) -> Iterator[None]:
    """Keep one transaction open around a whole test module and roll it back at the end.

    State built inside (``building``) is shared by the module's tests the way Django's
    ``TestCase.setUpTestData`` shares it: each test runs in a savepoint of this transaction
    and is rolled back to the shared state; the module leaves nothing behind. Tests using
    it must not be transactional, and must re-read the rows they use (their Python objects
    are shared).
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@contextmanager
def building(django_db_blocker, *, start: datetime, media: Path) -> Iterator[Clock]:
    """Build shared state with the database open, fast hashing, a private media folder and
    a clock starting at ``start``."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=media,
        ),
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        yield patch_clock(monkeypatch, start)


def persona(username: str, role: Role, organization: Organization | None = None) -> User:
    """The persona ``username``: the one shared state made, or a new one."""
    existing = User.objects.filter(username=username).first()
    return existing or make_user(username, role, organization)


def persona_organization(name: str, body: str, **kwargs) -> Organization:
    uscc = make_uscc(
        authority="5", category=kwargs.get("category", "2"), region="500103", org_body=body
    )
    existing = Organization.objects.filter(uscc=uscc).first()
    return existing or make_organization(name, body, **kwargs)


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
    return persona_organization("阳光社会工作服务中心", "40000001")


@pytest.fixture
def other_organization(db) -> Organization:
    return persona_organization("夕阳红养老服务中心", "40000002")


@pytest.fixture
def official(db) -> User:
    return persona("official", Role.OFFICIAL)


@pytest.fixture
def approver(db) -> User:
    return persona("approver", Role.APPROVER)


@pytest.fixture
def org_admin(organization) -> User:
    return persona("org_admin", Role.ORG_ADMIN, organization)


@pytest.fixture
def org_member(organization) -> User:
    return persona("org_member", Role.ORG_MEMBER, organization)


@pytest.fixture
def other_org_admin(other_organization) -> User:
    return persona("other_org_admin", Role.ORG_ADMIN, other_organization)


@pytest.fixture
def assessor(db) -> User:
    return persona("assessor", Role.ASSESSOR)


@pytest.fixture
def registry_admin(db) -> User:
    return persona("registry_admin", Role.REGISTRY_ADMIN)


@pytest.fixture
def auditor(db) -> User:
    return persona("auditor", Role.AUDITOR)


@pytest.fixture
def outsider(db) -> User:
    """A signed-in member of an organization unrelated to anything under test."""
    unrelated = persona_organization("无关的社会团体", "40000099", category="1")
    return persona("outsider", Role.ORG_MEMBER, unrelated)


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
