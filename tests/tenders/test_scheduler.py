"""manage.py scheduler enqueues the periodic tasks (run once here)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tenders.models import Tender, TenderStatus


@pytest.mark.django_db
def test_the_scheduler_enqueues_and_the_tasks_run(make_tender, clock):
    tender = make_tender()
    clock.set(tender.bid_deadline)
    out = io.StringIO()
    call_command("scheduler", "--once", stdout=out)  # the immediate backend runs them now
    assert "enqueued" in out.getvalue()
    assert "close_due_tenders" in out.getvalue()
    assert Tender.objects.get(pk=tender.pk).status == TenderStatus.CLOSED
