"""Each credit note and refund points at the ledger entry posted for it (the entry used to
point up at them, from the lowest app); existing entries are linked and dated, then the
entries' old foreign keys are dropped. At commit, a document's entry must be its own, and an
entry of a credits kind must have its document; a cancelled invoice's credit entries are
found through its notes."""

import coworking.triggers
from coworking.triggers import postgres_sql
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


# Databases made before this migration: the entries' own foreign keys say which document
# each was posted for (invoicing's migration before this one linked its documents); then
# they are dropped, with their constraints. PostgreSQL and the embedded SQLite default.
def link_existing_entries(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "coworking_ledgerentry")
    if "credit_note_id" not in {column.name for column in columns}:
        return
    postgres = connection.vendor == "postgresql"
    tables = ("coworking_ledgerentry", "credits_creditnote", "credits_refund")
    if postgres:
        for table in tables:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    schema_editor.execute(
        "UPDATE credits_creditnote SET ledger_entry_id = (SELECT entry.id "
        "FROM coworking_ledgerentry entry WHERE entry.credit_note_id = credits_creditnote.id)"
    )
    schema_editor.execute(
        "UPDATE credits_refund SET ledger_entry_id = (SELECT entry.id "
        "FROM coworking_ledgerentry entry WHERE entry.refund_id = credits_refund.id)"
    )
    schema_editor.execute(
        "UPDATE coworking_ledgerentry SET document_date = (SELECT issue_date "
        "FROM credits_creditnote note WHERE note.id = coworking_ledgerentry.credit_note_id) "
        "WHERE credit_note_id IS NOT NULL"
    )
    # A refund is dated by the day it was recorded, in the project's time zone.
    day = "(refund.created_at AT TIME ZONE %s)::date" if postgres else "date(refund.created_at)"
    schema_editor.execute(
        f"UPDATE coworking_ledgerentry SET document_date = (SELECT {day} "
        "FROM credits_refund refund WHERE refund.id = coworking_ledgerentry.refund_id) "
        "WHERE refund_id IS NOT NULL",
        [settings.TIME_ZONE] if postgres else None,
    )
    if not postgres:
        # SQLite rebuilds the table from the model as it is now, without the old columns.
        schema_editor._remake_table(apps.get_model("coworking", "LedgerEntry"))
        return
    # The foreign keys are checked now, so that the tables can be altered.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
    for table in tables:
        schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    schema_editor.execute(
        "ALTER TABLE coworking_ledgerentry DROP COLUMN invoice_id, DROP COLUMN payment_id, "
        "DROP COLUMN credit_note_id, DROP COLUMN refund_id"
    )


HAS_ITS_DOCUMENT = """
CREATE FUNCTION credits_ledger_entry_has_its_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.kind = 'credit_note' AND NOT EXISTS (
            SELECT 1 FROM credits_creditnote WHERE ledger_entry_id = NEW.id
        )) OR (NEW.kind IN ('refund', 'settled_outside') AND NOT EXISTS (
            SELECT 1 FROM credits_refund WHERE ledger_entry_id = NEW.id
        )) THEN
        RAISE EXCEPTION 'Ledger entry % (%) has no document pointing at it', NEW.id, NEW.kind
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER credits_ledger_entry_has_its_document
    AFTER INSERT ON coworking_ledgerentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind IN ('credit_note', 'refund', 'settled_outside'))
    EXECUTE FUNCTION credits_ledger_entry_has_its_document();
"""
DROP_HAS_ITS_DOCUMENT = """
DROP TRIGGER credits_ledger_entry_has_its_document ON coworking_ledgerentry;
DROP FUNCTION credits_ledger_entry_has_its_document();
"""

