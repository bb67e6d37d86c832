"""Delivering one event to one endpoint: claim, sign, send, record, retry.

Each attempt is three steps so that no database transaction stays open during the HTTP
request:

1. ``delivery_claim`` takes the delivery if it is pending, due, its endpoint active and no
   other worker holds it (a lease of ``WEBHOOKS_TIMEOUT + WEBHOOKS_LEASE_MARGIN`` seconds),
   and records the attempt as started;
2. ``send`` re-checks the URL (DNS rebinding), signs the stored body with the
   ``standardwebhooks`` library and POSTs it to the checked address, never following a
   redirect and reading at most ``WEBHOOKS_RESPONSE_MAX_BYTES`` of the answer;
3. ``delivery_record`` records the outcome: a 2xx is delivered; anything else is retried
   after the next delay of ``WEBHOOKS_RETRY_SCHEDULE`` (with ±``WEBHOOKS_RETRY_JITTER``),
   and once the schedule is spent the delivery is ``failed``. An endpoint failing
   continuously for ``WEBHOOKS_DISABLE_AFTER`` seconds is deactivated.

The ``webhook-id`` is the event id on every attempt; the ``webhook-timestamp`` is the time of
the attempt (receivers refuse stale timestamps). A worker that dies mid-attempt leaves its
attempt unfinished and its lease running out; the sweep (``deliveries_queue_due``) queues
the delivery again then, so every event is delivered at least once.
"""

import datetime
import logging
import random
import time
from dataclasses import dataclass

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from coworking.locking import lock_rows
from coworking.queue import enqueue
from webhooks.errors import DeliveryNotFound, UnsafeEndpointUrl
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.safety import Target, endpoint_url_check

logger = logging.getLogger(__name__)

USER_AGENT = "coworking-webhooks/1"
QUEUE_BATCH = 1000


@dataclass(frozen=True)
class Claim:
    """What a worker needs for one attempt, read when it claimed the delivery."""

    delivery_id: int
    attempt_id: int
    number: int
    event_id: str
    body: str
    url: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str = ""
    excerpt: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signing_secrets(*, endpoint: Endpoint, now: datetime.datetime) -> tuple[str, ...]:
    """The secrets that sign for ``endpoint`` now: its current one, and the previous one
    during the overlap after a rotation."""
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


