"""A dependency that only protects fails open; work whose dependency is down is a 503.

The throttle counters live in Redis (which is also the broker): a Redis of the test's own
is stopped or frozen in the middle of the test, and API cancels keep working. A database
that goes away gives 503s (problem+json under the API), never a 500.
"""

import logging
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client

from credits.models import CreditNote
from invoicing.models import Invoice
from tests.conftest import broker_unreachable
from tests.factories import issued_invoice, staff_user
from tests.faults import RedisServer, database_unreachable
from tests.helpers import assert_problem, messages_of, post_action

pytestmark = pytest.mark.usefixtures("fast_password_hasher")


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis of the test's own as the cache (throttle counters) and the broker."""
    server = RedisServer(tmp_path).start()
    cache = django_settings.CACHES["default"]
    settings.CACHES = {"default": {**cache, "LOCATION": server.url}}
    try:
        with broker_unreachable(server.url):
            yield server
    finally:
        server.stop()


def cancel(client, invoice):
    return client.post(f"/api/v1/invoices/{invoice.pk}/cancel", {}, format="json")


def test_api_cancels_go_on_when_the_throttle_cache_goes_down(
    transactional_db, own_redis, api_client, caplog
):
    client = api_client(staff_user())
    before, after = issued_invoice(), issued_invoice()
    assert cancel(client, before).status_code == 201  # counted in the test's Redis

    own_redis.stop()
    with caplog.at_level(logging.WARNING):
        response = cancel(client, after)

    assert response.status_code == 201, response.content
    assert Invoice.objects.get(pk=after.pk).state == Invoice.State.CANCELLED
    assert "cache is unavailable" in caplog.text  # failed open, and said so
    # The broker was down too: the PDF waits for the sweep.
    assert CreditNote.objects.get(invoice=after).pdf_status == CreditNote.PdfStatus.PENDING


def test_a_hung_throttle_cache_delays_a_cancel_by_its_timeout_only(
    transactional_db, own_redis, api_client
):
    client = api_client(staff_user())
    invoice = issued_invoice()
    own_redis.freeze()
    with broker_unreachable():  # a refused broker: this test is about the cache
        started = time.monotonic()
        response = cancel(client, invoice)
        elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 3  # two cache timeouts of 0.25 s, and the cancel itself


def test_a_hung_broker_costs_an_admin_bulk_one_short_timeout(transactional_db, own_redis, client):
    """25 cancels, each publishing its PDF task after commit: the first publish waits its
    half-second timeout, the others skip the broker that just failed (the sweep renders)."""
    invoices = [issued_invoice() for _ in range(25)]
    client.force_login(staff_user())
    own_redis.freeze()

    started = time.monotonic()
    response = post_action(client, invoices, post="yes", follow=True)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 8, elapsed  # not 25 x the broker's 3 s socket timeout
    assert messages_of(response)[0][1].startswith("Cancelled 25 invoices;")
    assert len(messages_of(response)) == 1  # nothing skipped, failed or left out
    notes = CreditNote.objects.filter(invoice__in=invoices)
    assert notes.count() == 25
    assert set(notes.values_list("pdf_status", flat=True)) == {CreditNote.PdfStatus.PENDING}


def test_the_throttle_still_limits_while_its_cache_is_up(
    transactional_db, own_redis, api_client, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"invoice_cancel": "1/minute"},
    }
    client = api_client(staff_user())
    first, second = issued_invoice(), issued_invoice()
    assert cancel(client, first).status_code == 201
    assert_problem(cancel(client, second), 429, "throttled")
    states = dict(Invoice.objects.values_list("pk", "state"))
    assert (states[first.pk], states[second.pk]) == (Invoice.State.CANCELLED, Invoice.State.ISSUED)


def test_a_throttle_check_is_one_redis_round_trip(transactional_db, own_redis, api_client):
    """Window pruned, requests counted and this one recorded by one atomic script (DRF's own
    throttle reads the history and writes it back: two round trips, and a race)."""
    user = staff_user()
    client = api_client(user)
    assert cancel(client, issued_invoice()).status_code == 201  # the script is now loaded
    stats = redis.Redis.from_url(own_redis.url)
    stats.config_resetstat()
    assert client.get("/api/v1/me").status_code == 200  # the read throttle
    assert cancel(client, issued_invoice()).status_code == 201  # the cancel throttle
    commands = stats.info("commandstats")
    assert commands["cmdstat_evalsha"]["calls"] == 2
    assert not {"cmdstat_get", "cmdstat_set", "cmdstat_eval"} & set(commands)
    # Both cancels are in the window, as a sorted set of their times.
    assert stats.zcard(f"cw:1:throttle_log_invoice_cancel_{user.pk}") == 2


def test_a_database_that_goes_away_is_a_503_never_a_500(transactional_db, api_client):
    api = api_client(staff_user())
    admin = Client(raise_request_exception=False)
    admin.force_login(staff_user())
    invoice = issued_invoice()

    with database_unreachable():
        api_response = api.get("/api/v1/me")
        admin_response = admin.get("/admin/invoicing/invoice/")
        api_cancel = cancel(api, invoice)

    assert_problem(api_response, 503, "unavailable")
    assert api_response["Retry-After"]
    assert_problem(api_cancel, 503, "unavailable")
    assert admin_response.status_code == 503
    assert admin_response["Retry-After"]
    assert "unavailable" in admin_response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED


def test_read_throttles_fail_open_too(transactional_db, own_redis, api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"read": "2/minute"},
    }
    user = staff_user()
    client = api_client(user)
    assert [client.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    assert client.get("/api/v1/me").status_code == 429
    own_redis.stop()
    response = client.get("/api/v1/me")  # no counter to check: let it through
    assert response.status_code == 200 and response.json()["username"] == user.username
