"""Run callables in real threads, each with its own PostgreSQL connection."""

import threading
from collections.abc import Callable, Sequence

from django.db import connection, connections


def run_in_threads(calls: Sequence[Callable[[], object]], *, threads: int) -> list[object]:
    """Run ``calls`` on ``threads`` threads released together; return results or exceptions
    in call order. Every thread closes its database connection when done."""
    results: list[object] = [None] * len(calls)
    start = threading.Barrier(threads)
    chunks = [list(range(i, len(calls), threads)) for i in range(threads)]

    def worker(indexes: list[int]) -> None:
        try:
            start.wait(timeout=30)
            for index in indexes:
                try:
                    results[index] = calls[index]()
                except Exception as error:  # collected and asserted on by the test
                    results[index] = error
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=300)
        assert not thread.is_alive(), "a worker thread hung (deadlock?)"
    return results


def backend_pid() -> int:
    """The PostgreSQL backend of this thread's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def waits_for_a_lock(pid: int) -> bool:
    """Whether backend ``pid`` waits for a lock (``pg_locks`` is live, unlike the
    per-transaction snapshot of ``pg_stat_activity``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone() is not None
