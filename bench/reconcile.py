"""``reconcile`` at scale: elapsed time and peak resident memory of ``manage.py reconcile``
(full, then ``--incremental`` after a clean full run) on a database grown from the demo.

    createdb cw_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cw_bench DJANGO_DEBUG=1 \
        .venv/bin/python manage.py migrate
    DATABASE_URL=… DJANGO_DEBUG=1 .venv/bin/python manage.py seed_demo --invoices 300
    DATABASE_URL=… .venv/bin/python bench/reconcile.py --copies 100 [--compare DIR]

``--copies N`` appends N copies of everything the demo holds (customers, invoices and
lines, payments, credit notes and lines, cancellations, refunds, ledger entries, balance
rows, journal entries and lines) in one transaction of ``INSERT … SELECT``: each copy's ids
are shifted past the table's highest, foreign keys shifted with them, numbers and
references suffixed, journal sources pointing at the copies. The database's triggers are
disabled for that transaction only (a copy of consistent rows is consistent, and the
deferred checks per row would dominate the build); ``reconcile`` itself then says whether
the copy holds (the per-location numbering reports gaps by construction: a copy's numbers
are shifted, not renumbered). ``--compare DIR`` runs the same command from another checkout
(e.g. ``git worktree add`` of an older commit) beside this one, for a ratio in one run.
Run with ``--copies 0`` to measure without growing the database.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]

# Cloned tables, parents first; per table, columns that change per copy (beyond ``id`` and
# foreign keys to cloned tables, which shift by the target table's offset).
TABLES = [
    "coworking_customer",
    "coworking_ledgerentry",
    "coworking_customerbalance",
    "invoicing_invoice",
    "invoicing_invoiceline",
    "invoicing_payment",
    "credits_creditnote",
    "credits_creditnoteline",
    "credits_cancellationevent",
    "credits_refund",
    "books_journalentry",
    "books_journalline",
]
SUFFIXED = {
    ("coworking_ledgerentry", "document_number"),
    ("invoicing_invoice", "number"),
    ("invoicing_invoice", "payment_reference"),
    ("credits_creditnote", "number"),
    ("credits_creditnote", "invoice_number"),
}
SOURCES = {
    "invoice": "invoicing_invoice",
    "payment": "invoicing_payment",
    "credit_applied": "invoicing_payment",
    "credit_note": "credits_creditnote",
    "refund": "credits_refund",
}


def columns(cursor, table):
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def foreign_keys(cursor, table):
    """``{column: referenced table}`` of ``table``."""
    cursor.execute(
        """
        SELECT a.attname, c.confrelid::regclass::text
        FROM pg_constraint c JOIN pg_attribute a
          ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND c.conrelid = %s::regclass
        """,
        [table],
    )
    return dict(cursor.fetchall())


def grow(connection, copies: int) -> None:
    with connection.cursor() as cursor:
        offsets = {}
        for table in TABLES:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            offsets[table] = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(sequence_number), 0) FROM invoicing_invoice")
        invoice_numbers = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(sequence_number), 0) FROM credits_creditnote")
        note_numbers = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(number), 0) FROM books_journalentry")
        entry_numbers = cursor.fetchone()[0]
        cursor.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        for table in TABLES:
            names = columns(cursor, table)
            keys = foreign_keys(cursor, table)
            values = []
            for name in names:
                if name == "id":
                    value = f"id + k * {offsets[table]}"
                elif keys.get(name) in offsets:
                    value = f"{name} + k * {offsets[keys[name]]}"
                elif (table, name) in SUFFIXED:
                    value = f"CASE WHEN {name} = '' THEN '' ELSE {name} || '-' || k END"
                elif table == "invoicing_invoice" and name == "sequence_number":
                    value = f"sequence_number + k * {invoice_numbers}"
                elif table == "credits_creditnote" and name == "sequence_number":
                    value = f"sequence_number + k * {note_numbers}"
                elif table == "books_journalentry" and name == "number":
                    value = f"number + k * {entry_numbers}"
                elif table == "books_journalentry" and name == "source":
                    cases = " ".join(
                        f"WHEN split_part(source, ':', 1) = '{kind}' THEN "
                        f"'{kind}:' || (split_part(source, ':', 2)::bigint + k * {offsets[target]})"
                        for kind, target in SOURCES.items()
                    )
                    value = f"CASE {cases} ELSE source || '-' || k END"
                elif name in ("portal_user_id", "submission_token"):
                    value = "NULL"
                else:
                    value = name
                values.append(value)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) "
                f"SELECT {', '.join(values)} FROM {table}, generate_series(1, %s) AS k "
                f"WHERE id <= {offsets[table]}",
                [copies],
            )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("SET session_replication_role = origin")
    connection.commit()


def measure(directory: Path, *arguments: str) -> tuple[float, float, int]:
    """Seconds, peak resident MB (of that process alone, from ``wait4``) and exit status of
    ``manage.py reconcile`` run in ``directory``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", *arguments],
        cwd=directory,
        env={**os.environ, "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "b" * 50)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    for line in output.splitlines():
        if line.startswith("FAIL"):
            print(f"  {line}")
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=0)
    parser.add_argument("--compare", type=Path, help="another checkout, measured first")
    options = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    connection = psycopg2.connect(url)
    if options.copies:
        started = time.perf_counter()
        grow(connection, options.copies)
        print(f"grew by {options.copies} copies in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        counts = {}
        for table in ("invoicing_invoice", "invoicing_invoiceline", "coworking_ledgerentry"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    print(
        "{invoicing_invoice} invoices, {invoicing_invoiceline} lines, "
        "{coworking_ledgerentry} ledger entries".format(**counts)
    )
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    runs = [("this checkout, full", ROOT, ())]
    if options.compare:
        runs.append(("compared checkout, full", options.compare, ()))
    runs.append(("this checkout, --incremental", ROOT, ("--incremental",)))
    results = {}
    for label, directory, arguments in runs:
        seconds, peak, status = measure(directory, *arguments)
        results[label] = (seconds, peak)
        print(f"{label:34} {seconds:8.1f} s  peak RSS {peak:7.0f} MB  exit {status}")
    if options.compare:
        old, new = results["compared checkout, full"], results["this checkout, full"]
        print(
            f"full run, this / compared: time {new[0] / old[0]:.2f}x, peak RSS {new[1] / old[1]:.2f}x"
        )
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
