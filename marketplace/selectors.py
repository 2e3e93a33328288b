"""Reads of accounts and the audit log, scoped to the user."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace import permissions
from marketplace.audit import embargoed_events
from marketplace.filters import AuditEventFilter
from marketplace.models import AuditChainHead, AuditEvent, User
from marketplace.two_factor import TWO_FACTOR_ROLES, can_manage_two_factor


def lockout_retry_at(*, username: str, ip_address: str | None) -> datetime:
    """When a locked-out account may sign in again from ``ip_address``.

    The lock runs from the failure that reached the limit (django-axes keeps the cool-off
    from being extended by attempts made during the lock).
    """
    last_failure = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    return (last_failure or timezone.now()) + cooloff


def audit_event_list_for_user(
    user: User | AnonymousUser, *, filters: dict[str, Any] | None = None
) -> tuple[QuerySet[AuditEvent], AuditEventFilter]:
    """Audit events the user may browse, filtered; the FilterSet carries form errors."""
    if not permissions.can_view_audit_log(user):
        raise PermissionDenied
    filterset = AuditEventFilter(
        data=filters or None, queryset=AuditEvent.objects.exclude(embargoed_events())
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
        event = AuditEvent.objects.exclude(embargoed_events()).get(sequence=sequence)
    except AuditEvent.DoesNotExist as exc:
        raise Http404 from exc
    head = AuditChainHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0
    return event, sequence < head


def _staff_accounts() -> QuerySet[User]:
    """The active accounts whose sign-in takes a second factor (``needs_two_factor``)."""
    return User.objects.filter(
        Q(role__in=TWO_FACTOR_ROLES) | Q(is_staff=True) | Q(is_superuser=True), is_active=True
    )


def staff_account_list(user: User | AnonymousUser) -> QuerySet[User]:
    """The active accounts that sign in with a second factor, with ``has_authenticator``
    (a confirmed authenticator app) and ``backup_codes_left``, in a constant number of
    queries; for registry administrators and superusers (``PermissionDenied`` otherwise)."""
    if not can_manage_two_factor(user):
        raise PermissionDenied
    codes_left = (
        StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
        .order_by()
        .values("device__user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        _staff_accounts()
        .annotate(
            has_authenticator=Exists(
                TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            ),
            backup_codes_left=Coalesce(Subquery(codes_left, output_field=IntegerField()), 0),
        )
        .order_by("role", "username")
    )


def staff_without_authenticator_count(user: User | AnonymousUser) -> int:
    """How many of ``staff_account_list`` have not set up their authenticator yet."""
    if not can_manage_two_factor(user):
        raise PermissionDenied
    return _staff_accounts().exclude(totpdevice__confirmed=True).count()
