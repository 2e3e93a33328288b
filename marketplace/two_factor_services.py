"""Enrolling, verifying and resetting staff's second factor (``marketplace.two_factor``).

Codes are checked by django-otp only; its throttling doubles the wait after each wrong
code, so guessing six digits takes years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user, match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace.audit import audit_record
from marketplace.models import AuditAction, User
from marketplace.two_factor import can_reset_two_factor, has_confirmed_device

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


@dataclass(frozen=True)
class Refusal:
    """Why a code was not accepted: wrong, or too many wrong ones until ``retry_at``."""

    throttled: bool
    retry_at: datetime | None = None


def _throttled_until(devices: list[Device]) -> datetime | None:
    """The moment the user's devices accept codes again, if they are throttled now."""
    until: datetime | None = None
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            locked_until = data["locked_until"]
            until = locked_until if until is None else max(until, locked_until)
    return until


def two_factor_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator device being enrolled, made on first need.

    The same key is shown again on a reload, so that a code from an app that already
    scanned it keeps working.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def two_factor_enrol(*, user: User, token: str) -> tuple[TOTPDevice, list[str]] | Refusal:
    """Confirm the pending authenticator with its first code and issue the backup codes.

    Returns the confirmed device and the backup codes in plain text (shown once), or the
    refusal. Raises ``ValueError`` when the user already has a confirmed device.
    """
    with transaction.atomic():
        if has_confirmed_device(user):
            raise ValueError("The account already has a confirmed two-factor device.")
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            return Refusal(throttled=False)
        if not device.verify_token(token):
            # verify_token saved the failure count; it stays when this block commits.
            retry_at = _throttled_until([device])
            return Refusal(throttled=retry_at is not None, retry_at=retry_at)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        StaticDevice.objects.filter(user=user).delete()
        backup = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
        audit_record(
            action=AuditAction.TWO_FACTOR_ENROLLED,
            actor=user,
            obj=user,
            details={"backup_codes": BACKUP_CODE_COUNT},
        )
    return device, codes


def two_factor_verify(*, user: User, token: str) -> Device | Refusal:
    """The device that accepts ``token`` (the authenticator's code or an unused backup
    code, which is then used up), or the refusal.

    A wrong code counts as a failure on every device of the user (django-otp throttling).
    """
    token = normalize_token(token)
    devices = list(devices_for_user(user, confirmed=True))
    retry_at = _throttled_until(devices)
    if retry_at is not None:
        return Refusal(throttled=True, retry_at=retry_at)
    device = match_token(user, token) if token else None
    if device is not None:
        return device
    retry_at = _throttled_until(list(devices_for_user(user, confirmed=True)))
    return Refusal(throttled=retry_at is not None, retry_at=retry_at)


def two_factor_reset(*, user: User, actor: User) -> int:
    """Remove all of ``user``'s devices (a lost phone): the next sign-in enrols anew.

    Returns how many devices were removed. Raises ``PermissionError`` unless the actor may
    reset them (``can_reset_two_factor``).
    """
    if not can_reset_two_factor(actor, user):
        raise PermissionError("Not allowed to reset this account's two-factor devices.")
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            devices = model.objects.filter(user=user)
            removed += devices.count()
            devices.delete()
        audit_record(
            action=AuditAction.TWO_FACTOR_RESET,
            actor=actor,
            obj=user,
            details={"devices_removed": removed},
        )
    return removed


def normalize_token(token: str) -> str:
    """Codes are typed with spaces or dashes now and then (``123 456``, ``abcd-efgh``)."""
    return "".join(token.split()).replace("-", "").lower()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def seconds_until(moment: datetime) -> int:
    return max(1, int((moment - timezone.now()).total_seconds()) + 1)
