# VAT per document, rounded once per rate (documents issued before are marked "line" and
# keep their stored amounts), and unit prices stored with four decimals.

import coworking.triggers
import djmoney.models.fields
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0015_merge_single_line_texts'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='creditnote',
            name='frozen',
        ),
        migrations.AddField(
            model_name='creditnote',
            name='vat_rounding',
            field=models.CharField(choices=[('line', 'per line, then summed'), ('document', 'per rate, rounded once')], default='line', max_length=10, verbose_name='VAT rounding'),
        ),
        # Documents issued before keep their per-line VAT; new ones are per rate.
        migrations.AlterField(
            model_name='creditnote',
            name='vat_rounding',
            field=models.CharField(choices=[('line', 'per line, then summed'), ('document', 'per rate, rounded once')], default='document', max_length=10, verbose_name='VAT rounding'),
        ),
        migrations.AlterField(
            model_name='creditnoteline',
            name='unit_price',
            field=djmoney.models.fields.MoneyField(currency_choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], decimal_places=4, max_digits=16, verbose_name='unit price'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='creditnote',
            trigger=pgtrigger.compiler.Trigger(name='frozen', sql=coworking.triggers.GuardSql(condition='WHEN (OLD."vat_rounding" IS DISTINCT FROM (NEW."vat_rounding") OR OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."invoice_id" IS DISTINCT FROM (NEW."invoice_id") OR OLD."invoice_number" IS DISTINCT FROM (NEW."invoice_number") OR OLD."invoice_issue_date" IS DISTINCT FROM (NEW."invoice_issue_date") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."reason" IS DISTINCT FROM (NEW."reason") OR OLD."reason_code" IS DISTINCT FROM (NEW."reason_code") OR OLD."cancels_invoice" IS DISTINCT FROM (NEW."cancels_invoice") OR OLD."created_by_id" IS DISTINCT FROM (NEW."created_by_id") OR OLD."channel" IS DISTINCT FROM (NEW."channel") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."amount_off_due" IS DISTINCT FROM (NEW."amount_off_due") OR OLD."amount_off_due_currency" IS DISTINCT FROM (NEW."amount_off_due_currency") OR OLD."account_credit_amount" IS DISTINCT FROM (NEW."account_credit_amount") OR OLD."account_credit_amount_currency" IS DISTINCT FROM (NEW."account_credit_amount_currency") OR OLD."refund_amount" IS DISTINCT FROM (NEW."refund_amount") OR OLD."refund_amount_currency" IS DISTINCT FROM (NEW."refund_amount_currency") OR OLD."settled_outside_amount" IS DISTINCT FROM (NEW."settled_outside_amount") OR OLD."settled_outside_amount_currency" IS DISTINCT FROM (NEW."settled_outside_amount_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency") OR OLD."seller" IS DISTINCT FROM (NEW."seller") OR OLD."buyer" IS DISTINCT FROM (NEW."buyer") OR (OLD."sequence_number" IS NOT NULL AND (OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number"))))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='08df1eeb5cc7b91d236a878ce550fc1c658220dc', operation='UPDATE', pgid='pgtrigger_frozen_5bc4b', table='credits_creditnote', when='BEFORE')),
        ),
    ]
