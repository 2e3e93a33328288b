"""The hash-chained, append-only audit log and manage.py verify_audit."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from marketplace.audit import audit_record, audit_verify
from marketplace.models import AuditAction, AuditChainHead, AuditEvent


def record(n: int, **details) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit_record(
                    action=AuditAction.ORG_CREATED,
                    object_type="test.thing",
                    object_id=i,
                    details={"i": i, **details},
                )
            )
    return events


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def tamper(sql: str, params: list) -> None:
    """Change the table as a database superuser would, bypassing the ORM (and the trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE marketplace_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE marketplace_auditevent ENABLE TRIGGER USER")


@pytest.mark.django_db
def test_events_get_gap_free_sequence_numbers_and_link_to_their_predecessor():
    first, second, third = record(3)

    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    head = AuditChainHead.objects.get()
    assert (head.sequence, head.hash) == (3, third.hash)


@pytest.mark.django_db
def test_an_event_records_actor_role_object_and_states(official):
    with transaction.atomic():
        event = audit_record(
            action=AuditAction.USER_CREATED,
            actor=official,
            obj=official,
            state_before="draft",
            state_after="published",
            details={"amount": Decimal("12.50")},
        )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor == official
    assert (event.actor_name, event.actor_role) == ("official", "official")
    assert (event.object_type, event.object_id) == ("marketplace.user", str(official.pk))
    assert (event.state_before, event.state_after) == ("draft", "published")
    assert event.details == {"amount": "12.50"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(action=AuditAction.ORG_CREATED)


@pytest.mark.django_db
def test_an_event_is_rolled_back_with_its_change():
    def change_that_fails() -> None:
        with transaction.atomic():
            audit_record(action=AuditAction.ORG_CREATED)
            raise ZeroDivisionError  # the change fails after its event was written

    with pytest.raises(ZeroDivisionError):
        change_that_fails()
    assert AuditEvent.objects.count() == 0
    record(1)
    assert AuditEvent.objects.get().sequence == 1


@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_an_event():
    (event,) = record(1)
    event.action = AuditAction.AUTH_LOGIN
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


@pytest.mark.django_db
def test_verify_audit_passes_an_intact_chain_and_prints_the_count():
    record(5)
    code, output = verify()
    assert code == 0
    assert "audit chain intact: 5 events" in output
    assert audit_verify().ok


@pytest.mark.django_db
def test_verify_audit_passes_an_empty_log():
    assert verify() == (0, "audit chain intact: 0 events\n")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_audit_names_the_event_whose_field_was_changed():
    record(5)
    tamper("UPDATE marketplace_auditevent SET object_id = %s WHERE sequence = %s", ["x", 3])

    code, message = verify()

    assert code == 1
    assert "broken at event 3" in message
    assert "was changed" in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_audit_notices_a_recomputed_hash_by_the_broken_link():
    """Rewriting an event together with its own hash still breaks the next event's link."""
    events = record(4)
    tamper("UPDATE marketplace_auditevent SET hash = %s WHERE sequence = %s", ["f" * 64, 2])
    code, message = verify()
    assert code == 1
    assert "broken at event 2" in message
    assert events[2].prev_hash == events[1].hash


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_audit_names_the_first_missing_event_after_a_deletion():
    record(5)
    tamper("DELETE FROM marketplace_auditevent WHERE sequence = %s", [2])

    code, message = verify()

    assert code == 1
    assert "broken at event 2" in message
    assert "deleted" in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_audit_notices_events_cut_off_the_end():
    record(5)
    tamper("DELETE FROM marketplace_auditevent WHERE sequence >= %s", [4])

    code, message = verify()

    assert code == 1
    assert "broken at event 4" in message
    assert "removed from the end" in message


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE marketplace_auditevent SET action = 'auth.login' WHERE sequence = 1",
        "DELETE FROM marketplace_auditevent WHERE sequence = 1",
    ],
)
def test_postgresql_trigger_refuses_update_and_delete(sql):
    record(2)
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2
    assert audit_verify().ok


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appends_keep_the_sequence_gap_free_and_the_chain_intact():
    threads_count, per_thread = 8, 15
    errors: list[BaseException] = []

    def work() -> None:
        try:
            record(per_thread)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, threads_count * per_thread + 1))
    assert audit_verify().ok
