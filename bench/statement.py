#!/usr/bin/env python
"""A big customer's year statement PDF: time and peak resident memory of one render, each in
a process of its own (the process's ``ru_maxrss``, from ``wait4``), on a scale database.

    .venv/bin/python bench/statement.py --database cw_scale_10000 [--year 2025]
        [--compare /path/to/other/checkout]

The customer is the scale build's first big one (``var/<database>.meta.json`` or
``var/scale-<N>.meta.json``: pass it with ``--meta``). ``--compare`` runs the same render
from another checkout beside it (its own code, this database)."""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

RENDER = """
import datetime, django, sys
django.setup()
from coworking.models import Customer, LedgerEntry
from invoicing.statements import customer_statement_pdf_bytes
customer = Customer.objects.get(pk=int(sys.argv[1]))
start, end = datetime.date(int(sys.argv[2]), 1, 1), datetime.date(int(sys.argv[2]), 12, 31)
rows = LedgerEntry.objects.filter(customer=customer, document_date__range=(start, end)).count()
data = customer_statement_pdf_bytes(customer=customer, start=start, end=end, today=end)
print(rows, len(data))
"""


def render(checkout: Path, customer: int, year: int, env: dict) -> str:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", RENDER, str(customer), str(year)],
        cwd=checkout,
        env={**env, "PYTHONPATH": str(checkout)},
        stdout=subprocess.PIPE,
        text=True,
    )
    output = process.stdout.read().split()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"the render from {checkout} failed")
    rows, size = output[-2:]
    return (
        f"{elapsed:6.1f} s, peak RSS {usage.ru_maxrss / 1024:4.0f} MiB "
        f"({rows} ledger entries in the year, {int(size) / 2**10:.0f} KiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--meta", type=Path, help="default var/<database>.meta.json")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--compare", type=Path, help="another checkout, rendered beside")
    args = parser.parse_args()
    meta = json.loads((args.meta or ROOT / "var" / f"{args.database}.meta.json").read_text())
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking")
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(urlsplit(base)._replace(path=f"/{args.database}")),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.setdefault("DJANGO_SECRET_KEY", "bench-statement-" + "x" * 40)
    checkouts = {"this checkout": ROOT}
    if args.compare:
        checkouts = {f"{args.compare}": args.compare.resolve(), **checkouts}
    for _ in range(args.repeat):
        for name, checkout in checkouts.items():
            print(f"{name:40} {render(checkout, meta['big'][0], args.year, env)}", flush=True)


if __name__ == "__main__":
    main()
