"""The residence scheme for victims gets a country-neutral name (it was named after the Dutch
B8 scheme): victim_scheme_applied and victim_scheme_granted, as in the monitoring store."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_security")]

    operations = [
        migrations.RenameField("registration", "b8_applied", "victim_scheme_applied"),
        migrations.RenameField("registration", "b8_granted", "victim_scheme_granted"),
    ]
