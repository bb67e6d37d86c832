# VAT per document: a credit note's VAT per rate is computed from its own base and shared
# over its lines, so a credited line's share may exceed the share its invoice line had. The
# over-credit rule keeps per line quantity and net, per tax rate net and tax, and the total
# (credits/migrations/0008); only the per-line tax comparison goes.

from django.db import migrations

PER_RATE_TAX = """
CREATE OR REPLACE FUNCTION credits_credit_breach(target bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM credits_creditnoteline line
        JOIN credits_creditnote cn ON cn.id = line.credit_note_id
        JOIN invoicing_invoiceline credited ON credited.id = line.invoice_line_id
        WHERE cn.invoice_id = target
            AND (credited.invoice_id <> target OR credited.tax_rate <> line.tax_rate)
    ) THEN
        RETURN 'credits a line of another invoice, or at another rate';
    END IF;
    IF EXISTS (
        SELECT 1 FROM invoicing_invoiceline invoiced
        JOIN (
            SELECT line.invoice_line_id, -SUM(line.quantity) AS quantity,
                -SUM(line.net) AS net
            FROM credits_creditnoteline line
            JOIN credits_creditnote cn ON cn.id = line.credit_note_id
            WHERE cn.invoice_id = target AND line.invoice_line_id IS NOT NULL
            GROUP BY line.invoice_line_id
        ) credited ON credited.invoice_line_id = invoiced.id
        WHERE credited.quantity > invoiced.quantity OR credited.net > invoiced.net
    ) THEN
        RETURN 'credits a line beyond what it holds';
    END IF;
    IF EXISTS (
        SELECT 1 FROM (
            SELECT line.tax_rate, -SUM(line.net) AS net, -SUM(line.tax) AS tax
            FROM credits_creditnoteline line
            JOIN credits_creditnote cn ON cn.id = line.credit_note_id
            WHERE cn.invoice_id = target
            GROUP BY line.tax_rate
        ) credited
        LEFT JOIN (
            SELECT tax_rate, SUM(net) AS net, SUM(tax) AS tax
            FROM invoicing_invoiceline WHERE invoice_id = target GROUP BY tax_rate
        ) invoiced ON invoiced.tax_rate = credited.tax_rate
        WHERE invoiced.tax_rate IS NULL OR credited.net > invoiced.net
            OR credited.tax > invoiced.tax
    ) THEN
        RETURN 'credits a tax rate beyond what it holds';
    END IF;
    RETURN NULL;
END $$;
"""

PER_LINE_TAX = """
CREATE OR REPLACE FUNCTION credits_credit_breach(target bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM credits_creditnoteline line
        JOIN credits_creditnote cn ON cn.id = line.credit_note_id
        JOIN invoicing_invoiceline credited ON credited.id = line.invoice_line_id
        WHERE cn.invoice_id = target
            AND (credited.invoice_id <> target OR credited.tax_rate <> line.tax_rate)
    ) THEN
        RETURN 'credits a line of another invoice, or at another rate';
    END IF;
    IF EXISTS (
        SELECT 1 FROM invoicing_invoiceline invoiced
        JOIN (
            SELECT line.invoice_line_id, -SUM(line.quantity) AS quantity,
                -SUM(line.net) AS net, -SUM(line.tax) AS tax
            FROM credits_creditnoteline line
            JOIN credits_creditnote cn ON cn.id = line.credit_note_id
            WHERE cn.invoice_id = target AND line.invoice_line_id IS NOT NULL
            GROUP BY line.invoice_line_id
        ) credited ON credited.invoice_line_id = invoiced.id
        WHERE credited.quantity > invoiced.quantity OR credited.net > invoiced.net
            OR credited.tax > invoiced.tax
    ) THEN
        RETURN 'credits a line beyond what it holds';
    END IF;
    IF EXISTS (
        SELECT 1 FROM (
            SELECT line.tax_rate, -SUM(line.net) AS net, -SUM(line.tax) AS tax
            FROM credits_creditnoteline line
            JOIN credits_creditnote cn ON cn.id = line.credit_note_id
            WHERE cn.invoice_id = target
            GROUP BY line.tax_rate
        ) credited
        LEFT JOIN (
            SELECT tax_rate, SUM(net) AS net, SUM(tax) AS tax
            FROM invoicing_invoiceline WHERE invoice_id = target GROUP BY tax_rate
        ) invoiced ON invoiced.tax_rate = credited.tax_rate
        WHERE invoiced.tax_rate IS NULL OR credited.net > invoiced.net
            OR credited.tax > invoiced.tax
    ) THEN
        RETURN 'credits a tax rate beyond what it holds';
    END IF;
    RETURN NULL;
END $$;
"""


def postgres_only(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0016_vat_per_document_and_unit_price_precision"),
    ]

    operations = [
        migrations.RunPython(postgres_only(PER_RATE_TAX), postgres_only(PER_LINE_TAX)),
    ]
