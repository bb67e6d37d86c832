"""The scale bench's plan: what each of the N copies is, before a row is written.

Temporary tables give each copy its shape, location, customer, issue date, invoice number
(a location's numbers follow its dates, the series being in date order) and, for the credited
shapes, its credit-note number; each template row its place among its template invoice's rows
(``scale_map_<table>``), from which ``bench/_scale_copy.py`` computes the copies' ids; and
each copied journal entry its number in its journal and fiscal year. The customers the plan
picks from are written here too, as copies of each location's walk-in customer.
"""

import datetime

from _scale_copy import select_columns, table_columns
from _scale_templates import TEMPLATE_DAY

START_DAY = datetime.date(2021, 1, 5)
END_DAY = datetime.date(2026, 11, 30)
SLICE = 50_000  # invoices per transaction

# fmt: off
FIRST_NAMES = (
    "Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Lotte",
    "Milan", "Noor", "Oscar", "Pia", "Ruben", "Sara", "Thijs", "Uma", "Vince", "Wout", "Yara",
    "Zoë", "Lucas", "Julia", "Sem", "Tess", "Levi", "Fleur", "Jesse",
)
# fmt: on
# fmt: off
SURNAMES = (
    "de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
    "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Simon",
    "Michel", "Lefebvre", "Leroy", "Roux", "Müller", "Schmidt", "Schneider", "Fischer", "Weber",
    "Wagner",
)
# fmt: on


def _rf_digits(text: str) -> str:
    """Letters as ISO 7064 counts them (A=10 … Z=35), digits as they are."""
    return "".join(str(int(char, 36)) for char in text)


