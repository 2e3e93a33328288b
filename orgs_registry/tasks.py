"""Background tasks of the registry."""

from __future__ import annotations

from django_tasks import task

from orgs_registry.services import grades_expire


@task()
def expire_grades() -> int:
    """Daily: expire grades whose validity ended (also ``manage.py expire_grades``)."""
    return grades_expire()