def signature_header(*, secrets: tuple[str, ...], msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per secret, space-separated."""
    when = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return " ".join(Webhook(secret).sign(msg_id, when, body) for secret in secrets)


def delivery_claim(*, delivery_id: int) -> Claim | None:
    """Take the delivery for one attempt and record the attempt as started; ``None`` when
    there is nothing to do now (delivered, failed, not due yet, endpoint inactive, or another
    worker holds it). An earlier attempt left unfinished by a dead worker is marked so."""
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.WEBHOOKS_TIMEOUT + settings.WEBHOOKS_LEASE_MARGIN)
    with transaction.atomic():
        delivery = (
            lock_rows(Delivery.objects.select_related("event", "endpoint"), skip_locked=True)
            .filter(
                Q(leased_until__isnull=True) | Q(leased_until__lt=now),
                pk=delivery_id,
                status=Delivery.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts.filter(finished_at__isnull=True, error="").update(
            error=_("Interrupted: the worker stopped before the attempt finished.")
        )
        delivery.attempt_count += 1
        delivery.leased_until = now + lease
        delivery.last_attempt_at = now
        delivery.save(update_fields=["attempt_count", "leased_until", "last_attempt_at"])
        attempt = Attempt.objects.create(
            delivery=delivery, number=delivery.attempt_count, started_at=now
        )
    return Claim(
        delivery_id=delivery.pk,
        attempt_id=attempt.pk,
        number=attempt.number,
        event_id=str(delivery.event_id),
        body=delivery.event.body,
        url=delivery.endpoint.url,
        secrets=signing_secrets(endpoint=delivery.endpoint, now=now),
    )


def _post(*, target: Target, body: bytes, headers: dict) -> tuple[int, bytes]:
    """POST to the checked address (TLS still verifies the host name), no redirects, no
    retries; read at most ``WEBHOOKS_RESPONSE_MAX_BYTES`` within ``WEBHOOKS_TIMEOUT``."""
    timeout = settings.WEBHOOKS_TIMEOUT
    deadline = time.monotonic() + timeout
    options = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            cap, received = settings.WEBHOOKS_RESPONSE_MAX_BYTES, bytearray()
            while len(received) < cap and time.monotonic() < deadline:
                chunk = response.read(min(8192, cap - len(received)))
                if not chunk:
                    break
                received += chunk
        finally:
            response.close()
    return response.status, bytes(received)


def send(*, claim: Claim) -> Outcome:
    """Make the HTTP request of one attempt; never raises: every failure is an outcome."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target = endpoint_url_check(url=claim.url)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": claim.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                secrets=claim.secrets, msg_id=claim.event_id, timestamp=timestamp, body=claim.body
            ),
        }
        status, content = _post(target=target, body=claim.body.encode(), headers=headers)
    except UnsafeEndpointUrl as error:
        return Outcome(None, elapsed(), error=_("Refused: %(reason)s") % {"reason": error.message})
    except Exception as error:  # network errors, TLS, timeouts: all retried
        return Outcome(None, elapsed(), error=f"{type(error).__name__}: {error}"[:500])
    excerpt = content[: settings.WEBHOOKS_RESPONSE_EXCERPT_BYTES].decode(errors="replace")
    error = "" if 200 <= status < 300 else _("HTTP %(status)s") % {"status": status}
    return Outcome(status, elapsed(), error=error, excerpt=excerpt)


