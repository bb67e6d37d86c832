# The over-credit rule in the database, the way django-hordak checks the legs of a
# transaction: a constraint trigger deferred to commit (or to the point where the service
# asks for it, see credits.services.issue._check_credit_limits) checks each credit note with all
# that its transaction wrote; credit lines are also checked as each statement writes them.

from django.db import migrations

# One check per credit note written: its invoice, whole. Per line (quantity, net, tax), per
# tax rate (net, tax, and only rates the invoice has), the invoice's total and credited
# amount; each line credits a line of the note's invoice at that line's rate; the note adds
# up to its lines.
# What a transaction must never leave behind for one invoice: a credit line of another
# invoice or at another rate than the line it credits, a line (quantity, net, tax) or a tax
# rate (net, tax; only rates the invoice has) credited beyond what it holds. Each of these
# only grows worse as rows are added, so it can be checked at any point.
BREACH = """
CREATE FUNCTION credits_credit_breach(target bigint) RETURNS text LANGUAGE plpgsql AS $$
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

# At commit, for each credit note written: the above for its invoice, and the note adds up
# to its lines, and the invoice's credited amount is what its notes credit, never more
# than its total.
NOTE_CHECK = """
CREATE FUNCTION credits_credit_note_within_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    breach text := credits_credit_breach(NEW.invoice_id);
BEGIN
    IF breach IS NULL AND EXISTS (
        SELECT 1 FROM credits_creditnote cn,
            LATERAL (
                SELECT COALESCE(SUM(net), 0) AS net, COALESCE(SUM(tax), 0) AS tax
                FROM credits_creditnoteline WHERE credit_note_id = cn.id
            ) lines
        WHERE cn.id = NEW.id AND (lines.net <> cn.net_total OR lines.tax <> cn.tax_total)
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
CREATE CONSTRAINT TRIGGER credits_credit_within_invoice
    AFTER INSERT ON credits_creditnote DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION credits_credit_note_within_invoice();
"""

# Lines however they are written (also to a note of an earlier transaction): once per
# statement, for each invoice the statement's lines credit.
LINES_CHECK = """
CREATE FUNCTION credits_credit_lines_within_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target bigint;
    breach text;
BEGIN
    FOR target IN
        SELECT DISTINCT cn.invoice_id FROM new_lines line
        JOIN credits_creditnote cn ON cn.id = line.credit_note_id
    LOOP
        breach := credits_credit_breach(target);
        IF breach IS NOT NULL THEN
            RAISE EXCEPTION 'Invoice % %', target, breach
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER credits_credit_lines_within_invoice
    AFTER INSERT ON credits_creditnoteline REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION credits_credit_lines_within_invoice();
"""

DROP = """
DROP TRIGGER credits_credit_within_invoice ON credits_creditnote;
DROP TRIGGER credits_credit_lines_within_invoice ON credits_creditnoteline;
DROP FUNCTION credits_credit_note_within_invoice();
DROP FUNCTION credits_credit_lines_within_invoice();
DROP FUNCTION credits_credit_breach(bigint);
"""


def postgres_only(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0007_partial_credit_notes"),
        ("invoicing", "0006_amount_credited"),
    ]

    operations = [
        migrations.RunPython(
            postgres_only(BREACH + NOTE_CHECK + LINES_CHECK), postgres_only(DROP)
        ),
    ]
