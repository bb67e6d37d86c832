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
        ('credits', '0003_document_base'),
        ('invoicing', '0002_document_base'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='creditnote',
            name='frozen',
        ),
        migrations.AddField(
            model_name='creditnote',
            name='buyer_reference',
            field=models.CharField(blank=True, help_text="The invoice's.", max_length=100, verbose_name='buyer reference'),
        ),
        migrations.AddField(
            model_name='creditnote',
            name='tax_total_vat_currency',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='VAT in the VAT currency'),
        ),
        migrations.AddField(
            model_name='creditnote',
            name='vat_currency',
            field=models.CharField(blank=True, choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], help_text="The location's VAT currency at issue.", max_length=3, verbose_name='VAT currency'),
        ),
        migrations.AddField(
            model_name='creditnote',
            name='vat_exchange_rate',
            field=models.DecimalField(blank=True, decimal_places=8, help_text="Units of the VAT currency for one unit of the document's currency.", max_digits=18, null=True, verbose_name='exchange rate to the VAT currency'),
        ),
        migrations.AddField(
            model_name='creditnoteline',
            name='period_end',
            field=models.DateField(blank=True, null=True, verbose_name='service until'),
        ),
        migrations.AddField(
            model_name='creditnoteline',
            name='period_start',
            field=models.DateField(blank=True, null=True, verbose_name='service from'),
        ),
        migrations.AddField(
            model_name='creditnoteline',
            name='vat_category',
            field=models.CharField(choices=[('S', 'Standard rate'), ('Z', 'Zero rated'), ('E', 'Exempt from VAT'), ('AE', 'Reverse charge'), ('O', 'Outside the scope of VAT')], default='S', max_length=2, verbose_name='VAT category'),
            preserve_default=False,
        ),
        vat_categories_from_rates(app_label='credits', model_name='creditnoteline'),
        migrations.AddField(
            model_name='creditnoteline',
            name='vat_exemption_reason',
            field=models.CharField(blank=True, help_text='Printed on the document, e.g. “Reverse charge” or the article of the law.', max_length=300, verbose_name='VAT exemption reason'),
        ),
        migrations.AddField(
            model_name='creditnoteline',
            name='vat_exemption_reason_code',
            field=models.CharField(blank=True, choices=[('VATEX-EU-AE', 'VATEX-EU-AE: reverse charge'), ('VATEX-EU-O', 'VATEX-EU-O: not subject to VAT'), ('VATEX-EU-132', 'VATEX-EU-132: exempt under Art. 132 (activities in the public interest)'), ('VATEX-EU-135-1', 'VATEX-EU-135-1: exempt under Art. 135(1) (e.g. letting of property)'), ('VATEX-EU-143', 'VATEX-EU-143: exempt under Art. 143 (importation)'), ('VATEX-EU-148', 'VATEX-EU-148: exempt under Art. 148 (international transport)'), ('VATEX-EU-151', 'VATEX-EU-151: exempt under Art. 151 (diplomatic, international bodies)'), ('VATEX-EU-309', 'VATEX-EU-309: travel agents, Art. 309'), ('VATEX-EU-79-C', 'VATEX-EU-79-C: amounts received on behalf of the customer, Art. 79(c)'), ('VATEX-FR-FRANCHISE', 'VATEX-FR-FRANCHISE: France, VAT threshold exemption (293 B CGI)')], max_length=30, verbose_name='VAT exemption reason code'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='creditnote',
            trigger=pgtrigger.compiler.Trigger(name='frozen', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."location_id" IS DISTINCT FROM (NEW."location_id") OR OLD."customer_id" IS DISTINCT FROM (NEW."customer_id") OR OLD."invoice_id" IS DISTINCT FROM (NEW."invoice_id") OR OLD."invoice_number" IS DISTINCT FROM (NEW."invoice_number") OR OLD."invoice_issue_date" IS DISTINCT FROM (NEW."invoice_issue_date") OR OLD."sequence_number" IS DISTINCT FROM (NEW."sequence_number") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."reason" IS DISTINCT FROM (NEW."reason") OR OLD."created_by_id" IS DISTINCT FROM (NEW."created_by_id") OR OLD."channel" IS DISTINCT FROM (NEW."channel") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."net_total" IS DISTINCT FROM (NEW."net_total") OR OLD."net_total_currency" IS DISTINCT FROM (NEW."net_total_currency") OR OLD."tax_total" IS DISTINCT FROM (NEW."tax_total") OR OLD."tax_total_currency" IS DISTINCT FROM (NEW."tax_total_currency") OR OLD."total" IS DISTINCT FROM (NEW."total") OR OLD."total_currency" IS DISTINCT FROM (NEW."total_currency") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."vat_currency" IS DISTINCT FROM (NEW."vat_currency") OR OLD."vat_exchange_rate" IS DISTINCT FROM (NEW."vat_exchange_rate") OR OLD."tax_total_vat_currency" IS DISTINCT FROM (NEW."tax_total_vat_currency"))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='7552a31d5d08a76bf0d3f76946515e823e25f300', operation='UPDATE', pgid='pgtrigger_frozen_5bc4b', table='credits_creditnote', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='creditnote',
            trigger=pgtrigger.compiler.Trigger(name='dates_follow_numbers', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n            IF NEW.sequence_number IS NULL OR NEW.issue_date IS NULL THEN RETURN NEW; END IF;\n            IF TG_OP = 'UPDATE'\n                AND OLD.sequence_number IS NOT DISTINCT FROM NEW.sequence_number\n                AND OLD.issue_date IS NOT DISTINCT FROM NEW.issue_date THEN\n                RETURN NEW;\n            END IF;\n            IF EXISTS (\n                SELECT 1 FROM credits_creditnote\n                WHERE location_id = NEW.location_id AND (\n                    (sequence_number = NEW.sequence_number - 1 AND issue_date > NEW.issue_date)\n                    OR (sequence_number = NEW.sequence_number + 1 AND issue_date < NEW.issue_date)\n                )\n            ) THEN\n                RAISE EXCEPTION 'A credit note number cannot have an earlier date than the number before it'\n                    USING ERRCODE = 'check_violation';\n            END IF;\n            RETURN NEW;\n            ", hash='3954cf5688df90e1e43f09fa4938c9c36421bdaf', operation='INSERT OR UPDATE', pgid='pgtrigger_dates_follow_numbers_4aa50', table='credits_creditnote', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='creditnote',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('tax_total_vat_currency__isnull', True), ('vat_currency', ''), ('vat_exchange_rate__isnull', True)), models.Q(('tax_total_vat_currency__isnull', True), ('vat_currency', models.F('currency')), ('vat_exchange_rate__isnull', True)), models.Q(models.Q(('vat_currency', ''), _negated=True), models.Q(('vat_currency', models.F('currency')), _negated=True), ('tax_total_vat_currency__lte', 0), ('vat_exchange_rate__gt', 0)), _connector='OR'), name='credit_note_vat_currency_rate'),
        ),
        migrations.AddConstraint(
            model_name='creditnoteline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('tax_rate__gt', 0), ('vat_category', 'S')), models.Q(('tax_rate', 0), ('vat_category__in', ('Z', 'E', 'AE', 'O'))), _connector='OR'), name='credit_note_line_vat_category_rate'),
        ),
        migrations.AddConstraint(
            model_name='creditnoteline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('vat_category__in', ('E', 'AE', 'O')), models.Q(('vat_exemption_reason', ''), _negated=True)), models.Q(('vat_category__in', ['S', 'Z']), ('vat_exemption_reason', ''), ('vat_exemption_reason_code', '')), _connector='OR'), name='credit_note_line_vat_exemption_reason'),
        ),
        migrations.AddConstraint(
            model_name='creditnoteline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('period_end__isnull', True), ('period_start__isnull', True)), models.Q(('period_end__gte', models.F('period_start')), ('period_start__isnull', False)), _connector='OR'), name='credit_note_line_service_period'),
        ),
    ]
