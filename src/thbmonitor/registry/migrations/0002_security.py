"""Row-level security, the audit chain and its guards (see thbmonitor.registry.security)."""

from django.db import migrations

from thbmonitor.registry.security import SCHEMA_SQL


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunSQL(SCHEMA_SQL)]
