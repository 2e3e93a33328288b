"""Background tasks of the delivery part of the tenders app (settings.PERIODIC_TASKS)."""

from __future__ import annotations

from django_tasks import task

from tenders.services.delivery import milestones_remind


@task()
def remind_milestones() -> int:
    """Remind suppliers of delivery reports due soon or overdue (also ``manage.py
    remind_milestones``); each reminder goes once, so running it more often is harmless."""
    return milestones_remind()
