"""Each invoice and payment points at the ledger entry posted for it (the entry used to
point up at them, from the lowest app); existing entries are linked and stamped with their
invoice's number and their document's date. At commit, a document's entry must be its own
(kind, customer, amount, number, date), and an entry of an invoicing kind must have its
document."""

import coworking.triggers
from coworking.triggers import postgres_sql
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


# Databases made before this migration: the entries' own foreign keys (dropped by the
# credits app's migration that follows) say which document each was posted for. The
# statements run on PostgreSQL and on the embedded SQLite default alike.
def link_existing_entries(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "coworking_ledgerentry")
    if "invoice_id" not in {column.name for column in columns}:
        return
    postgres = connection.vendor == "postgresql"
    tables = ("coworking_ledgerentry", "invoicing_invoice", "invoicing_payment")
    if postgres:
        for table in tables:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    schema_editor.execute(
        "UPDATE invoicing_invoice SET ledger_entry_id = (SELECT entry.id "
        "FROM coworking_ledgerentry entry "
        "WHERE entry.invoice_id = invoicing_invoice.id AND entry.kind = 'invoice')"
    )
    schema_editor.execute(
        "UPDATE invoicing_payment SET ledger_entry_id = (SELECT entry.id "
        "FROM coworking_ledgerentry entry WHERE entry.payment_id = invoicing_payment.id)"
    )
    schema_editor.execute(
        "UPDATE coworking_ledgerentry SET "
        "document_number = (SELECT number FROM invoicing_invoice invoice "
        "WHERE invoice.id = coworking_ledgerentry.invoice_id), "
        "document_date = (SELECT issue_date FROM invoicing_invoice invoice "
        "WHERE invoice.id = coworking_ledgerentry.invoice_id) "
        "WHERE invoice_id IS NOT NULL"
    )
    schema_editor.execute(
        "UPDATE coworking_ledgerentry SET document_date = (SELECT received_on "
        "FROM invoicing_payment payment WHERE payment.id = coworking_ledgerentry.payment_id) "
        "WHERE payment_id IS NOT NULL"
    )
    if postgres:
        # The foreign keys are checked now, so that the tables can be altered.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


