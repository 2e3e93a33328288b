"""Background task of the funding registries: one import (a roster of a million rows takes
about a minute, longer than a request may)."""

from __future__ import annotations

from django_tasks import task

from orgs_registry.services_funding import funding_import_run, funding_imports_fail_stale


@task()
def run_funding_import(*, funding_import_id: int, path: str, fmt: str) -> str:
    """Check and write an import queued by ``funding_import_start``; returns its status."""
    return str(funding_import_run(funding_import_id=funding_import_id, path=path, fmt=fmt).status)


@task()
def fail_stale_funding_imports() -> int:
    """Hourly: fail the imports whose worker died; returns how many."""
    return len(funding_imports_fail_stale())
