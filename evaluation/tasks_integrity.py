"""Background runs of the integrity screens (DESIGN 5), and the triggers that queue them.

A bid opening, a frozen ranking and every contract change queue a run over that tender
after the transaction commits; the page and the API queue a run on demand. The worker's
run is the same ``screens_run`` as the command's, so the flags are the same either way.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django_tasks import task

from evaluation.models import IntegrityRun, RunTrigger
from marketplace.models import AuditAction

logger = logging.getLogger(__name__)

# Audit events after which the screens run again over the event's tender.
TRIGGERS: dict[str, str] = {
    AuditAction.TENDER_OPENED: RunTrigger.BID_OPENING,
    AuditAction.RANKING_COMPUTED: RunTrigger.BID_OPENING,
    AuditAction.CONTRACT_DRAFTED: RunTrigger.CONTRACT_CHANGE,
    AuditAction.CONTRACT_UPDATED: RunTrigger.CONTRACT_CHANGE,
    AuditAction.CONTRACT_SIGNED: RunTrigger.CONTRACT_CHANGE,
    AuditAction.CONTRACT_TERMINATED: RunTrigger.CONTRACT_CHANGE,
    AuditAction.TEAM_CHANGE_APPROVED: RunTrigger.CONTRACT_CHANGE,
}


@task()
def run_integrity_screens(run_id: int) -> dict[str, int]:
    """Run a queued ``IntegrityRun``; returns its counts per flag kind."""
    from evaluation.services.integrity import screens_run

    run = IntegrityRun.objects.get(pk=run_id)
    if run.status != "queued":
        return dict(run.counts)  # a task delivered twice runs once
    return dict(screens_run(run=run).counts)


def enqueue(run: IntegrityRun) -> None:
    """Queue ``run`` for a worker once the transaction that created it commits."""
    run_id = run.pk
    transaction.on_commit(lambda: run_integrity_screens.enqueue(run_id=run_id))


def _tender_of(event: Any) -> int | None:
    from tenders.models import Contract, TeamChange

    object_id = event.object_id
    if event.object_type == "tenders.tender":
        return int(object_id)
    if event.object_type == "tenders.contract":
        return Contract.objects.filter(pk=object_id).values_list("tender_id", flat=True).first()
    if event.object_type == "tenders.teamchange":
        return (
            TeamChange.objects.filter(pk=object_id)
            .values_list("contract__tender_id", flat=True)
            .first()
        )
    if event.object_type == "evaluation.ranking":
        from evaluation.models import Ranking

        return Ranking.objects.filter(pk=object_id).values_list("tender_id", flat=True).first()
    tender = (event.details or {}).get("tender")
    return int(tender) if isinstance(tender, int | str) and str(tender).isdigit() else None


def on_audit_event(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Queue a run over the event's tender after the commit (``post_save`` of AuditEvent)."""
    trigger = TRIGGERS.get(instance.action)
    if not created or trigger is None:
        return
    tender_id = _tender_of(instance)
    if tender_id is None:
        return

    def queue() -> None:
        # After the commit: a failure to queue must not undo the opening or the contract.
        try:
            if IntegrityRun.objects.filter(tender_id=tender_id, status="queued").exists():
                return  # one run will see every change of this transaction
            from django.utils import timezone

            run = IntegrityRun.objects.create(
                trigger=trigger, tender_id=tender_id, created_at=timezone.now()
            )
            run_integrity_screens.enqueue(run_id=run.pk)
        except Exception:
            logger.exception("could not queue the integrity screens for tender %s", tender_id)

    transaction.on_commit(queue)
