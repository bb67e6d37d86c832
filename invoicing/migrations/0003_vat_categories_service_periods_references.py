# VAT category, exemption reason and service period per line; the references, VAT currency
# and exchange rate of the document, frozen at issue; dates follow numbers in a series.

import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

from coworking.migration_ops import vat_categories_from_rates


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0006_drop_free_text_addresses'),
        ('invoicing', '0002_document_base'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='invoice',
            name='issued_frozen',
        ),
        migrations.AddField(
            model_name='invoice',
            name='buyer_reference',
            field=models.CharField(blank=True, help_text="The customer's reference for this invoice (EN 16931 BT-10); at issue, the customer's default, else the invoice number.", max_length=100, verbose_name='buyer reference'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='order_reference',
            field=models.CharField(blank=True, help_text='EN 16931 BT-13.', max_length=100, verbose_name='purchase order'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='tax_total_vat_currency',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='VAT in the VAT currency'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='vat_currency',
            field=models.CharField(blank=True, choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], help_text="The location's VAT currency at issue.", max_length=3, verbose_name='VAT currency'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='vat_exchange_rate',
            field=models.DecimalField(blank=True, decimal_places=8, help_text="Units of the VAT currency for one unit of the document's currency.", max_digits=18, null=True, verbose_name='exchange rate to the VAT currency'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='period_end',
            field=models.DateField(blank=True, null=True, verbose_name='service until'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='period_start',
            field=models.DateField(blank=True, null=True, verbose_name='service from'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='vat_category',
            field=models.CharField(choices=[('S', 'Standard rate'), ('Z', 'Zero rated'), ('E', 'Exempt from VAT'), ('AE', 'Reverse charge'), ('O', 'Outside the scope of VAT')], default='S', max_length=2, verbose_name='VAT category'),
            preserve_default=False,
        ),
        vat_categories_from_rates(app_label='invoicing', model_name='invoiceline'),
        migrations.AddField(
            model_name='invoiceline',
            name='vat_exemption_reason',
            field=models.CharField(blank=True, help_text='Printed on the document, e.g. “Reverse charge” or the article of the law.', max_length=300, verbose_name='VAT exemption reason'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='vat_exemption_reason_code',
            field=models.CharField(blank=True, choices=[('VATEX-EU-AE', 'VATEX-EU-AE: reverse charge'), ('VATEX-EU-O', 'VATEX-EU-O: not subject to VAT'), ('VATEX-EU-132', 'VATEX-EU-132: exempt under Art. 132 (activities in the public interest)'), ('VATEX-EU-135-1', 'VATEX-EU-135-1: exempt under Art. 135(1) (e.g. letting of property)'), ('VATEX-EU-143', 'VATEX-EU-143: exempt under Art. 143 (importation)'), ('VATEX-EU-148', 'VATEX-EU-148: exempt under Art. 148 (international transport)'), ('VATEX-EU-151', 'VATEX-EU-151: exempt under Art. 151 (diplomatic, international bodies)'), ('VATEX-EU-309', 'VATEX-EU-309: travel agents, Art. 309'), ('VATEX-EU-79-C', 'VATEX-EU-79-C: amounts received on behalf of the customer, Art. 79(c)'), ('VATEX-FR-FRANCHISE', 'VATEX-FR-FRANCHISE: France, VAT threshold exemption (293 B CGI)')], max_length=30, verbose_name='VAT exemption reason code'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='issued_frozen', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (NOT (OLD."state" = \'draft\') AND (OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."order_reference" IS DISTINCT FROM (NEW."order_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency")))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='eff0f2ca411dfcff913b59b6ff6d6c7e64eb7757', operation='UPDATE', pgid='pgtrigger_issued_frozen_dbf30', table='invoicing_invoice', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='dates_follow_numbers', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n            IF NEW.sequence_number IS NULL OR NEW.issue_date IS NULL THEN RETURN NEW; END IF;\n            IF TG_OP = 'UPDATE'\n                AND OLD.sequence_number IS NOT DISTINCT FROM NEW.sequence_number\n                AND OLD.issue_date IS NOT DISTINCT FROM NEW.issue_date THEN\n                RETURN NEW;\n            END IF;\n            IF EXISTS (\n                SELECT 1 FROM invoicing_invoice\n                WHERE location_id = NEW.location_id AND (\n                    (sequence_number = NEW.sequence_number - 1 AND issue_date > NEW.issue_date)\n                    OR (sequence_number = NEW.sequence_number + 1 AND issue_date < NEW.issue_date)\n                )\n            ) THEN\n                RAISE EXCEPTION 'A invoice number cannot have an earlier date than the number before it'\n                    USING ERRCODE = 'check_violation';\n            END IF;\n            RETURN NEW;\n            ", hash='05966f1a4f85d65ab03f87c0a7f0152e91fc48d0', operation='INSERT OR UPDATE', pgid='pgtrigger_dates_follow_numbers_8d96d', table='invoicing_invoice', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('tax_total_vat_currency__isnull', True), ('vat_currency', ''), ('vat_exchange_rate__isnull', True)), models.Q(('tax_total_vat_currency__isnull', True), ('vat_currency', models.F('currency')), ('vat_exchange_rate__isnull', True)), models.Q(models.Q(('vat_currency', ''), _negated=True), models.Q(('vat_currency', models.F('currency')), _negated=True), ('tax_total_vat_currency__gte', 0), ('vat_exchange_rate__gt', 0)), _connector='OR'), name='invoice_vat_currency_rate'),
        ),
        migrations.AddConstraint(
            model_name='invoiceline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('tax_rate__gt', 0), ('vat_category', 'S')), models.Q(('tax_rate', 0), ('vat_category__in', ('Z', 'E', 'AE', 'O'))), _connector='OR'), name='invoice_line_vat_category_rate'),
        ),
        migrations.AddConstraint(
            model_name='invoiceline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('vat_category__in', ('E', 'AE', 'O')), models.Q(('vat_exemption_reason', ''), _negated=True)), models.Q(('vat_category__in', ['S', 'Z']), ('vat_exemption_reason', ''), ('vat_exemption_reason_code', '')), _connector='OR'), name='invoice_line_vat_exemption_reason'),
        ),
        migrations.AddConstraint(
            model_name='invoiceline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('period_end__isnull', True), ('period_start__isnull', True)), models.Q(('period_end__gte', models.F('period_start')), ('period_start__isnull', False)), _connector='OR'), name='invoice_line_service_period'),
        ),
    ]
