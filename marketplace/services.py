"""Every write to accounts; each runs in one transaction and writes one audit event."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from marketplace.audit import audit_record
from marketplace.models import ORG_ROLES, AuditAction, Role, User
from orgs_registry.models import Organization


def _language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def user_create(
    *,
    username: str,
    role: str,
    password: str,
    actor: User | None,
    organization: Organization | None = None,
    email: str = "",
    full_name: str = "",
    language: str = "",
) -> User:
    """Create a user holding one role.

    Raises ``ValidationError`` naming the field for a taken username, an unknown role,
    an organization role without an organization (or another role with one), a bad
    e-mail address or a password the validators refuse. Nothing is saved on error.
    """
    if role not in Role.values:
        raise ValidationError(
            {
                "role": _("Unknown role “%(role)s”; choose one of: %(roles)s.")
                % {"role": role, "roles": ", ".join(Role.values)}
            },
            code="invalid_role",
        )
    if role in ORG_ROLES and organization is None:
        raise ValidationError(
            {"organization": _("The role %(role)s needs an organization.") % {"role": role}},
            code="organization_required",
        )
    if role not in ORG_ROLES and organization is not None:
        raise ValidationError(
            {
                "organization": _("The role %(role)s does not belong to an organization.")
                % {"role": role}
            },
            code="organization_not_allowed",
        )
    with transaction.atomic():
        user = User(
            username=username,
            role=role,
            organization=organization,
            email=email.strip(),
            full_name=full_name.strip(),
            language=language if language in _language_codes() else settings.LANGUAGE_CODE,
        )
        user.full_clean(exclude=["password"])
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
        try:
            # A concurrent call for the same name passes full_clean() too; the unique
            # constraint decides, and the loser gets the same error as a plain duplicate.
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"username": _("A user with that username already exists.")}, code="unique"
            ) from exc
        audit_record(
            action=AuditAction.USER_CREATED,
            actor=actor,
            obj=user,
            details={
                "username": user.username,
                "role": user.role,
                "organization": organization.uscc if organization else None,
            },
        )
    return user


def user_role_assign(
    *, user: User, role: str, actor: User | None, organization: Organization | None = None
) -> User:
    """Give a user without a role their role (self-registration makes one an org admin)."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")}, code="invalid_role")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.role:
            raise ValidationError({"role": _("This account already has a role.")}, code="has_role")
        locked.role = role
        locked.organization = organization
        locked.full_clean(exclude=["password"])
        locked.save(update_fields=["role", "organization"])
        audit_record(
            action=AuditAction.USER_ROLE_ASSIGNED,
            actor=actor,
            obj=locked,
            details={
                "role": role,
                "organization": organization.uscc if organization else None,
            },
        )
    user.role, user.organization = locked.role, locked.organization
    return user


def user_password_set(*, user: User, password: str, actor: User | None, reset: bool) -> User:
    """Set a new (already validated) password: a change by the user or a reset by e-mail."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        audit_record(
            action=AuditAction.USER_PASSWORD_RESET if reset else AuditAction.USER_PASSWORD_CHANGED,
            actor=actor,
            obj=locked,
        )
    user.password = locked.password
    return user


def user_set_active(*, user: User, active: bool, actor: User | None) -> User:
    """Deactivate an account (it can no longer sign in or use its token) or reactivate it.

    Accounts are never deleted: the audit log and the records they signed refer to them.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit_record(
            action=AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
            actor=actor,
            obj=locked,
            state_before="active" if not active else "inactive",
            state_after="active" if active else "inactive",
        )
    user.is_active = active
    return user


def user_language_set(*, user: User, language: str) -> User:
    """Remember the user's interface language (also used for their e-mail)."""
    if language not in _language_codes():
        raise ValidationError({"language": _("Unknown language.")}, code="invalid_language")
    if user.language == language:
        return user
    with transaction.atomic():
        before = user.language
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        audit_record(
            action=AuditAction.USER_PREFERENCES_CHANGED,
            actor=user,
            obj=user,
            details={"language": {"before": before, "after": language}},
        )
    return user


def session_event_record(
    *,
    action: AuditAction,
    user: User | None,
    subject: User | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a sign-in, sign-out, lock-out or token issue in the audit log.

    ``user`` acted (nobody, for a lock-out); ``subject`` is the account concerned.
    """
    with transaction.atomic():
        audit_record(action=action, actor=user, obj=subject or user, details=details)
