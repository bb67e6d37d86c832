"""The guards' ignore test without a subtransaction per guarded row
(``coworking.triggers.GUARD_IGNORED_SQL`` says why), over the one the first migrations'
``GuardSql`` installed. Each app's later migration reinstalls its guards with ``GuardSqlV2``,
which installs this test itself, so it no longer matters that this one runs after the other
apps' triggers; it stays for the databases that applied it. Reversing keeps it: both answer
the same."""

from django.db import migrations

from coworking.triggers import GUARD_IGNORED_SQL, postgres_sql


class Migration(migrations.Migration):
    dependencies = [
        ("coworking", "0002_ledger_document_order"),
        ("invoicing", "0003_dates_follow_numbers_by_unique_index"),
        ("credits", "0002_dates_follow_numbers_by_unique_index"),
        ("books", "0001_initial"),
        ("webhooks", "0001_initial"),
    ]

    operations = [postgres_sql(GUARD_IGNORED_SQL, GUARD_IGNORED_SQL)]
