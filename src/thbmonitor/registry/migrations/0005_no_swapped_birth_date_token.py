"""The token of the birth date with day and month swapped goes, as in the monitoring store
(format 5): it equals the date token of whoever was born on the swapped date, and with the
ages and dates of both it gave the exact birth date of some."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_no_birth_month_token")]

    operations = [migrations.RemoveField("registration", "tok_dob_swap")]
