"""Benchmark of the per-location serial section (not a test). Run: ``make bench-serial``.

All credit notes of one location take their number from one counter row, locked from the
number to the commit. This measures, with **processes** (as gunicorn and Celery run it),
how many credit notes per second one location issues:

  (a) 1 process cancelling N invoices, then 4 processes cancelling N more (each process its
      own share, all released together): the ratio is what the serial section allows;
  (b) the same with partial credit notes (one unit of a line of each invoice), and the SQL
      queries of a partial note and of a cancel at 1 and 20 lines;
  (c) numbers stay gapless and ``reconcile`` stays clean.

Invoices are seeded through the services on a dedicated database (``coworking_bench_serial``
by default). The PDF tasks the notes queue go to Redis db 15 and are purged at the end.
"""

import argparse
import multiprocessing
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_database, make_location, percentile, seed

django_on_bench_database("coworking_bench_serial")

from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from config.celery import app as celery_app  # noqa: E402
from coworking.models import Customer  # noqa: E402
from credits.models import CreditNote  # noqa: E402
from credits.reconciliation import reconcile  # noqa: E402
from credits.services import LineCredit, credit_note_issue, invoice_cancel  # noqa: E402
from invoicing.models import Invoice  # noqa: E402

PROCESSES = 4


def _hold_timer(held: list[float]):
    """An execute wrapper adding to ``held`` how long each transaction kept the credit-note
    counter row: from its upsert's return (the lock granted) to the end of the commit (the
    first ``on_commit`` callback registered after it)."""

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "sequences_sequence" in sql and any(
            str(param).startswith("credit_note:") for param in params or ()
        ):
            taken = time.perf_counter()
            transaction.on_commit(lambda: held.append(time.perf_counter() - taken))
        return result

    return wrapper


def _work(kind: str, invoice_ids: list[int], start, done) -> None:
    """One process: wait for the others, then credit each invoice in its own transaction."""
    connections.close_all()  # never share the parent's connection
    held: list[float] = []
    lines = {}
    if kind == "partial":
        for invoice_id, line_id in Invoice.objects.filter(pk__in=invoice_ids).values_list(
            "pk", "lines__pk"
        ):
            lines.setdefault(invoice_id, line_id)
    start.wait()
    with connection.execute_wrapper(_hold_timer(held)):
        for invoice_id in invoice_ids:
            if kind == "cancel":
                invoice_cancel(invoice=invoice_id, actor=None, channel="system")
            else:
                credit_note_issue(
                    invoice=invoice_id,
                    lines=[LineCredit(lines[invoice_id], Decimal("1"))],
                    actor=None,
                    channel="system",
                )
    done.put((time.perf_counter(), held))
    connections.close_all()


def throughput(kind: str, invoice_ids: list[int], processes: int) -> tuple[float, list[float]]:
    """Credit notes per second, from the release of all processes to the last one done, and
    how long each note's transaction held the counter row (seconds)."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, done = context.Barrier(processes + 1), context.Queue()
    shares = [invoice_ids[i::processes] for i in range(processes)]
    pool = [context.Process(target=_work, args=(kind, share, start, done)) for share in shares]
    for process in pool:
        process.start()
    start.wait()
    began = time.perf_counter()
    results = [done.get(timeout=600) for _ in pool]
    for process in pool:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"a {kind} process failed (exit code {process.exitcode})")
    held = [seconds for _end, times in results for seconds in times]
    return len(invoice_ids) / (max(end for end, _times in results) - began), held


def _locked(captured: CaptureQueriesContext) -> int:
    """The statements from the credit-note counter's upsert to the end of the transaction:
    those run while the location's counter row is locked (the commit comes after them)."""
    for index, query in enumerate(captured.captured_queries):
        if "sequences_sequence" in query["sql"] and "'credit_note:" in query["sql"]:
            return len(captured) - index
    return 0


