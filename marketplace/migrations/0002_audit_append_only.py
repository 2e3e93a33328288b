"""On PostgreSQL, refuse UPDATE and DELETE on the audit log below the ORM.

Even a connection that bypasses Django (psql, a compromised app role) cannot rewrite
history; a superuser who disables the trigger is still caught by verify_audit.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION marketplace_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on marketplace_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER marketplace_auditevent_append_only
    BEFORE UPDATE OR DELETE ON marketplace_auditevent
    FOR EACH ROW EXECUTE FUNCTION marketplace_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS marketplace_auditevent_append_only ON marketplace_auditevent;
DROP FUNCTION IF EXISTS marketplace_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
