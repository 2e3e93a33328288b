"""Who may do what with the integrity screens and their flags (DESIGN 5): pure predicates.

The street office (officials and approvers) and auditors run the screens and review the
flags; auditors read everything and change nothing else (DESIGN 1), so reviewing flags is
the one write they share with the office here. Organizations, assessors and the public see
no flag: a flag is an allegation until a reviewer confirms it.
"""

from __future__ import annotations

from typing import Any

from evaluation.models import FlagStatus, IntegrityFlag
from marketplace.models import Role
from marketplace.permissions import has_role, is_official


def is_integrity_reviewer(user: Any) -> bool:
    """Officials (approvers included) and auditors."""
    return is_official(user) or has_role(user, Role.AUDITOR)


def can_view_integrity_flags(user: Any) -> bool:
    return is_integrity_reviewer(user)


def can_view_flag(user: Any, flag: IntegrityFlag) -> bool:
    return is_integrity_reviewer(user)


def can_run_integrity_screens(user: Any) -> bool:
    return is_integrity_reviewer(user)


def can_confirm_flag(user: Any, flag: IntegrityFlag) -> bool:
    return is_integrity_reviewer(user) and flag.status == FlagStatus.OPEN


def can_dismiss_flag(user: Any, flag: IntegrityFlag) -> bool:
    return is_integrity_reviewer(user) and flag.status == FlagStatus.OPEN


def can_resolve_flag(user: Any, flag: IntegrityFlag) -> bool:
    return is_integrity_reviewer(user) and flag.status == FlagStatus.CONFIRMED


def can_see_id_numbers(user: Any) -> bool:
    """Whole ID numbers in the evidence are for auditors only (DESIGN 4.1); officials see
    them masked, which is enough to compare the two records side by side."""
    return has_role(user, Role.AUDITOR)