def _retry_delay(*, failures: int) -> float | None:
    """Seconds until the next attempt after ``failures`` failed ones, or ``None`` when the
    schedule is spent."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if failures > len(schedule):
        return None
    jitter = settings.WEBHOOKS_RETRY_JITTER
    return schedule[failures - 1] * random.uniform(1 - jitter, 1 + jitter)


def _endpoint_failed(*, endpoint_id: int, now: datetime.datetime) -> None:
    """Start the endpoint's run of failures, or deactivate it once the run is long enough.
    Conditional updates: concurrent failures need no lock."""
    Endpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(failing_since=now)
    cutoff = now - datetime.timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER)
    if Endpoint.objects.filter(pk=endpoint_id, is_active=True, failing_since__lte=cutoff).update(
        is_active=False, disabled_at=now
    ):
        logger.warning(
            "Webhook endpoint %s has failed continuously since before %s: disabled.",
            endpoint_id,
            cutoff,
        )


def delivery_record(*, claim: Claim, outcome: Outcome) -> float | None:
    """Record the outcome of the claimed attempt and schedule what follows; return the
    delay in seconds when the retry should be queued now (a short one), else ``None`` (the
    delivery is done or failed, or its retry is far enough for the sweep to queue)."""
    now = timezone.now()
    with transaction.atomic():
        Attempt.objects.filter(pk=claim.attempt_id).update(
            finished_at=now,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            succeeded=outcome.succeeded,
            error=outcome.error[:500],
            response_excerpt=outcome.excerpt,
        )
        delivery = lock_rows(Delivery.objects.all()).get(pk=claim.delivery_id)
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error[:500]
        delivery.leased_until = None
        queue_in = None
        if outcome.succeeded:
            delivery.status = Delivery.Status.DELIVERED
            delivery.delivered_at = now
            Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
                failing_since=None
            )
        else:
            delay = _retry_delay(failures=delivery.attempt_count - delivery.round_offset)
            if delay is None:
                delivery.status = Delivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + datetime.timedelta(seconds=delay)
                if delay <= settings.WEBHOOKS_QUEUE_RETRIES_UP_TO:
                    delivery.queued_at, queue_in = delivery.next_attempt_at, delay
                else:
                    delivery.queued_at = None  # the sweep queues it when it is due
            _endpoint_failed(endpoint_id=delivery.endpoint_id, now=now)
        delivery.save(
            update_fields=[
                "status",
                "delivered_at",
                "next_attempt_at",
                "queued_at",
                "leased_until",
                "last_status_code",
                "last_error",
            ]
        )
    return queue_in


def delivery_attempt(*, delivery_id: int) -> float | None:
    """One attempt of one delivery, start to end (the task's body); returns the delay of
    the retry to queue now, if any."""
    claim = delivery_claim(delivery_id=delivery_id)
    if claim is None:
        return None
    outcome = send(claim=claim)
    if not outcome.succeeded:
        logger.info("Webhook delivery %s, attempt %s: %s", delivery_id, claim.number, outcome.error)
    return delivery_record(claim=claim, outcome=outcome)


def queue_deliveries(*, delivery_ids, countdown: float | None = None) -> int:
    """Hand deliveries to the broker; those it refuses are left for the sweep. Returns how
    many were queued."""
    if countdown and settings.CELERY_TASK_ALWAYS_EAGER:
        # In-process tasks (the embedded demo) would retry at once, not later: leave it to a
        # worker's sweep.
        Delivery.objects.filter(pk__in=delivery_ids).update(queued_at=None)
        return 0
    refused = [
        delivery_id
        for delivery_id in delivery_ids
        if not enqueue(
            "webhooks.deliver",
            delivery_id,
            countdown=countdown,
            if_down="The webhooks sweep will queue it.",
        )
    ]
    if refused:
        Delivery.objects.filter(pk__in=refused).update(queued_at=None)
    return len(delivery_ids) - len(refused)


def deliveries_queue_due() -> int:
    """The sweep's half for deliveries: queue those due and not in a worker's hands — never
    queued (broker down, retry too far for a countdown), queued but not picked up for
    ``WEBHOOKS_REQUEUE_AFTER`` seconds, or whose worker's lease ran out (it died). Queuing
    one twice is harmless: only one worker can claim it."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.WEBHOOKS_REQUEUE_AFTER)
    due = Delivery.objects.filter(
        Q(leased_until__lt=now)
        | Q(leased_until__isnull=True, queued_at__isnull=True)
        | Q(leased_until__isnull=True, queued_at__lt=stale),
        status=Delivery.Status.PENDING,
        endpoint__is_active=True,
        next_attempt_at__lte=now,
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:QUEUE_BATCH])
    Delivery.objects.filter(pk__in=ids).update(queued_at=now)
    return queue_deliveries(delivery_ids=ids)


def delivery_send_again(*, delivery: Delivery | int) -> Delivery:
    """Send one delivery again, whatever its status: pending and due now, with a fresh
    retry schedule, the same event id and body. Queued after commit."""
    delivery_id = delivery.pk if isinstance(delivery, Delivery) else delivery
    now = timezone.now()
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.PENDING,
            round_offset=F("attempt_count"),
            next_attempt_at=now,
            queued_at=now,
            delivered_at=None,
        )
        if not updated:
            raise DeliveryNotFound()
        transaction.on_commit(lambda: queue_deliveries(delivery_ids=[delivery_id]), robust=True)
    return Delivery.objects.get(pk=delivery_id)


def endpoint_send_again_failed(*, endpoint: Endpoint) -> int:
    """Send again every failed delivery of ``endpoint`` (see ``delivery_send_again``);
    return how many."""
    now = timezone.now()
    with transaction.atomic():
        failed = lock_rows(
            Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.FAILED)
        )
        ids = list(failed.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.PENDING,
            round_offset=F("attempt_count"),
            next_attempt_at=now,
            queued_at=now,
        )
        transaction.on_commit(lambda: queue_deliveries(delivery_ids=ids), robust=True)
    return len(ids)
