"""manage.py import_staffing FILE: import the staffing roster (编制) as the current version."""

from __future__ import annotations

from orgs_registry.funding_command import FundingImportCommand
from orgs_registry.models import FundingImportKind


class Command(FundingImportCommand):
    help = (
        "Import the staffing roster from CSV or XLSX, all or nothing; bad rows are listed as "
        "'row N: column: problem'. A newer roster becomes current; older ones stay as history."
    )
    kind = FundingImportKind.STAFFING
    noun = "staffing record(s)"
