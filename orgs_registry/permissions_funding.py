"""Who may import and read the registries of public funding (staffing roster, subsidies).

Auditors (the staffing office and finance bureau) import them and read them in full;
officials read them with ID numbers masked (they review the integrity flags built on
them); nobody else sees them (DESIGN.md 1 and 4.1).
"""

from __future__ import annotations

from typing import Any

from marketplace.models import Role
from marketplace.permissions import has_role


def can_import_funding_registry(user: Any) -> bool:
    return has_role(user, Role.AUDITOR)


def can_view_funding_registry(user: Any) -> bool:
    return has_role(user, Role.AUDITOR, Role.OFFICIAL)


def can_view_funding_id_numbers(user: Any) -> bool:
    """Full ID numbers of the staffing roster: auditors only."""
    return has_role(user, Role.AUDITOR)


def can_view_funding_import(user: Any, funding_import: Any = None) -> bool:
    return can_view_funding_registry(user)
