"""Audit log: how fast events append (one transaction each) and the chain verifies."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from marketplace.audit import audit_record, audit_verify, compute_hash
from marketplace.models import GENESIS_HASH, AuditAction, AuditChainHead, AuditEvent
from tests.bench.conftest import report

APPENDS = 2_000
VERIFY_EVENTS = 100_000


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_appending_events_one_transaction_each(stopwatch):
    with stopwatch.measure():
        for i in range(APPENDS):
            with transaction.atomic():
                audit_record(action=AuditAction.ORG_CREATED, object_id=i, details={"i": i})
    rate = APPENDS / stopwatch.seconds
    report(f"audit append ({connection.vendor})", rate, "events/s", ">= 150 events/s")
    assert rate >= 150


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verifying_a_long_chain(stopwatch):
    _bulk_chain(VERIFY_EVENTS)
    with stopwatch.measure():
        result = audit_verify()
    assert result.ok
    assert result.count == VERIFY_EVENTS
    report(
        f"verify_audit over {VERIFY_EVENTS:,} events ({connection.vendor})",
        stopwatch.seconds,
        "s",
        "<= 15 s",
    )
    assert stopwatch.seconds <= 15


def _bulk_chain(n: int) -> None:
    """Write a valid chain quickly (bulk insert) to have something long to verify."""
    from django.utils import timezone

    now = timezone.now()
    prev = GENESIS_HASH
    batch = []
    for sequence in range(1, n + 1):
        fields = {
            "sequence": sequence,
            "created_at": now,
            "actor_id": None,
            "actor_name": "",
            "actor_role": "",
            "action": AuditAction.ORG_CREATED.value,
            "object_type": "bench.thing",
            "object_id": str(sequence),
            "state_before": "",
            "state_after": "",
            "details": {"i": sequence},
            "ip_address": None,
            "prev_hash": prev,
        }
        prev = compute_hash(fields)
        batch.append(AuditEvent(**fields, hash=prev))
    with transaction.atomic():
        AuditEvent.objects.bulk_create(batch, batch_size=5000)
        AuditChainHead.objects.update_or_create(pk=1, defaults={"sequence": n, "hash": prev})
