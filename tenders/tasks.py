"""Background tasks of the tenders app."""

from __future__ import annotations

from django_tasks import task

from tenders.services import challenges_close_due, tenders_close_due
from tenders.services.contracts import contracts_remind_signatures, contracts_start_due


@task()
def close_due_tenders() -> int:
    """Close published tenders past their deadline (also ``manage.py close_due_tenders``)."""
    return tenders_close_due()


@task()
def close_challenge_windows() -> int:
    """Close decided challenges of tenders whose challenge period is over (also
    ``manage.py close_challenge_windows``)."""
    return challenges_close_due()


@task()
def start_contracts() -> int:
    """Start the signed contracts whose service period began and remind the sides of
    drafts near or past their signing day (also ``manage.py start_contracts``)."""
    return contracts_start_due() + contracts_remind_signatures()
