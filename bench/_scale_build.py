"""The scale bench's database: N invoices written in bulk SQL, every guard left on.

How (docs/benchmarks.md, "Scale", says it for readers):

1. Locations, customers and a few *template* documents per location are made by the
   services (``bench/_scale_templates.py``): one invoice of each shape (unpaid, partly paid,
   paid, cancelled, partly credited), with its lines, payments, credit notes, cancellation
   event, ledger entries and journal entries, all dated ``TEMPLATE_DAY``.
2. A *plan* gives each of the N copies its shape, location, customer, issue date, invoice
   number (numbers of a location follow its dates: the series is in date order) and, for
   the credited shapes, its credit-note number; and each copied journal entry its number in
   its journal and fiscal year.
3. The copies are written with ``INSERT ... SELECT`` from the templates, one transaction per
   slice of dates, in the order the guards accept: the invoice as a draft (lines may only be
   added to a draft), its lines, its ledger entries, then one ``UPDATE`` that issues it
   (number, state, amounts paid and credited, ledger entry: a draft may take them), then its
   payments, credit notes and their lines (whose trigger wants the note made in the same
   transaction), cancellation events and journal entries with their legs. Each number
   counter is then stepped up to the slice's last number one step at a time (the counter
   may only grow by one). The deferred checks (documents posted as issued, paid = the sum of
   payments, cancelled = credited in full, journal entries balanced, every taken number in
   use) run at each slice's commit. The copied tables are analysed before the first slice
   and after each: the guards' functions keep the plans they made on their first calls,
   and a plan made on the templates' few rows scans a whole table.
4. The balance rows are summed from the ledger once at the end.

New primary keys are computed, not drawn: the copy ``k`` of a template row that is the
``o``-th row of its table for its template invoice gets ``base + (k - 1) * width + o``
(``width`` = the most rows any template invoice has in that table), so a foreign key to
another copied row is computed the same way, without a look-up. The id sequences are moved
past the last id at the end.
"""

import datetime
import time

from _scale_templates import SHAPES, TEMPLATE_DAY, make_location, make_templates
from django.db import connection, transaction

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
# fmt: off
BIG_NAMES = (
    "Globex Corporation", "Initech Europe", "Umbrella Holdings", "Stark Industries",
    "Wayne Enterprises", "Tyrell Systems",
)
# fmt: on


def _rf_digits(text: str) -> str:
    """Letters as ISO 7064 counts them (A=10 … Z=35), digits as they are."""
    return "".join(str(int(char, 36)) for char in text)


