# The payment reference and the bank account an invoice is issued with, frozen with the rest.

import coworking.triggers
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0015_merge_single_line_texts'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='invoice',
            name='issued_frozen',
        ),
        migrations.AddField(
            model_name='invoice',
            name='payee_account',
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name='bank account, as issued'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='payment_reference',
            field=models.CharField(blank=True, default='', editable=False, max_length=35, verbose_name='payment reference'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='issued_frozen', sql=coworking.triggers.GuardSql(condition='WHEN (NOT (OLD."state" = \'draft\') AND (OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."order_reference" IS DISTINCT FROM (NEW."order_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency") OR OLD."seller" IS DISTINCT FROM (NEW."seller") OR OLD."buyer" IS DISTINCT FROM (NEW."buyer") OR OLD."issued_at" IS DISTINCT FROM (NEW."issued_at") OR OLD."payment_reference" IS DISTINCT FROM (NEW."payment_reference") OR OLD."payee_account" IS DISTINCT FROM (NEW."payee_account")))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='8e1731d3b56783f99d06c48b6102bd1a7b9b0aba', operation='UPDATE', pgid='pgtrigger_issued_frozen_dbf30', table='invoicing_invoice', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.UniqueConstraint(condition=models.Q(('payment_reference', ''), _negated=True), fields=('payment_reference',), name='invoice_payment_reference_unique'),
        ),
    ]
