"""The birth year-and-month token goes, as in the monitoring store (format 4): everyone born in
one month shared it, and with the ages and dates of the group it gave away the birth month."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_victim_scheme")]

    operations = [migrations.RemoveField("registration", "tok_birth_ym")]