def build(*, invoices: int, locations: int, big_customers: int, big_size: int, log) -> dict:
    """Write the database; return what the measurements need (ids of the big customers,
    the template customers and locations)."""

    from tests.factories import CustomerFactory

    started = time.perf_counter()
    big, templates = [], []
    for index in range(1, locations + 1):
        location = make_location(index)
        customer = CustomerFactory(location=location, billing_name=f"Walk-in {index:03d}")
        ids = make_templates(location, customer)
        templates.append((location, customer, ids))
        if index <= big_customers:
            big.append(CustomerFactory(location=location, billing_name=BIG_NAMES[index - 1]))
    log(f"  {locations} locations with their templates in {time.perf_counter() - started:.1f} s")

    with connection.cursor() as cursor:
        # Durability of each commit is not what is measured: the build commits often.
        cursor.execute("SET synchronous_commit = off")
        _plan(
            cursor,
            invoices=invoices,
            templates=templates,
            shapes=[name for name, _share in SHAPES],
            big=[customer.pk for customer in big],
            big_size=big_size,
            customers_per_location=max(20, invoices // 12 // locations),
        )
        log(f"  plan ready at {time.perf_counter() - started:.1f} s")
        slices = _slices(cursor)
        _refresh_plans(cursor)
        for number, (low, high) in enumerate(slices, 1):
            with transaction.atomic():
                _copy_slice(cursor, low, high)
            _refresh_plans(cursor)
            log(f"  slice {number}/{len(slices)} written at {time.perf_counter() - started:.1f} s")
        _advance_counters(cursor)
        log(f"  counters stepped up at {time.perf_counter() - started:.1f} s")
        with transaction.atomic():
            _finish(cursor)
    log(f"  built in {time.perf_counter() - started:.1f} s")
    return {"big": [customer.pk for customer in big], "locations": [t[0].pk for t in templates]}


def _refresh_plans(cursor) -> None:
    """Statistics of the copied tables, which also drop the plans the guards' functions
    cached: a function keeps the plan it made on its first calls, and one made on the
    templates' few rows reads the whole table (a sequential scan per check at commit,
    14 ms a check in a 50,000-invoice slice instead of 0.2 ms)."""
    cursor.execute(f"ANALYZE {', '.join(OWNED)}")


def _plan(cursor, *, invoices, templates, shapes, big, big_size, customers_per_location):
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
        INSERT INTO coworking_customer ({_columns(cursor, "coworking_customer", skip={"id"})})
        SELECT {
            _select(
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


def _slices(cursor) -> list[tuple[datetime.date, datetime.date]]:
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


def _columns(cursor, table: str, *, skip=frozenset()) -> str:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return ", ".join(f'"{c}"' for (c,) in cursor.fetchall() if c not in skip)


def _select(cursor, table: str, alias: str, *, skip=frozenset(), override: dict) -> str:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return ", ".join(
        override.get(c, f'{alias}."{c}"') for (c,) in cursor.fetchall() if c not in skip
    )


def new_id(table: str, alias: str, k: str = "p.k") -> str:
    """The copy's id of the template row whose map row is ``alias``."""
    return (
        f"((SELECT base FROM scale_table WHERE name = '{table}') "
        f"+ ({k} - 1) * (SELECT width FROM scale_table WHERE name = '{table}') + {alias}.ord)"
    )


def ref(table: str, column: str) -> str:
    """The copy's id of the row a template's ``column`` points at (NULL stays NULL)."""
    return f"(SELECT {new_id(table, 'r')} FROM scale_map_{table} r WHERE r.old_id = {column})"


def _copy(cursor, table: str, override: dict, low, high, *, extra_join: str = "") -> None:
    """Copy the template rows of ``table`` for every planned invoice dated low..high."""
    override = {"id": new_id(table, "m"), **override}
    cursor.execute(
        f"""
        INSERT INTO {table} ({_columns(cursor, table)})
        SELECT {_select(cursor, table, "t", override=override)}
        FROM scale_plan p
        JOIN scale_map_{table} m ON m.tpl_invoice = p.tpl_invoice
        JOIN {table} t ON t.id = m.old_id
        JOIN coworking_customer c ON c.id = p.customer_id
        {extra_join}
        WHERE p.issue_date BETWEEN %(low)s AND %(high)s
        ORDER BY p.issue_date, p.k, m.ord
        """,
        {"low": low, "high": high},
    )


def _text(column: str) -> str:
    """A template's text with the template's numbers and customer name replaced."""
    return (
        f"replace(replace(replace({column}, p.tpl_number, p.number), "
        f"coalesce(p.tpl_cn_number, '#'), coalesce(p.cn_number, '#')), "
        f"p.tpl_customer_name, c.billing_name)"
    )


def _days(column: str) -> str:
    return f"{column} + p.delta"


def _moment(column: str) -> str:
    return f"{column} + make_interval(days => p.delta)"


BUYER = "t.buyer || jsonb_build_object('name', c.billing_name, 'email', c.billing_email)"


def _copy_slice(cursor, low, high) -> None:
    invoice = ref("invoicing_invoice", "t.invoice_id")
    _copy(
        cursor,
        "invoicing_invoice",
        {
            "state": "'draft'",
            "sequence_number": "NULL",
            "number": "''",
            "issue_date": _days("t.issue_date"),
            "due_date": _days("t.due_date"),
            "amount_paid": "0",
            "amount_credited": "0",
            "created_at": _moment("t.created_at"),
            "issued_at": "NULL",
            "cancelled_at": "NULL",
            "cancellation_channel": "''",
            "cancellation_reason": "''",
            "customer_id": "p.customer_id",
            "buyer": BUYER,
            "buyer_reference": "''",
            "payment_reference": "''",
            "ledger_entry_id": "NULL",
        },
        low,
        high,
    )
    _copy(cursor, "invoicing_invoiceline", {"invoice_id": invoice}, low, high)
    _copy(
        cursor,
        "coworking_ledgerentry",
        {
            "customer_id": "p.customer_id",
            "description": _text("t.description"),
            "document_number": "p.number",
            "document_date": _days("t.document_date"),
            "created_at": _moment("t.created_at"),
        },
        low,
        high,
    )
    # Issue the drafts: number, state, amounts and ledger entry as the template has them.
    cursor.execute(
        f"""
        UPDATE invoicing_invoice i SET
            state = t.state, sequence_number = p.seq, number = p.number,
            amount_paid = t.amount_paid, amount_credited = t.amount_credited,
            issued_at = {_moment("t.issued_at")}, cancelled_at = {_moment("t.cancelled_at")},
            cancellation_channel = t.cancellation_channel,
            cancellation_reason = t.cancellation_reason,
            buyer_reference = {_text("t.buyer_reference")},
            payment_reference = CASE WHEN t.payment_reference LIKE 'RF%%' THEN
                'RF' || lpad((98 - ((p.rf_body || '271500')::numeric %% 97))::text, 2, '0')
                || p.ref_body ELSE t.payment_reference END,
            ledger_entry_id = {ref("coworking_ledgerentry", "t.ledger_entry_id")}
        FROM scale_plan p
        JOIN scale_map_invoicing_invoice m ON m.tpl_invoice = p.tpl_invoice
        JOIN invoicing_invoice t ON t.id = m.old_id
        JOIN coworking_customer c ON c.id = p.customer_id
        WHERE i.id = {new_id("invoicing_invoice", "m")}
            AND p.issue_date BETWEEN %(low)s AND %(high)s
        """,
        {"low": low, "high": high},
    )
    _copy(
        cursor,
        "invoicing_payment",
        {
            "invoice_id": invoice,
            "received_on": _days("t.received_on"),
            "created_at": _moment("t.created_at"),
            "ledger_entry_id": ref("coworking_ledgerentry", "t.ledger_entry_id"),
        },
        low,
        high,
    )
    _copy(
        cursor,
        "credits_creditnote",
        {
            "invoice_id": invoice,
            "customer_id": "p.customer_id",
            "invoice_number": "p.number",
            "invoice_issue_date": _days("t.invoice_issue_date"),
            "sequence_number": "p.cn_seq",
            "number": "p.cn_number",
            "issue_date": _days("t.issue_date"),
            "created_at": "transaction_timestamp()",
            "buyer": BUYER,
            "buyer_reference": _text("t.buyer_reference"),
            "ledger_entry_id": ref("coworking_ledgerentry", "t.ledger_entry_id"),
        },
        low,
        high,
    )
    _copy(
        cursor,
        "credits_creditnoteline",
        {
            "credit_note_id": ref("credits_creditnote", "t.credit_note_id"),
            "invoice_line_id": ref("invoicing_invoiceline", "t.invoice_line_id"),
        },
        low,
        high,
    )
    _copy(
        cursor,
        "credits_cancellationevent",
        {
            "invoice_id": invoice,
            "credit_note_id": ref("credits_creditnote", "t.credit_note_id"),
            "started_at": _moment("t.started_at"),
            "created_at": _moment("t.created_at"),
        },
        low,
        high,
    )
    source_table = {
        "invoice": "invoicing_invoice",
        "payment": "invoicing_payment",
        "credit_note": "credits_creditnote",
    }
    source_id = "split_part(t.source, ':', 2)::bigint"
    source = (
        "CASE split_part(t.source, ':', 1) "
        + " ".join(
            f"WHEN '{kind}' THEN '{kind}:' || {ref(table, source_id)}"
            for kind, table in source_table.items()
        )
        + " END"
    )
    _copy(
        cursor,
        "books_journalentry",
        {
            "fiscal_year": "p.year",
            "number": "j.number",
            "date": _days("t.date"),
            "document_number": _text("t.document_number"),
            "document_date": _days("t.document_date"),
            "corrects": _text("t.corrects"),
            "label": _text("t.label"),
            "source": source,
            "posted_at": _moment("t.posted_at"),
            "customer_id": "CASE WHEN t.customer_id IS NULL THEN NULL ELSE p.customer_id END",
        },
        low,
        high,
        extra_join="JOIN scale_journal j ON j.k = p.k AND j.old_id = t.id",
    )
    _copy(
        cursor,
        "books_journalline",
        {
            "entry_id": ref("books_journalentry", "t.entry_id"),
            "customer_id": "CASE WHEN t.customer_id IS NULL THEN NULL ELSE p.customer_id END",
            "lettering": _text("t.lettering"),
        },
        low,
        high,
    )


def _advance_counters(cursor) -> None:
    """Step every number counter up to its last number, one by one: the guard lets a
    counter grow only by one (a new one starts at 1), and the deferred check wants each
    number it passes in use. One step of all counters per transaction: a row updated
    thousands of times in one transaction leaves a chain of versions each update walks."""
    cursor.execute(
        """
        CREATE TEMP TABLE scale_target AS
        SELECT 'invoice:' || location_id AS name, max(seq) AS target
        FROM scale_plan GROUP BY location_id
        UNION ALL
        SELECT 'credit_note:' || location_id, max(cn_seq)
        FROM scale_plan WHERE cn_seq IS NOT NULL GROUP BY location_id
        UNION ALL
        SELECT 'journal-' || journal || '-' || year || ':' || location_id, max(number)
        FROM scale_journal GROUP BY journal, year, location_id
        """
    )
    cursor.execute(
        "INSERT INTO sequences_sequence (name, last) SELECT name, 1 FROM scale_target "
        "WHERE name NOT IN (SELECT name FROM sequences_sequence)"
    )
    cursor.execute(
        """
        DO $$
        BEGIN
            LOOP
                UPDATE sequences_sequence s SET last = s.last + 1
                FROM scale_target t WHERE s.name = t.name AND s.last < t.target;
                EXIT WHEN NOT FOUND;
                COMMIT;
            END LOOP;
        END $$
        """
    )


def _finish(cursor) -> None:
    """Balance rows from the ledger; id sequences past the copies; planner statistics."""
    cursor.execute(
        """
        INSERT INTO coworking_customerbalance (customer_id, amount_currency, amount)
        SELECT customer_id, amount_currency, sum(amount) FROM coworking_ledgerentry
        GROUP BY customer_id, amount_currency
        ON CONFLICT (customer_id, amount_currency) DO UPDATE SET amount = EXCLUDED.amount
        """
    )
    cursor.execute("SELECT name FROM scale_table")
    for (table,) in cursor.fetchall():
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    cursor.execute("ANALYZE")
