# VAT per document, rounded once per rate (documents issued before are marked "line" and
# keep their stored amounts), and unit prices stored with four decimals.

import coworking.triggers
import djmoney.models.fields
import pgtrigger.compiler
import pgtrigger.migrations
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
            name='vat_rounding',
            field=models.CharField(choices=[('line', 'per line, then summed'), ('document', 'per rate, rounded once')], default='line', max_length=10, verbose_name='VAT rounding'),
        ),
        # Documents issued before keep their per-line VAT; new ones are per rate.
        migrations.AlterField(
            model_name='invoice',
            name='vat_rounding',
            field=models.CharField(choices=[('line', 'per line, then summed'), ('document', 'per rate, rounded once')], default='document', max_length=10, verbose_name='VAT rounding'),
        ),
        migrations.AlterField(
            model_name='invoiceline',
            name='unit_price',
            field=djmoney.models.fields.MoneyField(currency_choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], decimal_places=4, max_digits=16, verbose_name='unit price'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='issued_frozen', sql=coworking.triggers.GuardSql(condition='WHEN (NOT (OLD."state" = \'draft\') AND (OLD."vat_rounding" IS DISTINCT FROM (NEW."vat_rounding") OR OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."order_reference" IS DISTINCT FROM (NEW."order_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency") OR OLD."seller" IS DISTINCT FROM (NEW."seller") OR OLD."buyer" IS DISTINCT FROM (NEW."buyer") OR OLD."issued_at" IS DISTINCT FROM (NEW."issued_at")))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='fd0bb8c53943d100c08eb3847dc8e2b76d1676e7', operation='UPDATE', pgid='pgtrigger_issued_frozen_dbf30', table='invoicing_invoice', when='BEFORE')),
        ),
    ]
