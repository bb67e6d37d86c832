"""The scale bench's database: N invoices written in bulk SQL, every guard left on.

How (docs/benchmarks.md, "Scale", says it for readers):

1. Locations, customers and a few *template* documents per location are made by the
   services (``bench/_scale_templates.py``): one invoice of each shape (unpaid, partly paid,
   paid, cancelled, partly credited), with its lines, payments, credit notes, cancellation
   event, ledger entries and journal entries, all dated ``TEMPLATE_DAY``.
2. A *plan* gives each of the N copies its shape, location, customer, issue date, invoice
   number (numbers of a location follow its dates: the series is in date order) and, for
   the credited shapes, its credit-note number; and each copied journal entry its number in
   its journal and fiscal year (``bench/_scale_plan.py``).
3. The copies are written with ``INSERT ... SELECT`` from the templates, one transaction per
   slice of dates, in the order the guards accept: the invoice as a draft (lines may only be
   added to a draft), its lines, its ledger entries, then one ``UPDATE`` that issues it
   (number, state, amounts paid and credited, ledger entry: a draft may take them), then its
   payments, credit notes and their lines (whose trigger wants the note made in the same
   transaction), cancellation events and journal entries with their legs
   (``bench/_scale_copy.py``). Each number counter is then stepped up to the slice's last
   number one step at a time (the counter may only grow by one). The deferred checks
   (documents posted as issued, paid = the sum of payments, cancelled = credited in full,
   journal entries balanced, every taken number in use) run at each slice's commit. The
   copied tables are analysed before the first slice and after each: the guards' functions
   keep the plans they made on their first calls, and a plan made on the templates' few rows
   scans a whole table.
4. The balance rows are summed from the ledger once at the end.

New primary keys are computed, not drawn: the copy ``k`` of a template row that is the
``o``-th row of its table for its template invoice gets ``base + (k - 1) * width + o``
(``width`` = the most rows any template invoice has in that table), so a foreign key to
another copied row is computed the same way, without a look-up (``new_id`` and ``ref`` in
``bench/_scale_copy.py``). The id sequences are moved past the last id at the end.
"""

import time

from _scale_copy import copy_slice
from _scale_plan import OWNED, date_slices, make_plan
from _scale_templates import SHAPES, make_location, make_templates
from django.db import connection, transaction

# fmt: off
BIG_NAMES = (
    "Globex Corporation", "Initech Europe", "Umbrella Holdings", "Stark Industries",
    "Wayne Enterprises", "Tyrell Systems",
)
# fmt: on


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
        make_plan(
            cursor,
            invoices=invoices,
            templates=templates,
            shapes=[name for name, _share in SHAPES],
            big=[customer.pk for customer in big],
            big_size=big_size,
            customers_per_location=max(20, invoices // 12 // locations),
        )
        log(f"  plan ready at {time.perf_counter() - started:.1f} s")
        slices = date_slices(cursor)
        _refresh_plans(cursor)
        for number, (low, high) in enumerate(slices, 1):
            with transaction.atomic():
                copy_slice(cursor, low, high)
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