def queries(owner: Customer) -> dict[str, list[int]]:
    """Statements of a partial note and of a cancel at 1 and 20 lines, then the statements
    of each under the counter's lock."""
    counts = {"partial": [], "cancel": [], "partial locked": [], "cancel locked": []}
    for lines in (1, 20):
        partial, cancelled = seed(owner, 2, lines=lines)
        line_id = Invoice.objects.get(pk=partial).lines.values_list("pk", flat=True).first()
        with CaptureQueriesContext(connection) as captured:
            credit_note_issue(
                invoice=partial, lines=[LineCredit(line_id, Decimal("1"))], actor=None,
                channel="system",
            )  # fmt: skip
        counts["partial"].append(len(captured))
        counts["partial locked"].append(_locked(captured))
        with CaptureQueriesContext(connection) as captured:
            invoice_cancel(invoice=cancelled, actor=None, channel="system")
        counts["cancel"].append(len(captured))
        counts["cancel locked"].append(_locked(captured))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=400, help="credit notes per run (default 400)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each (default 2)")
    args = parser.parse_args()
    owner = make_location("BS")
    started = time.perf_counter()
    rounds = {kind: {1: [], PROCESSES: []} for kind in ("cancel", "partial")}
    held = {kind: {1: [], PROCESSES: []} for kind in ("cancel", "partial")}
    ids = seed(owner, 4 * args.n * args.rounds)
    print(f"seeded {len(ids)} invoices of 5 lines in {time.perf_counter() - started:.1f}s")
    for _round in range(args.rounds):
        for kind in ("cancel", "partial"):
            for processes in (1, PROCESSES):
                batch, ids = ids[: args.n], ids[args.n :]
                rate, times = throughput(kind, batch, processes)
                rounds[kind][processes].append(rate)
                held[kind][processes] += times
    print(f"\none location, {args.n} credit notes per run, {args.rounds} runs each (median):")
    for kind, label in (("cancel", "cancels"), ("partial", "partial notes (1 unit of a line)")):
        one = statistics.median(rounds[kind][1])
        many = statistics.median(rounds[kind][PROCESSES])
        print(
            f"  {label:34} 1 process {one:6.0f}/s   {PROCESSES} processes {many:6.0f}/s   "
            f"-> {many / one:.2f}x (bar: >= 1.5x)"
        )
    print("\nthe counter row held, from the number taken to the commit done (median, p90):")
    for kind, label in (("cancel", "cancels"), ("partial", "partial notes")):
        cells = [
            f"{processes} process{'es' if processes > 1 else ''} "
            f"{statistics.median(held[kind][processes]) * 1000:5.2f} ms "
            f"({percentile(held[kind][processes], 0.9) * 1000:5.2f})"
            for processes in (1, PROCESSES)
        ]
        print(f"  {label:34} {cells[0]}   {cells[1]}")
    counts = queries(owner)
    print(
        f"\nSQL queries: partial note {counts['partial'][0]} at 1 line, {counts['partial'][1]} "
        f"at 20 lines; cancel {counts['cancel'][0]} at 1 line, {counts['cancel'][1]} at 20"
    )
    print(
        "  of which from the credit-note number to the commit (the counter row locked): "
        f"partial note {counts['partial locked'][0]} at 1 line, "
        f"{counts['partial locked'][1]} at 20; cancel {counts['cancel locked'][0]} at 1 line, "
        f"{counts['cancel locked'][1]} at 20"
    )
    numbers = list(
        CreditNote.objects.filter(location=owner.location)
        .order_by("sequence_number")
        .values_list("sequence_number", flat=True)
    )
    gapless = numbers == list(range(1, len(numbers) + 1))
    print(f"credit-note numbers: {len(numbers)}, 1..N without gaps: {gapless}")
    breaches = {name: found for name, found in reconcile().items() if found}
    print(f"reconcile: {breaches if breaches else 'clean'}")
    celery_app.control.purge()


if __name__ == "__main__":
    main()
