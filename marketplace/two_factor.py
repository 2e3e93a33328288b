"""Two-factor sign-in for the street office's staff (django-otp).

Officials, approvers, assessors, registry administrators and auditors decide on public
money and read sealed or personal data, so a password alone does not sign them in: after
it they enter a code from an authenticator app (a TOTP device) or one of ten one-time
backup codes (a static device). Organization accounts and the public are not asked.

This module holds the rules (who, and whether this session did); the writes are in
``marketplace.two_factor_services``. Who must use it is ``needs_two_factor``; the
enforcement is
``marketplace.middleware.TwoFactorMiddleware`` (pages) and
``marketplace.api_auth.VerifiedSessionAuthentication`` (the API); the pages are
``marketplace.views.two_factor``. Codes are checked by django-otp only (``match_token``,
``TOTPDevice.verify_token``), whose throttling makes each wrong code double the wait
before the next try.
"""

from __future__ import annotations

from typing import Any

from django_otp import user_has_device

from marketplace.models import Role, User

TWO_FACTOR_ROLES = frozenset(
    {Role.OFFICIAL, Role.APPROVER, Role.ASSESSOR, Role.REGISTRY_ADMIN, Role.AUDITOR}
)


def needs_two_factor(user: Any) -> bool:
    """Whether signing in as ``user`` takes a second factor: staff roles, and anyone who
    may use the admin site."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(
        getattr(user, "role", "") in TWO_FACTOR_ROLES
        or getattr(user, "is_superuser", False)
        or getattr(user, "is_staff", False)
    )


def is_two_factor_verified(user: Any) -> bool:
    """Whether this session's user entered a code (``OTPMiddleware`` sets ``is_verified``)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def lacks_second_factor(user: Any) -> bool:
    """A signed-in staff session that has not entered its code yet."""
    return needs_two_factor(user) and not is_two_factor_verified(user)


def has_confirmed_device(user: User) -> bool:
    """Whether the user finished enrolment (else the two-factor page enrols)."""
    return bool(user_has_device(user, confirmed=True))


def can_manage_two_factor(actor: Any) -> bool:
    """Registry administrators and superusers see the staff accounts' two-factor status
    and reset devices (a lost phone)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return bool(actor.is_superuser or getattr(actor, "role", "") == Role.REGISTRY_ADMIN)


def can_reset_two_factor(actor: Any, user: User) -> bool:
    """Registry administrators and superusers may reset someone else's devices (a lost
    phone); nobody resets their own, which would skip the second factor."""
    return can_manage_two_factor(actor) and actor.pk != user.pk
