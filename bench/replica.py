"""A real streaming standby, tried once: ``DATABASE_URL`` (the primary, with data, e.g. the
demo) and ``DATABASE_REPLICA_URL`` (its hot standby) set, then
``.venv/bin/python bench/replica.py``. How to make such a pair on one machine:
docs/operations.md, "A real standby, tried on one machine". Not run by CI.

Prints: that the replica is a standby; how long a committed write takes to become visible
there (``--writes`` commits, p50/p95/max); for every location's journal export (each format,
the year to date) and every customer's statement, that the replica gives the same bytes as
the primary and how many queries went to each; that the standby refuses a write, and that an
object read from it is saved to the primary.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.db.utils import InternalError  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from books.exports import Format, journal_export  # noqa: E402
from coworking.models import Customer, Location  # noqa: E402
from invoicing.statements import customer_statement  # noqa: E402


def scalar(alias: str, sql: str, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def visibility_lag(writes: int) -> list[float]:
    """Seconds from a write's commit on the primary until a read on the replica sees it."""
    lags = []
    for n in range(writes):
        key = f"bench-replica-{os.getpid()}-{n}"
        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_session (session_key, session_data, expire_date) "
                "VALUES (%s, '', now())",
                [key],
            )
        committed = time.perf_counter()
        while not scalar(
            "replica", "SELECT count(*) FROM django_session WHERE session_key = %s", [key]
        ):
            time.sleep(0.0005)
        lags.append(time.perf_counter() - committed)
        with connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM django_session WHERE session_key = %s", [key])
    return lags


def counted(function):
    """``function()``'s result and the number of queries each database received."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        result = function()
    return result, len(primary.captured_queries), len(replica.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    options = parser.parse_args()
    if "replica" not in settings.DATABASES:
        sys.exit("Set DATABASE_REPLICA_URL to the standby of DATABASE_URL.")
    if not Customer.objects.exists():
        sys.exit("The primary has no customers: seed it first (manage.py seed_demo).")
    print(
        f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
    )
    print(
        "primary in recovery:", scalar("default", "SELECT pg_is_in_recovery()"),
        "| replica in recovery:", scalar("replica", "SELECT pg_is_in_recovery()"),
    )  # fmt: skip

    lags = sorted(visibility_lag(options.writes))
    p95 = lags[int(len(lags) * 0.95) - 1]
    print(
        f"write visible on the replica after commit ({len(lags)} writes): "
        f"p50 {statistics.median(lags) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, "
        f"max {lags[-1] * 1000:.2f} ms"
    )

    today = timezone.localdate()
    start = datetime.date(today.year, 1, 1)
    reports = [
        lambda location=location, format=format: b"".join(
            journal_export(location=location, format=format, start=start, end=today).chunks
        )
        for location in Location.objects.order_by("pk")
        for format in Format.values
    ] + [
        lambda customer=customer: repr(
            customer_statement(customer=customer, start=start, end=today)
        )
        for customer in Customer.objects.order_by("pk")
    ]
    same, on_primary, on_replica = 0, 0, 0
    for report in reports:
        with override_settings(REPORTING_DATABASE="default"):
            expected = report()
        with override_settings(REPORTING_DATABASE="replica"):
            got, primary_queries, replica_queries = counted(report)
        same += got == expected
        on_primary += primary_queries
        on_replica += replica_queries
    print(
        f"{len(reports)} reports (journal exports of every location and format, every customer's "
        f"statement): {same} identical on the replica; queries: {on_replica} to the replica, "
        f"{on_primary} to the primary"
    )

    customer = Customer.objects.using("replica").order_by("pk").first()
    try:
        Customer.objects.using("replica").filter(pk=customer.pk).update(
            billing_name=customer.billing_name
        )
        print("the standby accepted a write: NOT a standby")
    except InternalError as error:
        print("the standby refuses a write:", str(error).strip().splitlines()[0])
    _, primary_queries, replica_queries = counted(
        lambda: customer.save(update_fields=["billing_name"])
    )
    print(
        f"an object read from the replica, saved: {primary_queries} query to the primary, "
        f"{replica_queries} to the replica"
    )


if __name__ == "__main__":
    main()