HAS_ITS_DOCUMENT = """
CREATE FUNCTION invoicing_ledger_entry_has_its_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.kind = 'invoice' AND NOT EXISTS (
            SELECT 1 FROM invoicing_invoice WHERE ledger_entry_id = NEW.id
        )) OR (NEW.kind = 'payment' AND NOT EXISTS (
            SELECT 1 FROM invoicing_payment WHERE ledger_entry_id = NEW.id
        )) THEN
        RAISE EXCEPTION 'Ledger entry % (%) has no document pointing at it', NEW.id, NEW.kind
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER invoicing_ledger_entry_has_its_document
    AFTER INSERT ON coworking_ledgerentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind IN ('invoice', 'payment'))
    EXECUTE FUNCTION invoicing_ledger_entry_has_its_document();
"""
DROP_HAS_ITS_DOCUMENT = """
DROP TRIGGER invoicing_ledger_entry_has_its_document ON coworking_ledgerentry;
DROP FUNCTION invoicing_ledger_entry_has_its_document();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0014_ledger_document_number_and_date'),
        ('invoicing', '0015_merge_single_line_texts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='invoice',
            name='issued_frozen',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='payment',
            name='payment_paid_and_posted',
        ),
        migrations.AddField(
            model_name='invoice',
            name='ledger_entry',
            field=models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invoice', to='coworking.ledgerentry', verbose_name='ledger entry'),
        ),
        migrations.AddField(
            model_name='payment',
            name='ledger_entry',
            field=models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payment', to='coworking.ledgerentry', verbose_name='ledger entry'),
        ),
        migrations.RunPython(link_existing_entries, migrations.RunPython.noop),
        postgres_sql(HAS_ITS_DOCUMENT, DROP_HAS_ITS_DOCUMENT),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='issued_frozen', sql=coworking.triggers.GuardSql(condition='WHEN (NOT (OLD."state" = \'draft\') AND (OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."order_reference" IS DISTINCT FROM (NEW."order_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency") OR OLD."seller" IS DISTINCT FROM (NEW."seller") OR OLD."buyer" IS DISTINCT FROM (NEW."buyer") OR OLD."issued_at" IS DISTINCT FROM (NEW."issued_at") OR OLD."ledger_entry_id" IS DISTINCT FROM (NEW."ledger_entry_id")))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='743ef60511c330c53d95ed5f8ee08a59dfeb31bc', operation='UPDATE', pgid='pgtrigger_issued_frozen_dbf30', table='invoicing_invoice', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='invoice_posted_as_issued', sql=coworking.triggers.GuardSql(condition='WHEN (NEW.ledger_entry_id IS NOT NULL)', constraint='CONSTRAINT', func="\n    IF NOT EXISTS (\n        SELECT 1 FROM coworking_ledgerentry entry\n        WHERE entry.id = NEW.ledger_entry_id AND entry.kind IN ('invoice')\n            AND entry.customer_id = NEW.customer_id AND entry.amount = NEW.total\n            AND entry.amount_currency = NEW.currency\n            AND entry.document_number = NEW.number AND entry.document_date = NEW.issue_date\n    ) THEN\n        RAISE EXCEPTION '% % is not posted as it is on ledger entry %',\n            TG_TABLE_NAME, NEW.id, NEW.ledger_entry_id USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\nRETURN NULL;", hash='c4d27d7eb923aff8da4d0e343e307070dd9dcf73', operation='INSERT OR UPDATE OF "ledger_entry_id"', pgid='pgtrigger_invoice_posted_as_issued_ce7da', table='invoicing_invoice', timing='DEFERRABLE INITIALLY DEFERRED', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='payment',
            trigger=pgtrigger.compiler.Trigger(name='payment_paid_and_posted', sql=coworking.triggers.GuardSql(constraint='CONSTRAINT', func="\n    IF EXISTS (\n        SELECT 1 FROM invoicing_invoice invoice\n        WHERE invoice.id = NEW.invoice_id AND invoice.amount_paid <> (\n            SELECT COALESCE(SUM(payment.amount), 0) FROM invoicing_payment payment\n            WHERE payment.invoice_id = invoice.id\n        )\n    ) THEN\n        RAISE EXCEPTION 'The paid amount of invoice % is not the sum of its payments',\n            NEW.invoice_id USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\nIF NEW.ledger_entry_id IS NOT NULL THEN\n    IF NOT EXISTS (\n        SELECT 1 FROM coworking_ledgerentry entry\n        WHERE entry.id = NEW.ledger_entry_id AND entry.kind IN ('payment')\n            AND entry.customer_id = (SELECT customer_id FROM invoicing_invoice WHERE id = NEW.invoice_id) AND entry.amount = -NEW.amount\n            AND entry.amount_currency = NEW.amount_currency\n            AND entry.document_number = (SELECT number FROM invoicing_invoice WHERE id = NEW.invoice_id) AND entry.document_date = NEW.received_on\n    ) THEN\n        RAISE EXCEPTION '% % is not posted as it is on ledger entry %',\n            TG_TABLE_NAME, NEW.id, NEW.ledger_entry_id USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\nEND IF; RETURN NULL;", hash='ce1eb184afa558706608d9cb57c304e07a6b4590', operation='INSERT', pgid='pgtrigger_payment_paid_and_posted_70fbd', table='invoicing_payment', timing='DEFERRABLE INITIALLY DEFERRED', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'draft'), _negated=True), ('ledger_entry__isnull', True), _connector='OR'), name='invoice_draft_not_on_ledger'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('ledger_entry__isnull', True), ('method', 'account_credit')), models.Q(models.Q(('method', 'account_credit'), _negated=True), ('ledger_entry__isnull', False)), _connector='OR'), name='payment_on_ledger_unless_credit'),
        ),
    ]
