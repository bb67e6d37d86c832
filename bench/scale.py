#!/usr/bin/env python
"""Scale benchmark: the request paths, services and batch jobs on a database of N invoices.

``make bench-scale SIZE=100000`` (or ``.venv/bin/python bench/scale.py --size 100000``):

1. Builds ``cw_scale_<N>`` on the server of ``DATABASE_URL`` (dropped and made afresh):
   locations, customers, a few big customers with ``--big-size`` invoices each, and N
   invoices of five lines in five shapes (unpaid, partly paid, paid, cancelled, partly
   credited) with their payments, credit notes, ledger entries, journal entries and balance
   rows, in bulk SQL with every constraint and trigger on (``bench/_scale_build.py`` says
   how). ``--reuse`` measures a database built before (its ids are kept in var/).
2. Times, ``--repeat`` times each (p50/p95): the admin's invoice list (default, filtered,
   searched), an invoice page, a big customer's page and year statement PDF, the API lists
   (a member's, staff's filtered, page 1 and deep), through Django's test client; issue,
   partial credit and cancel for a big and a new customer, alternating
   (``bench/_scale_measure.py``).
3. Runs ``reconcile`` (time, peak RSS), 1,000 e-invoice checks and a year's FEC export
   (``--no-jobs`` skips them, to time the request paths alone).
4. With ``--memory``: the resident size of a gunicorn worker after serving lists and a
   statement PDF, and of a Celery worker after rendering PDFs (``bench/_scale_memory.py``).

It prints a table; ``--compare FILE`` adds the ratio to an earlier run's results (the JSON it
writes to var/scale-<N>.json), e.g. 1M against 10k. ``--smoke`` (CI): a quick run that fails
unless the built database reconciles and every measured path answers 200.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, django_on_bench_database

VAR = ROOT / "var"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="invoices (default 10,000)")
    parser.add_argument("--locations", type=int, help="default: 10 at 10k, 100 from 100k")
    parser.add_argument("--big", type=int, help="big customers (default 1 at 10k, else 3)")
    parser.add_argument("--big-size", type=int, default=5000, help="invoices of each big one")
    parser.add_argument("--repeat", type=int, default=15, help="timings per path (default 15)")
    parser.add_argument("--reuse", action="store_true", help="measure the database built before")
    parser.add_argument("--memory", action="store_true", help="gunicorn and Celery worker RSS")
    parser.add_argument("--compare", type=Path, help="an earlier run's var/scale-<N>.json")
    parser.add_argument("--smoke", action="store_true", help="CI: few repeats, fail on errors")
    parser.add_argument("--database", help="its name (default cw_scale_<SIZE>)")
    parser.add_argument("--build-only", action="store_true", help="build, measure nothing")
    parser.add_argument(
        "--no-jobs", action="store_true", help="skip reconcile, e-invoice checks and the FEC"
    )
    parser.add_argument(
        "--jobs-only", action="store_true", help="only those (to var/<name>.jobs.json)"
    )
    args = parser.parse_args()
    if args.smoke:  # each path once; a month's statement (a year's takes a minute or more)
        args.repeat = 1
        args.no_jobs = args.jobs_only = False
    locations = args.locations or (10 if args.size < 100_000 else 100)
    big = args.big or (1 if args.size < 100_000 else 3)
    url = _database_url(args.database or f"cw_scale_{args.size}")
    os.environ["DATABASE_URL"] = url
    stem = args.database or f"scale-{args.size}"
    meta_file = VAR / f"{stem}.meta.json"
    print(f"scale bench: {args.size:,} invoices, database {urlsplit(url).path[1:]}")
    print(f"load average at start: {_load()}")
    if args.reuse and meta_file.exists():
        _django_setup()
        meta = json.loads(meta_file.read_text())
        print(f"reusing the database built with {meta}")
    else:
        meta = _build(args.size, locations, big, args.big_size, meta_file)
    if args.build_only:
        return
    if args.jobs_only:
        _jobs_only(args, meta, url, stem)
        return
    from _scale_measure import batch_jobs, prepare_users, request_paths, services

    prepare_users(meta=meta)
    results: dict[str, list[float]] = {}
    print(f"\nrequest paths ({args.repeat} each, ms), load {_load()}")
    timings = request_paths(
        meta=meta, repeat=args.repeat, statement_start="2025-12-01" if args.smoke else "2025-01-01"
    )
    jobs = dict(timings.notes)
    timings.samples.update(services(meta=meta, repeat=args.repeat).samples)
    for name in timings.samples:
        results[name] = list(timings.row(name))
    if not args.no_jobs:
        print(f"batch jobs, load {_load()}")
        jobs.update(
            batch_jobs(
                meta=meta, database_url=url, env=_child_env(), checks=200 if args.smoke else 1000
            )
        )
    if args.memory:
        jobs.update(_memory(meta))
    record = {
        "size": args.size,
        "load_at_end": _load(),
        "meta": meta,
        "timings": results,
        "jobs": {k: v for k, v in jobs.items() if k != "reconcile_output"},
    }
    VAR.mkdir(exist_ok=True)
    (VAR / f"{stem}.json").write_text(json.dumps(record, indent=1))
    earlier = json.loads(args.compare.read_text()) if args.compare else None
    _print_table(record, earlier)
    if args.smoke and not jobs["reconcile_ok"]:
        print(jobs.get("reconcile_output", ""))
        sys.exit("smoke: the built database does not reconcile")
    if args.smoke and not jobs["einvoices_ok"]:
        sys.exit("smoke: an e-invoice of the built database has fatal findings")


def _jobs_only(args, meta: dict, url: str, stem: str) -> None:
    from _scale_measure import batch_jobs

    print(f"batch jobs, load {_load()}")
    jobs = batch_jobs(meta=meta, database_url=url, env=_child_env(), checks=1000)
    output = jobs.pop("reconcile_output", "")
    record = {"size": args.size, "load_at_end": _load(), "meta": meta, "jobs": jobs}
    VAR.mkdir(exist_ok=True)
    (VAR / f"{stem}.jobs.json").write_text(json.dumps(record, indent=1))
    print(f"\n{args.size:,} invoices (load at end {record['load_at_end']})")
    for name, value in jobs.items():
        print(f"{name:32} {value}")
    if not jobs["reconcile_ok"]:
        print(output)


def _database_url(name: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking")
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def _child_env() -> dict:
    return {
        key: os.environ[key]
        for key in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")
        if key in os.environ
    } | {"LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "0"}


def _django_setup() -> None:
    import secrets

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    import django

    django.setup()


def _build(size, locations, big, big_size, meta_file) -> dict:
    started = time.perf_counter()
    django_on_bench_database(urlsplit(os.environ["DATABASE_URL"]).path[1:])
    from _scale_build import build

    print(f"building: {locations} locations, {big} big customers of {big_size:,} invoices")
    meta = build(
        invoices=size,
        locations=locations,
        big_customers=big,
        big_size=min(big_size, size // (big + 1)),
        log=lambda line: print(line, flush=True),
    )
    meta["build_seconds"] = round(time.perf_counter() - started, 1)
    meta["build_load"] = _load()
    VAR.mkdir(exist_ok=True)
    meta_file.write_text(json.dumps(meta))
    print(f"built in {meta['build_seconds']} s (load {meta['build_load']})")
    return meta


def _memory(meta: dict) -> dict:
    from _scale_memory import celery_worker_rss, web_worker_rss

    from coworking.models import Customer
    from invoicing.models import Invoice

    big = Customer.objects.get(pk=meta["big"][0])
    invoice = Invoice.objects.filter(customer=big).order_by("-id").first()
    paths = [
        "/admin/invoicing/invoice/",
        "/admin/invoicing/invoice/?state__exact=issued",
        f"/admin/invoicing/invoice/{invoice.pk}/change/",
        f"/admin/coworking/customer/{big.pk}/change/",
        f"/admin/coworking/customer/{big.pk}/statement/?start=2025-01-01&end=2025-12-31",
        "/admin/credits/creditnote/",
    ]
    ids = list(
        Invoice.objects.filter(customer=big)
        .exclude(pdf_status="ready")
        .values_list("pk", flat=True)[:20]
    )
    from _scale_measure import pending_statement

    web = web_worker_rss(env=_child_env(), paths=paths, rounds=5)
    statement = pending_statement(big, (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)))
    return {
        "gunicorn worker RSS": web,
        "Celery worker RSS": celery_worker_rss(
            env=_child_env(), invoice_ids=ids, statement_id=statement.pk
        ),
    }


def _load() -> str:
    return (
        subprocess.run(["uptime"], capture_output=True, text=True)
        .stdout.split("load average:")[-1]
        .strip()
    )


def _print_table(record: dict, earlier: dict | None) -> None:
    size = record["size"]
    head = f"{'':42} {'p50 ms':>9} {'p95 ms':>9}"
    if earlier:
        head += f"   {'p50 vs ' + format(earlier['size'], ','):>14}"
    print(f"\n{size:,} invoices (load at end {record['load_at_end']})\n{head}")
    timings = record["timings"]
    for name, (p50, p95) in timings.items():
        line = f"{name:42} {p50:9.1f} {p95:9.1f}"
        before = earlier and earlier["timings"].get(name)
        if before:
            line += f"   {p50 / before[0]:13.2f}x"
        print(line)
    print("\nbig customer vs new customer (p50, same run):")
    for operation in ("issue", "partial credit", "cancel"):
        big, new = timings[f"{operation} (big)"][0], timings[f"{operation} (new)"][0]
        print(f"  {operation:16} {big:7.1f} / {new:7.1f} ms = {big / new:.2f}x")
    print()
    for name, value in record["jobs"].items():
        if not name.endswith("_ok"):
            print(f"{name:32} {value}")


if __name__ == "__main__":
    main()
