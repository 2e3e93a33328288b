"""Reads of accounts and the audit log, scoped to the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from marketplace import permissions
from marketplace.filters import AuditEventFilter
from marketplace.models import AuditChainHead, AuditEvent, User


def audit_event_list_for_user(
    user: User | AnonymousUser, *, filters: dict[str, Any] | None = None
) -> tuple[QuerySet[AuditEvent], AuditEventFilter]:
    """Audit events the user may browse, filtered; the FilterSet carries form errors."""
    if not permissions.can_view_audit_log(user):
        raise PermissionDenied
    filterset = AuditEventFilter(
        data=filters or None, queryset=AuditEvent.objects.select_related("actor")
    )
    # Unbound (no filters): everything. Bound but invalid: nothing, with the form errors.
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none(), filterset
    queryset = filterset.qs
    return queryset.order_by("-sequence"), filterset


def audit_event_get_for_user(user: User | AnonymousUser, sequence: int) -> tuple[AuditEvent, bool]:
    """One audit event and whether a later one exists; 404 for anyone who may not read the log."""
    if not permissions.can_view_audit_log(user):
        raise Http404
    try:
        event = AuditEvent.objects.get(sequence=sequence)
    except AuditEvent.DoesNotExist as exc:
        raise Http404 from exc
    head = AuditChainHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0
    return event, sequence < head
