"""A lost database connection never strands an idempotency key nor loses a response.

Keyed cancels and partial credit notes run in threads while another thread terminates the
app's database backends (``pg_terminate_backend``) at random moments: before, during and
after the work, and between COMMIT and its answer. Then every key is retried: each either
replays the 201 of the work that committed, with its credit note, or runs the work now,
once. Nothing is cancelled or credited twice, no key is left claimed, ``reconcile`` is
clean. The storm is bounded in kills and in time.
"""

import random
import threading
import time
from collections import Counter

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection, connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coworking.models import IdempotencyKey
from credits.models import CreditNote
from credits.reconciliation import reconcile
from invoicing.models import Invoice
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hasher", "reset_throttles"),
]

REQUESTS = 40  # half cancels, half partial credit notes
THREADS = 4
MAX_KILLS = 200
STORM_SECONDS = 30
SPECS = (("Day pass", "5", "25.00", "21"), ("Desk", "1", "300.00", "9"))


def backend_killer(*, spare: int, stop: threading.Event, kills: list) -> None:
    """Terminate the test database's client backends (but ``spare`` and its own) every few
    milliseconds until ``stop``, ``MAX_KILLS`` or ``STORM_SECONDS``."""
    db = connection.settings_dict
    killer = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or None, port=db["PORT"] or None,
        password=db["PASSWORD"] or None,
    )  # fmt: skip
    killer.autocommit = True
    deadline = time.monotonic() + STORM_SECONDS
    try:
        with killer.cursor() as cursor:
            while not stop.is_set() and len(kills) < MAX_KILLS and time.monotonic() < deadline:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid NOT IN (pg_backend_pid(), %s)",
                    [spare],
                )
                pids = [pid for (pid,) in cursor.fetchall()]
                if pids:
                    pid = random.choice(pids)
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    kills.append(pid)
                stop.wait(random.uniform(0.005, 0.04))
    finally:
        killer.close()


def send(client, request):
    key, url, body = request
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_keyed_requests_replay_or_run_once_when_connections_die_mid_request(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "invoice_cancel": "1000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    user = staff_user(credit=True)
    token = Token.objects.create(user=user).key
    customer = CustomerFactory()
    invoices = [issued_invoice(customer=customer, specs=SPECS) for _ in range(REQUESTS)]
    requests = []
    for index, invoice in enumerate(invoices):
        if index % 2:
            line = invoice.lines.get(position=1).pk
            body = {"lines": [{"invoice_line": line, "quantity": "1"}], "reason": "unused"}
            url = f"/api/v1/invoices/{invoice.pk}/credit-notes"
        else:
            body, url = {"reason": "storm"}, f"/api/v1/invoices/{invoice.pk}/cancel"
        requests.append((f"storm-{index}", url, body))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (spare,) = cursor.fetchone()

    first: dict[str, object] = {}  # key -> the first attempt's response, or its exception

    def client_thread(share) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            for request in share:
                try:
                    first[request[0]] = send(client, request)
                except Exception as error:  # the connection died outside the view
                    first[request[0]] = error
                finally:
                    connections.close_all()  # the next request connects afresh
        finally:
            connections.close_all()

    stop, kills = threading.Event(), []
    killer = threading.Thread(
        target=backend_killer, kwargs={"spare": spare, "stop": stop, "kills": kills}
    )
    clients = [
        threading.Thread(target=client_thread, args=(requests[i::THREADS],)) for i in range(THREADS)
    ]
    killer.start()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=STORM_SECONDS + 60)
    stop.set()
    killer.join(timeout=10)
    assert not any(thread.is_alive() for thread in [*clients, killer])
    assert len(first) == REQUESTS

    def outcome(response):
        return getattr(response, "status_code", type(response).__name__)

    first_outcomes = Counter(outcome(response) for response in first.values())
    assert kills, "the storm terminated no backend"
    assert first_outcomes[201] < REQUESTS, f"no request was hit: {first_outcomes}"
    assert set(first_outcomes) <= {201, 503, "OperationalError", "InterfaceError"}, first_outcomes

    # Every key retried, on a healthy database: the stored 201 or the work done now, once.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    replayed = ran_now = 0
    for request, invoice in zip(requests, invoices, strict=True):
        key = request[0]
        retry = send(client, request)
        assert retry.status_code == 201, (key, retry.content)
        notes = list(CreditNote.objects.filter(invoice=invoice))
        assert len(notes) == 1, (key, notes)  # never twice
        assert retry.json()["number"] == notes[0].number
        earlier = first[key]
        if getattr(earlier, "status_code", None) == 201:
            assert retry["Idempotent-Replayed"] == "true"
            assert retry.content == earlier.content
        if retry.get("Idempotent-Replayed") == "true":
            replayed += 1
        else:
            ran_now += 1
        again = send(client, request)
        assert (again.status_code, again.content) == (201, retry.content)
        assert again["Idempotent-Replayed"] == "true"
    assert replayed + ran_now == REQUESTS and ran_now > 0

    cancels = [invoice.pk for invoice in invoices[::2]]
    cancelled = Invoice.objects.filter(pk__in=cancels, state=Invoice.State.CANCELLED).count()
    assert cancelled == len(cancels)
    assert not IdempotencyKey.objects.exclude(status=IdempotencyKey.Status.COMPLETED).exists()
    assert IdempotencyKey.objects.filter(user=user).count() == REQUESTS
    assert {name: found for name, found in reconcile().items() if found} == {}
    call_command("reconcile")
