# The seller and buyer as issued, frozen with the rest of the document (empty on older ones).

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0003_vat_categories_service_periods_references'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='invoice',
            name='issued_frozen',
        ),
        migrations.AddField(
            model_name='invoice',
            name='buyer',
            field=models.JSONField(blank=True, default=dict, verbose_name='buyer, as issued'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='seller',
            field=models.JSONField(blank=True, default=dict, verbose_name='seller, as issued'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='issued_frozen', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (NOT (OLD."state" = \'draft\') AND (OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."order_reference" IS DISTINCT FROM (NEW."order_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency") OR OLD."seller" IS DISTINCT FROM (NEW."seller") OR OLD."buyer" IS DISTINCT FROM (NEW."buyer")))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='dbf05df920b88d49d035ce13bca306b667930db4', operation='UPDATE', pgid='pgtrigger_issued_frozen_dbf30', table='invoicing_invoice', when='BEFORE')),
        ),
    ]
