"""Role predicates: the one permission mechanism (STYLE.md).

Each predicate is a small pure function of the user (and, in the apps, an object):
``can_<verb>_<noun>(user, obj)``. Views, the API and templates all ask these; nothing
else decides who may do what. A superuser is not special here: administering the
site does not grant the right to read sealed bids or act for an organization.
"""

from __future__ import annotations

from typing import Any

from marketplace.models import OFFICIAL_ROLES, ORG_ROLES, Role


def _role(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ""
    return str(getattr(user, "role", "") or "")


def has_role(user: Any, *roles: Role) -> bool:
    """Whether the user is signed in, active and holds one of ``roles``."""
    return _role(user) in {r.value for r in roles}


def is_org_user(user: Any) -> bool:
    return _role(user) in ORG_ROLES and getattr(user, "organization_id", None) is not None


def is_official(user: Any) -> bool:
    """Street-office staff; approvers are officials who may also approve."""
    return _role(user) in OFFICIAL_ROLES


def can_view_dashboard(user: Any) -> bool:
    """Every signed-in, active account; one without a role is invited to register."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_view_audit_log(user: Any) -> bool:
    """Auditors read everything (DESIGN.md section 1)."""
    return has_role(user, Role.AUDITOR)


def can_use_admin_site(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))
