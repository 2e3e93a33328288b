"""Sign-in, sign-out and lock-out go to the audit log."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from marketplace.models import AuditAction, User
from marketplace.services import session_event_record


@receiver(user_logged_in, dispatch_uid="audit_login")
def _on_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    session_event_record(action=AuditAction.AUTH_LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _on_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        session_event_record(action=AuditAction.AUTH_LOGOUT, user=user)


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def _on_locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    # django-axes signals every refused attempt while the lock lasts; the log records
    # the moment the lock starts, at exactly the failure limit.
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    target = User.objects.filter(username=username).first() if username else None
    session_event_record(
        action=AuditAction.AUTH_LOCKED_OUT,
        user=None,
        subject=target,
        details={"username": (username or "")[:150], "ip_address": ip_address},
    )
