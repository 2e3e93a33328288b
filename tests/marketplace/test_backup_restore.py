"""Backup and restore (docs/operations.md): a pg_dump of a live database restored into a fresh
one keeps the audit chain intact (``verify_audit`` passes there) and every bid receipt still
matches its audit event and its bid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from marketplace.models import AuditEvent, Role
from orgs_registry.models import ServiceCategory
from tenders.models import BidReceipt
from tests.conftest import persona
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Run in the restored database: every receipt against its audit event and its bid.
CHECK_RECEIPTS = """
from marketplace.models import AuditEvent
from tenders.models import BidReceipt
bad = 0
for receipt in BidReceipt.objects.select_related("bid"):
    event = AuditEvent.objects.get(sequence=receipt.sequence)
    logged = event.details.get("sha256")
    if logged != receipt.sha256 or receipt.bid.content_sha256 != receipt.sha256:
        bad += 1
print("receipts", BidReceipt.objects.count(), "bad", bad)
"""


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed (Debian's postgresql-client)"
    return path


def database_url(name: str) -> str:
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{name}"


def manage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "true"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_restored_dump_passes_verify_audit_and_its_receipts_still_verify(tmp_path):
    official = persona("official", Role.OFFICIAL)
    tender = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code="elderly_care"),
    )
    for index in range(2):
        submit_bid(tender, make_bidder(f"备份测试{index}号"), f"{400000 + index * 1000}")
    events = AuditEvent.objects.count()
    assert BidReceipt.objects.count() == 2

    db = connection.settings_dict
    source, restored = db["NAME"], f"{db['NAME']}_restored"
    host = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    user = ["-U", db["USER"] or "postgres"]
    dump = tmp_path / "marketplace.dump"
    run = {"check": True, "capture_output": True, "timeout": 300}
    subprocess.run([tool("pg_dump"), *host, *user, "-Fc", "-f", str(dump), source], **run)
    subprocess.run([tool("dropdb"), *host, *user, "--if-exists", restored], **run)
    subprocess.run([tool("createdb"), *host, *user, restored], **run)
    try:
        subprocess.run(
            [tool("pg_restore"), *host, *user, "--no-owner", "-d", restored, str(dump)], **run
        )
        verified = manage(database_url(restored), "verify_audit")
        assert verified.returncode == 0, verified.stderr
        assert str(events) in verified.stdout
        receipts = manage(database_url(restored), "shell", "-c", CHECK_RECEIPTS)
        assert receipts.returncode == 0, receipts.stderr
        assert "receipts 2 bad 0" in receipts.stdout

        # A superuser's edit of the restored copy is caught by the same check.
        tampered = manage(
            database_url(restored),
            "shell",
            "-c",
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('ALTER TABLE marketplace_auditevent DISABLE TRIGGER USER')\n"
            "    c.execute(\"UPDATE marketplace_auditevent SET details = '{}'::jsonb "
            'WHERE sequence = (SELECT max(sequence) FROM marketplace_auditevent)")\n',
        )
        assert tampered.returncode == 0, tampered.stderr
        assert manage(database_url(restored), "verify_audit").returncode == 1
    finally:
        subprocess.run([tool("dropdb"), *host, *user, "--if-exists", restored], **run)