def make_plan(cursor, *, invoices, templates, shapes, big, big_size, customers_per_location):
    """Temporary tables: templates, customers and the plan of every copy."""
    cursor.execute(
        "CREATE TEMP TABLE scale_tpl (location_id bigint, shape int, invoice_id bigint, "
        "number text, cn_number text, customer_name text, customer_id bigint, "
        "invoice_prefix text, cn_prefix text, rf_prefix text)"
    )
    rows = []
    for location, customer, ids in templates:
        for shape, invoice_id in ids.items():
            rows.append(
                (
                    location.pk,
                    shapes.index(shape),
                    invoice_id,
                    location.invoice_prefix,
                    location.credit_note_prefix,
                    _rf_digits(location.invoice_prefix),
                    customer.billing_name,
                    customer.pk,
                )
            )
    cursor.executemany(
        "INSERT INTO scale_tpl (location_id, shape, invoice_id, invoice_prefix, cn_prefix, "
        "rf_prefix, customer_name, customer_id, number, cn_number) "
        "SELECT %s, %s, %s, %s, %s, %s, %s, %s, i.number, "
        "(SELECT max(number) FROM credits_creditnote WHERE invoice_id = i.id) "
        "FROM invoicing_invoice i WHERE i.id = %s",
        [(*row, row[2]) for row in rows],
    )
    # Customers: copies of each location's walk-in customer, named from two lists.
    cursor.execute(
        f"""
        INSERT INTO coworking_customer ({table_columns(cursor, "coworking_customer", skip={"id"})})
        SELECT {
            select_columns(
                cursor,
                "coworking_customer",
                "c",
                skip={"id"},
                override={
                    "billing_name": "first_names[1 + n %% %(nf)s] || ' ' || surnames[1 + (n / %(nf)s) %% %(ns)s]"
                    " || CASE WHEN n > %(combos)s THEN ' ' || (n / %(combos)s)::text ELSE '' END",
                    "billing_email": "'member' || c.location_id || '.' || n || '@example.com'",
                    "portal_user_id": "NULL",
                },
            )
        }
        FROM coworking_customer c
        JOIN (SELECT DISTINCT customer_id FROM scale_tpl) t ON t.customer_id = c.id,
            generate_series(1, %(per)s) AS n,
            (SELECT %(first)s::text[] AS first_names, %(last)s::text[] AS surnames) names
        """,
        {
            "per": customers_per_location,
            "first": list(FIRST_NAMES),
            "last": list(SURNAMES),
            "nf": len(FIRST_NAMES),
            "ns": len(SURNAMES),
            "combos": len(FIRST_NAMES) * len(SURNAMES),
        },
    )
    cursor.execute(
        """
        CREATE TEMP TABLE scale_customer AS
        SELECT location_id, id AS customer_id,
            row_number() OVER (PARTITION BY location_id ORDER BY id) - 1 AS idx,
            count(*) OVER (PARTITION BY location_id) AS n
        FROM coworking_customer
        WHERE id NOT IN (SELECT unnest(%(big)s::bigint[]))
            AND id NOT IN (SELECT customer_id FROM scale_tpl);
        CREATE INDEX ON scale_customer (location_id, idx);
        CREATE TEMP TABLE scale_big AS
        SELECT b.ordinality AS slot, b.id AS customer_id, c.location_id
        FROM unnest(%(big)s::bigint[]) WITH ORDINALITY AS b(id, ordinality)
        JOIN coworking_customer c ON c.id = b.id;
        """,
        {"big": big},
    )
    # Shapes by k: 2 unpaid, 1 partly paid, 5 paid, 1 cancelled, 1 partly credited in 10.
    span = (END_DAY - START_DAY).days
    cursor.execute(
        f"""
        CREATE TEMP TABLE scale_pick AS
        SELECT k,
            (ARRAY[0, 0, 1, 2, 2, 2, 2, 2, 3, 4])[1 + (k * 7) %% 10] AS shape,
            DATE '{START_DAY}' + ((k * 7919) %% {span})::int AS issue_date,
            coalesce(b.location_id, 1 + (k * 2654435761) %% %(nloc)s) AS location_slot,
            b.customer_id AS big_customer
        FROM generate_series(1::bigint, %(n)s) AS k
        LEFT JOIN scale_big b ON k <= %(big_size)s * %(nbig)s
            AND b.slot = 1 + (k - 1) / %(big_size)s
        """,
        {"n": invoices, "nloc": len(templates), "big_size": big_size, "nbig": len(big)},
    )
    # location_slot: a location id for the big customers' copies, else a 1-based slot.
    cursor.execute(
        f"""
        CREATE TEMP TABLE scale_locations AS
        SELECT row_number() OVER (ORDER BY location_id) AS slot, location_id
        FROM (SELECT DISTINCT location_id FROM scale_tpl) l;
        CREATE TEMP TABLE scale_plan AS
        WITH placed AS (
            SELECT p.k, p.shape, p.issue_date,
                CASE WHEN p.big_customer IS NULL THEN l.location_id ELSE p.location_slot END
                    AS location_id,
                p.big_customer
            FROM scale_pick p LEFT JOIN scale_locations l ON l.slot = p.location_slot
        ), numbered AS (
            SELECT placed.*,
                coalesce(big_customer, (
                    SELECT customer_id FROM scale_customer c
                    WHERE c.location_id = placed.location_id
                        AND c.idx = (placed.k * 40503) % c.n
                )) AS customer_id,
                row_number() OVER (PARTITION BY location_id ORDER BY issue_date, k) AS nth,
                CASE WHEN shape IN (3, 4) THEN row_number() OVER (
                    PARTITION BY location_id, shape IN (3, 4) ORDER BY issue_date, k) END AS cn_nth
            FROM placed
        )
        SELECT n.k, n.shape, n.issue_date, n.location_id, n.customer_id,
            t.invoice_id AS tpl_invoice, t.number AS tpl_number, t.cn_number AS tpl_cn_number,
            t.customer_name AS tpl_customer_name,
            n.issue_date - DATE '{TEMPLATE_DAY}' AS delta,
            extract(year FROM n.issue_date)::int AS year,
            n.nth + 5 AS seq,
            t.invoice_prefix || '-' || extract(year FROM n.issue_date) || '-'
                || lpad((n.nth + 5)::text, 6, '0') AS number,
            t.rf_prefix || extract(year FROM n.issue_date) || lpad((n.nth + 5)::text, 6, '0')
                AS rf_body,
            t.invoice_prefix || extract(year FROM n.issue_date) || lpad((n.nth + 5)::text, 6, '0')
                AS ref_body,
            n.cn_nth + 2 AS cn_seq,
            t.cn_prefix || '-' || extract(year FROM n.issue_date) || '-'
                || lpad((n.cn_nth + 2)::text, 6, '0') AS cn_number
        FROM numbered n JOIN scale_tpl t ON t.location_id = n.location_id AND t.shape = n.shape;
        CREATE UNIQUE INDEX ON scale_plan (k);
        CREATE INDEX ON scale_plan (issue_date);
        ANALYZE scale_plan;
        """
    )
    _template_maps(cursor)


