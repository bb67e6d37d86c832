"""Benchmark of the journal exports (``books.exports``): ``make bench-journal``.

Writes a year of journal for one French location straight in SQL (``--lines`` lines, default
a million, four per entry: the shape of an invoice with two rates; the row triggers are
skipped for the load with ``session_replication_role``, which needs a superuser), then
times each export written to /dev/null through ``journal_export``, with the process's peak
RSS before and after (bounded memory: the peak does not grow with the export).
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_database

LOAD = """
SET session_replication_role = replica;
INSERT INTO books_journalentry (id, location_id, journal, fiscal_year, number, date, currency,
    document_number, document_date, corrects, label, source, posted_at)
SELECT n, %(location)s, 'sales', 2026, n, DATE '2026-01-01' + (n %% 365), 'EUR',
    'PAR-2026-' || lpad(n::text, 6, '0'), DATE '2026-01-01' + (n %% 365), '',
    'Invoice PAR-2026-' || lpad(n::text, 6, '0') || ', Café des Arts', 'bench:' || n,
    TIMESTAMPTZ '2026-12-31 12:00+00'
FROM generate_series(1, %(entries)s) AS n;
INSERT INTO books_journalline (entry_id, position, account_id, account_code, account_label,
    purpose, customer_id, debit, credit, currency, amount_currency, lettering, vat_category,
    tax_rate)
SELECT n, p.position, %(account)s, p.code, p.label, p.purpose,
    CASE WHEN p.purpose = 'receivable' THEN %(customer)s END,
    p.debit, p.credit, 'EUR', p.debit - p.credit, '', p.category, p.rate
FROM generate_series(1, %(entries)s) AS n,
    (VALUES (1, '706000', 'Prestations de services', 'revenue', 0, 300.00, 'S', 20.00),
            (2, '706000', 'Prestations de services', 'revenue', 0, 7.50, 'S', 10.00),
            (3, '445710', 'TVA collectée', 'output_vat', 0, 60.75, 'S', 20.00),
            (4, '411000', 'Clients', 'receivable', 368.25, 0, '', NULL))
        AS p(position, code, label, purpose, debit, credit, category, rate);
SET session_replication_role = DEFAULT;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    django_on_bench_database("cw_bench_journal")
    import datetime

    from django.db import connection

    from books.exports import Format, journal_export
    from books.posting import chart
    from tests.factories import CustomerFactory, french_location

    location = french_location(invoice_prefix="PAR", credit_note_prefix="PARC")
    customer = CustomerFactory(location=location)
    account = next(iter(chart(location).values()))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            LOAD,
            {
                "location": location.pk,
                "account": account.pk,
                "customer": customer.pk,
                "entries": args.lines // 4,
            },
        )
    print(f"loaded {args.lines} lines in {time.perf_counter() - started:.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS before exporting: {rss:.0f} MiB")
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
    for format in (Format.FEC, Format.CSV, Format.DATEV, Format.VAT):
        started = time.perf_counter()
        size = 0
        export = journal_export(location=location, format=format, start=start, end=end)
        with open("/dev/null", "wb") as sink:
            for chunk in export.chunks:
                size += len(chunk)
                sink.write(chunk)
        elapsed = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{format:6} {size / 2**20:7.1f} MiB in {elapsed:6.1f} s "
            f"({args.lines / elapsed:,.0f} lines/s), peak RSS so far {rss:.0f} MiB"
        )


if __name__ == "__main__":
    main()
