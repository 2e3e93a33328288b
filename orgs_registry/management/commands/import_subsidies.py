"""manage.py import_subsidies FILE: import the subsidy ledger as the current version."""

from __future__ import annotations

from orgs_registry.funding_command import FundingImportCommand
from orgs_registry.models import FundingImportKind


class Command(FundingImportCommand):
    help = (
        "Import the subsidy ledger from CSV or XLSX, all or nothing; bad rows are listed as "
        "'row N: column: problem'. A newer ledger becomes current; older ones stay as history."
    )
    kind = FundingImportKind.SUBSIDY
    noun = "subsidy record(s)"
