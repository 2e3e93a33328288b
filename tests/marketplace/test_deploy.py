"""Production settings pass Django's deployment checklist with no warnings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "services.jiefangbei.example.cn",
    "DATABASE_URL": "postgres://marketplace@db.invalid:5432/marketplace",
    "EMAIL_URL": "smtp+tls://mailer:secret@mail.invalid:587",
    "STATIC_MANIFEST": "true",
    "BID_ENCRYPTION_KEYS": "q0X6s1g2u9cY5W3x8m4L7b2N0v6H1j5K9p3R7t2Z4cE=",
    "CACHE_URL": "redis://cache.invalid:6379/1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "SECRET_KEY"}
    clean.pop("SECURE_SSL_REDIRECT", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_deploy_check_warns_about_sqlite_and_console_email():
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)}
    del env["DATABASE_URL"], env["EMAIL_URL"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "marketplace.W001" in result.stderr
    assert "marketplace.W002" in result.stderr


def test_the_deploy_check_warns_about_a_per_process_cache():
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)}
    del env["CACHE_URL"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "marketplace.W005" in result.stderr
    assert "marketplace.W001" not in result.stderr


def test_ssl_redirect_can_be_handed_to_a_tls_terminating_proxy():
    env = {
        **PRODUCTION,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_PROXY_SSL_HEADER": "true",
    }
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_SSL_REDIRECT)",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert "('HTTP_X_FORWARDED_PROTO', 'https') True" in result.stdout