# At commit, an invoice that became cancelled is credited in full: its credit notes, and
# the credit entries they point at, add up to minus its total (migration 0006, read through
# the notes' entries).
CANCELLED_IS_CREDITED = """
CREATE OR REPLACE FUNCTION credits_cancelled_invoice_is_credited() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    invoice_total numeric;
BEGIN
    SELECT total INTO invoice_total FROM invoicing_invoice WHERE id = NEW.id;
    IF invoice_total IS DISTINCT FROM -(
        SELECT COALESCE(SUM(total), 0) FROM credits_creditnote WHERE invoice_id = NEW.id
    ) OR invoice_total IS DISTINCT FROM -(
        SELECT COALESCE(SUM(entry.amount), 0)
        FROM credits_creditnote note
        JOIN coworking_ledgerentry entry ON entry.id = note.ledger_entry_id
        WHERE note.invoice_id = NEW.id AND entry.kind = 'credit_note'
    ) THEN
        RAISE EXCEPTION 'Invoice % is cancelled but its credit notes do not credit its total',
            NEW.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0014_ledger_document_number_and_date'),
        ('credits', '0015_merge_single_line_texts'),
        ('invoicing', '0016_ledger_entries_of_documents'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='creditnote',
            name='frozen',
        ),
        migrations.AddField(
            model_name='creditnote',
            name='ledger_entry',
            field=models.OneToOneField(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='credit_note', to='coworking.ledgerentry', verbose_name='ledger entry'),
        ),
        migrations.AddField(
            model_name='refund',
            name='ledger_entry',
            field=models.OneToOneField(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='refund', to='coworking.ledgerentry', verbose_name='ledger entry'),
        ),
        migrations.RunPython(link_existing_entries, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='creditnote',
            name='ledger_entry',
            field=models.OneToOneField(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='credit_note', to='coworking.ledgerentry', verbose_name='ledger entry'),
        ),
        migrations.AlterField(
            model_name='refund',
            name='ledger_entry',
            field=models.OneToOneField(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='refund', to='coworking.ledgerentry', verbose_name='ledger entry'),
        ),
        postgres_sql(HAS_ITS_DOCUMENT, DROP_HAS_ITS_DOCUMENT),
        postgres_sql(CANCELLED_IS_CREDITED, "SELECT 1"),
        pgtrigger.migrations.AddTrigger(
            model_name='creditnote',
            trigger=pgtrigger.compiler.Trigger(name='frozen', sql=coworking.triggers.GuardSql(condition='WHEN (OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."invoice_id" IS DISTINCT FROM (NEW."invoice_id") OR OLD."invoice_number" IS DISTINCT FROM (NEW."invoice_number") OR OLD."invoice_issue_date" IS DISTINCT FROM (NEW."invoice_issue_date") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."reason" IS DISTINCT FROM (NEW."reason") OR OLD."reason_code" IS DISTINCT FROM (NEW."reason_code") OR OLD."cancels_invoice" IS DISTINCT FROM (NEW."cancels_invoice") OR OLD."created_by_id" IS DISTINCT FROM (NEW."created_by_id") OR OLD."channel" IS DISTINCT FROM (NEW."channel") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."amount_off_due" IS DISTINCT FROM (NEW."amount_off_due") OR OLD."amount_off_due_currency" IS DISTINCT FROM (NEW."amount_off_due_currency") OR OLD."account_credit_amount" IS DISTINCT FROM (NEW."account_credit_amount") OR OLD."account_credit_amount_currency" IS DISTINCT FROM (NEW."account_credit_amount_currency") OR OLD."refund_amount" IS DISTINCT FROM (NEW."refund_amount") OR OLD."refund_amount_currency" IS DISTINCT FROM (NEW."refund_amount_currency") OR OLD."settled_outside_amount" IS DISTINCT FROM (NEW."settled_outside_amount") OR OLD."settled_outside_amount_currency" IS DISTINCT FROM (NEW."settled_outside_amount_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency") OR OLD."seller" IS DISTINCT FROM (NEW."seller") OR OLD."buyer" IS DISTINCT FROM (NEW."buyer") OR OLD."ledger_entry_id" IS DISTINCT FROM (NEW."ledger_entry_id") OR (OLD."sequence_number" IS NOT NULL AND (OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number"))))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='e4a9ef6f0acc62e9ee54f1d023f81d3e0b8bda2a', operation='UPDATE', pgid='pgtrigger_frozen_5bc4b', table='credits_creditnote', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='creditnote',
            trigger=pgtrigger.compiler.Trigger(name='credit_note_posted_as_issued', sql=coworking.triggers.GuardSql(constraint='CONSTRAINT', func="\n    IF NOT EXISTS (\n        SELECT 1 FROM coworking_ledgerentry entry\n        WHERE entry.id = NEW.ledger_entry_id AND entry.kind IN ('credit_note')\n            AND entry.customer_id = NEW.customer_id AND entry.amount = NEW.total\n            AND entry.amount_currency = NEW.currency\n            AND entry.document_number = NEW.invoice_number AND entry.document_date = NEW.issue_date\n    ) THEN\n        RAISE EXCEPTION '% % is not posted as it is on ledger entry %',\n            TG_TABLE_NAME, NEW.id, NEW.ledger_entry_id USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\nRETURN NULL;", hash='2e67a301189edce0e46e5743a4b3ba60b7e12a15', operation='INSERT', pgid='pgtrigger_credit_note_posted_as_issued_c1aa1', table='credits_creditnote', timing='DEFERRABLE INITIALLY DEFERRED', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='refund',
            trigger=pgtrigger.compiler.Trigger(name='refund_posted_as_recorded', sql=coworking.triggers.GuardSql(constraint='CONSTRAINT', func="\n    IF NOT EXISTS (\n        SELECT 1 FROM coworking_ledgerentry entry\n        WHERE entry.id = NEW.ledger_entry_id AND entry.kind IN (NEW.kind)\n            AND entry.customer_id = NEW.customer_id AND entry.amount = NEW.amount\n            AND entry.amount_currency = NEW.amount_currency\n            AND entry.document_number = COALESCE((SELECT invoice_number FROM credits_creditnote WHERE id = NEW.credit_note_id), '') AND entry.document_date = entry.document_date\n    ) THEN\n        RAISE EXCEPTION '% % is not posted as it is on ledger entry %',\n            TG_TABLE_NAME, NEW.id, NEW.ledger_entry_id USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\nRETURN NULL;", hash='0a2e2f6128f1e50f4e4f8c7f385c713c83a69cf1', operation='INSERT', pgid='pgtrigger_refund_posted_as_recorded_19ee6', table='credits_refund', timing='DEFERRABLE INITIALLY DEFERRED', when='AFTER')),
        ),
    ]