# Each copied table: how its template rows hang off their template invoice.
OWNED = {
    "invoicing_invoice": "SELECT id, id AS tpl_invoice FROM invoicing_invoice",
    "invoicing_invoiceline": "SELECT id, invoice_id FROM invoicing_invoiceline",
    "invoicing_payment": "SELECT id, invoice_id FROM invoicing_payment",
    "credits_creditnote": "SELECT id, invoice_id FROM credits_creditnote",
    "credits_creditnoteline": (
        "SELECT l.id, n.invoice_id FROM credits_creditnoteline l "
        "JOIN credits_creditnote n ON n.id = l.credit_note_id"
    ),
    "credits_cancellationevent": "SELECT id, invoice_id FROM credits_cancellationevent",
    "coworking_ledgerentry": (
        "SELECT ledger_entry_id, id FROM invoicing_invoice WHERE ledger_entry_id IS NOT NULL "
        "UNION ALL SELECT ledger_entry_id, invoice_id FROM invoicing_payment "
        "UNION ALL SELECT ledger_entry_id, invoice_id FROM credits_creditnote"
    ),
    "books_journalentry": (
        "SELECT e.id, CASE split_part(e.source, ':', 1) "
        "WHEN 'invoice' THEN split_part(e.source, ':', 2)::bigint "
        "WHEN 'payment' THEN (SELECT invoice_id FROM invoicing_payment "
        "WHERE id = split_part(e.source, ':', 2)::bigint) "
        "WHEN 'credit_note' THEN (SELECT invoice_id FROM credits_creditnote "
        "WHERE id = split_part(e.source, ':', 2)::bigint) END FROM books_journalentry e"
    ),
    "books_journalline": (
        "SELECT l.id, m.tpl_invoice FROM books_journalline l "
        "JOIN scale_map_books_journalentry m ON m.old_id = l.entry_id"
    ),
}


def _template_maps(cursor):
    """``scale_map_<table>(old_id, tpl_invoice, ord)`` and each table's width and base."""
    cursor.execute("CREATE TEMP TABLE scale_table (name text PRIMARY KEY, width int, base bigint)")
    for table, owned in OWNED.items():
        cursor.execute(
            f"""
            CREATE TEMP TABLE scale_map_{table} AS
            SELECT o.id AS old_id, o.tpl AS tpl_invoice,
                row_number() OVER (PARTITION BY o.tpl ORDER BY o.id) AS ord
            FROM ({owned}) AS o(id, tpl)
            WHERE o.tpl IN (SELECT invoice_id FROM scale_tpl);
            CREATE UNIQUE INDEX ON scale_map_{table} (old_id);
            INSERT INTO scale_table
            SELECT '{table}', (SELECT coalesce(max(ord), 1) FROM scale_map_{table}),
                (SELECT coalesce(max(id), 0) FROM {table});
            """
        )
    # Journal entries of the copies, numbered per location, journal and fiscal year after
    # the templates' own (all in the template year).
    cursor.execute(
        """
        CREATE TEMP TABLE scale_journal AS
        SELECT p.k, m.old_id, e.journal, p.location_id, p.year,
            row_number() OVER (
                PARTITION BY p.location_id, e.journal, p.year ORDER BY p.issue_date, p.k, m.ord
            ) + coalesce(o.n, 0) AS number
        FROM scale_plan p
        JOIN scale_map_books_journalentry m ON m.tpl_invoice = p.tpl_invoice
        JOIN books_journalentry e ON e.id = m.old_id
        LEFT JOIN (
            SELECT location_id, journal, fiscal_year, count(*) AS n FROM books_journalentry
            GROUP BY location_id, journal, fiscal_year
        ) o ON o.location_id = p.location_id AND o.journal = e.journal AND o.fiscal_year = p.year;
        CREATE UNIQUE INDEX ON scale_journal (k, old_id);
        ANALYZE scale_journal;
        """
    )


def date_slices(cursor) -> list[tuple[datetime.date, datetime.date]]:
    """Date ranges of about ``SLICE`` copies each (a slice holds whole days)."""
    cursor.execute(
        "SELECT issue_date, count(*) FROM scale_plan GROUP BY issue_date ORDER BY issue_date"
    )
    slices, low, count = [], None, 0
    for day, n in cursor.fetchall():
        low = low or day
        count += n
        if count >= SLICE:
            slices.append((low, day))
            low, count = None, 0
    if low:
        slices.append((low, day))
    return slices
