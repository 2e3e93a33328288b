"""System checks for a production deployment (run by ``check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_services(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Warn when production would run on the embedded defaults meant for a first run."""
    warnings = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        warnings.append(
            Warning(
                "The database is SQLite.",
                hint="Set DATABASE_URL=postgres://... : production runs on PostgreSQL "
                "(row locks, the audit-log trigger, several app servers).",
                id="marketplace.W001",
            )
        )
    if not settings.EMAIL_URL_IS_SET:
        warnings.append(
            Warning(
                "EMAIL_URL is not set, so e-mail (password resets, notices) goes to the console.",
                hint="Set EMAIL_URL=smtp+tls://user:password@host:587.",
                id="marketplace.W002",
            )
        )
    if not settings.BID_ENCRYPTION_KEYS:
        warnings.append(
            Warning(
                "BID_ENCRYPTION_KEYS is not set, so sealed bids are encrypted with a key "
                "derived from SECRET_KEY.",
                hint="Generate a key with Fernet.generate_key() and set BID_ENCRYPTION_KEYS; "
                "see tenders/sealing.py for rotation.",
                id="marketplace.W004",
            )
        )
    if settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
        warnings.append(
            Warning(
                "The cache is each process's own memory (CACHE_URL is not set).",
                hint="Set CACHE_URL=redis://host:6379/1 (or dbcache://cache_table after "
                "createcachetable): with several app processes, rate limits, API throttles "
                "and the public pages' cache version must be shared, or a change shows late "
                "and limits multiply by the number of processes.",
                id="marketplace.W005",
            )
        )
    script_sources = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].get("script-src", [])
    if "'unsafe-inline'" in script_sources or "'unsafe-eval'" in script_sources:
        warnings.append(
            Warning(
                "The Content-Security-Policy allows inline or evaluated scripts.",
                id="marketplace.W003",
            )
        )
    return warnings
