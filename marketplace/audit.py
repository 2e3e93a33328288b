"""Appending to and verifying the hash-chained audit log (DESIGN.md section 6)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.middleware import current_request_context
from marketplace.models import GENESIS_HASH, AuditAction, AuditChainHead, AuditEvent, User


def _canonical_json(value: Any) -> str:
    return json.dumps(
        value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def _normalize_details(details: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so that what is hashed now is exactly what the database
    # gives back later (Decimals and dates become strings, tuples become lists).
    result: dict[str, Any] = json.loads(_canonical_json(details or {}))
    return result


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


# Every field of an event except its own hash, in the order they are documented.
HASHED_FIELDS = (
    "sequence",
    "created_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "state_before",
    "state_after",
    "details",
    "ip_address",
    "prev_hash",
)


def compute_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 of an event's content (``HASHED_FIELDS``), chained by ``prev_hash``."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["created_at"] = _timestamp(payload["created_at"])
    return hashlib.sha256(_canonical_json(payload).encode()).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """Recompute the hash of a stored event from its fields."""
    return compute_hash({name: getattr(event, name) for name in HASHED_FIELDS})


def audit_record(
    *,
    action: AuditAction,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    state_before: str = "",
    state_after: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log.

    Must run inside the transaction of the change it records, so that the change and
    its event commit or roll back together.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record() must run inside the transaction of the change.")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    context = current_request_context()
    if actor is not None and not actor.is_authenticated:
        actor = None

    # The head row lock serializes appends: sequence numbers stay gap-free and every
    # event links to the one committed just before it. The clock is read after the lock
    # so that time never runs backwards along the chain.
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        sequence=head.sequence + 1,
        created_at=timezone.now(),
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        actor_role=(actor.role if actor else "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        state_before=str(state_before or ""),
        state_after=str(state_after or ""),
        details=_normalize_details(details),
        ip_address=context.ip_address,
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    event.save()
    AuditChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
    return event


# --- Embargoes: events that must stay hidden for a while ---------------------------------------

EmbargoSource = Callable[[], Q]
_embargoes: list[EmbargoSource] = []


def register_embargo(source: EmbargoSource) -> EmbargoSource:
    """Register a function returning a ``Q`` of events nobody may read yet.

    The tenders app hides every event about a bid until its tender is opened: otherwise
    the log would tell who bid, and how many, before the opening (DESIGN.md section 6).
    """
    _embargoes.append(source)
    return source


def embargoed_events() -> Q:
    """A ``Q`` matching the events hidden right now (matching nothing when none are)."""
    combined = Q(pk__in=[])
    for source in _embargoes:
        combined |= source()
    return combined


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of recomputing the audit chain."""

    ok: bool
    count: int
    first_bad_sequence: int | None = None
    problem: str = ""


def verify_chain(
    events: Iterable[AuditEvent], *, head_sequence: int, head_hash: str
) -> ChainVerification:
    """Recompute the chain over ``events`` (in sequence order) and compare with the head.

    Reports the first event whose sequence, link or content does not match.
    """
    expected_sequence = 1
    prev_hash = GENESIS_HASH
    count = 0
    for event in events:
        if event.sequence != expected_sequence:
            return ChainVerification(
                ok=False,
                count=count,
                first_bad_sequence=expected_sequence,
                problem=(
                    f"event {expected_sequence} is missing "
                    f"(the next stored event is {event.sequence}): events were deleted"
                ),
            )
        if event.prev_hash != prev_hash:
            return ChainVerification(
                ok=False,
                count=count,
                first_bad_sequence=event.sequence,
                problem=(
                    f"event {event.sequence} does not link to event {event.sequence - 1}: "
                    "its previous-hash differs from that event's hash"
                ),
            )
        recomputed = event_hash(event)
        if recomputed != event.hash:
            return ChainVerification(
                ok=False,
                count=count,
                first_bad_sequence=event.sequence,
                problem=(
                    f"event {event.sequence} ({event.action}) was changed: "
                    "its content no longer matches its hash"
                ),
            )
        prev_hash = event.hash
        expected_sequence += 1
        count += 1
    if count != head_sequence or prev_hash != head_hash:
        return ChainVerification(
            ok=False,
            count=count,
            first_bad_sequence=count + 1,
            problem=(
                f"the chain ends at event {count} but {head_sequence} events were recorded: "
                "events were removed from the end"
            ),
        )
    return ChainVerification(ok=True, count=count)


def audit_verify(*, chunk_size: int = 5000) -> ChainVerification:
    """Verify the whole stored audit log against its head row."""
    with transaction.atomic():
        head = AuditChainHead.objects.filter(pk=1).first()
        head_sequence = head.sequence if head else 0
        # Events appended after the head was read are left for the next verification.
        events = (
            AuditEvent.objects.filter(sequence__lte=head_sequence)
            .order_by("sequence")
            .iterator(chunk_size=chunk_size)
        )
        return verify_chain(
            events,
            head_sequence=head_sequence,
            head_hash=head.hash if head else GENESIS_HASH,
        )
