# A credit note adds up to its lines and its document level discounts and charges: its net
# is the lines' nets + the discounts − the charges (stored positive; the lines negative).
# The rest of the at-commit check (credits/migrations/0008) is unchanged.

from django.db import migrations

from coworking.triggers import postgres_sql

FUNCTION = """
CREATE OR REPLACE FUNCTION credits_credit_note_within_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    breach text := credits_credit_breach(NEW.invoice_id);
BEGIN
    IF breach IS NULL AND EXISTS (
        SELECT 1 FROM credits_creditnote cn,
            LATERAL (
                SELECT COALESCE(SUM(net), 0) AS net, COALESCE(SUM(tax), 0) AS tax
                FROM credits_creditnoteline WHERE credit_note_id = cn.id
            ) lines{allowances}
        WHERE cn.id = NEW.id AND (lines.net{moved} <> cn.net_total OR lines.tax <> cn.tax_total)
    ) THEN
        breach := 'has a credit note that does not add up to its lines';
    END IF;
    IF breach IS NULL AND EXISTS (
        SELECT 1 FROM invoicing_invoice invoice,
            LATERAL (
                SELECT -COALESCE(SUM(total), 0) AS credited
                FROM credits_creditnote WHERE invoice_id = invoice.id
            ) notes
        WHERE invoice.id = NEW.invoice_id
            AND (notes.credited > invoice.total OR notes.credited <> invoice.amount_credited)
    ) THEN
        breach := 'is credited beyond its total, or not by its credited amount';
    END IF;
    IF breach IS NOT NULL THEN
        RAISE EXCEPTION 'Invoice % %', NEW.invoice_id, breach
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
"""

ALLOWANCES = """,
            LATERAL (
                SELECT COALESCE(SUM(CASE WHEN kind = 'charge' THEN -amount ELSE amount END), 0)
                    AS moved
                FROM credits_creditnoteallowancecharge WHERE credit_note_id = cn.id
            ) allowances"""

CHECK = FUNCTION.format(allowances=ALLOWANCES, moved=" + allowances.moved")
LINES_ONLY = FUNCTION.format(allowances="", moved="")


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0021_document_allowances"),
    ]

    operations = [postgres_sql(CHECK, LINES_ONLY)]
