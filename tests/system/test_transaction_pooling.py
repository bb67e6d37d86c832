"""PgBouncer in transaction pooling mode really pools by transaction (so the concurrency tests
that run through it cannot pass by accident in session mode), and what that means for
session state: what PgBouncer carries from client to client (the time zone Django sets) and
what it does not (a session-level advisory lock, which is why the code takes none)."""

import pytest
from django.db import connection, transaction

from tests.pgbouncer import SINGLE

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid(client) -> int:
    with client.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_pooler_is_in_transaction_mode(pgbouncer):
    config = {row["key"]: row["value"] for row in pgbouncer.admin("SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"
    client = pgbouncer.connect(SINGLE)
    try:
        backend_pid(client)
        pools = {row["database"]: row for row in pgbouncer.admin("SHOW POOLS")}
    finally:
        client.close()
    assert pools[SINGLE]["pool_mode"] == "transaction"


def test_two_connected_clients_take_turns_on_one_server_connection(pgbouncer):
    """The single-backend pool has one server connection. In session mode the second
    client would wait for the first to disconnect; in transaction mode each transaction
    takes it in turn."""
    first, second = pgbouncer.connect(SINGLE), pgbouncer.connect(SINGLE)
    try:
        pids = [backend_pid(first), backend_pid(second), backend_pid(first)]
    finally:
        first.close(), second.close()
    assert len(set(pids)) == 1


def test_djangos_transactions_interleave_with_another_clients_on_one_server(pgbouncer):
    """Django's own connection, routed as ``DATABASE_POOLING=transaction`` routes it: the
    server connection it used for one transaction serves another client's transaction
    while Django stays connected, and the time zone Django set when it connected (a
    session setting PgBouncer tracks and restores per client) survives."""
    other = pgbouncer.connect(SINGLE)
    try:
        with pgbouncer.routed(dbname=SINGLE):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), current_setting('TimeZone')")
                django_pid, django_zone = cursor.fetchone()
            with other.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'America/New_York'")
                cursor.execute("SELECT pg_backend_pid(), current_setting('TimeZone')")
                other_pid, other_zone = cursor.fetchone()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), current_setting('TimeZone')")
                django_again = cursor.fetchone()
            clients = pgbouncer.admin("SHOW CLIENTS")
    finally:
        other.close()

    assert django_pid == other_pid == django_again[0]
    assert (django_zone, other_zone, django_again[1]) == ("UTC", "America/New_York", "UTC")
    assert sum(1 for client in clients if client["database"] == SINGLE) >= 2


def test_a_session_advisory_lock_is_not_a_clients_own_through_the_pooler(pgbouncer):
    """Why the code takes only transaction-scoped locks (``pg_advisory_xact_lock``, ``SELECT
    … FOR UPDATE``): a session lock stays with the server connection, so the next client
    on it holds it too, and two clients both "get" the same lock."""
    first, second = pgbouncer.connect(SINGLE), pgbouncer.connect(SINGLE)
    try:
        with first.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(4242)")
            assert cursor.fetchone()[0] is True
        with second.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(4242)")
            taken_by_second_too = cursor.fetchone()[0]
            cursor.execute("SELECT pg_advisory_unlock_all()")
    finally:
        first.close(), second.close()
    assert taken_by_second_too is True
