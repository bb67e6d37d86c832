"""Idempotency keys: a POST sent twice with the same key does its work once.

The rules (the API contract, see the ``Idempotency-Key`` header in the OpenAPI schema):

- A key is chosen by the client (1 to 255 printable ASCII characters, e.g. a UUID) and is
  scoped to the authenticated user: two users never share a key.
- The request's work and its stored response commit together, in one transaction, or not at
  all (Stripe's "atomic phases"): ``idempotency_key_begin`` runs first in that transaction
  and takes a transaction-level advisory lock on (user, key), the claim; the work follows;
  ``idempotency_key_complete`` writes the response last (on SQLite, the embedded default,
  the database's write lock, taken when the transaction begins, is the claim). A connection lost or a process
  killed at any point rolls back the work and the claim together, and PostgreSQL releases
  the lock with the transaction: the retry either replays the committed response or runs
  the work, once. No key is ever left claimed by a request that is gone.
- A later request with the same key and the same request (method, path and body) gets the
  stored response replayed, byte for byte; with another request it gets
  ``idempotency_key_reused`` (422); while the first is still running (its lock held) it
  gets ``idempotency_key_in_use`` (409) at once.
- Errors that did no work are not stored (the caller rolls its transaction back): server
  errors (5xx, unhandled exceptions) and errors about the request itself (unparsable body,
  wrong media type, invalid fields, unknown id), so the client can retry, corrected, with
  the same key. A refusal by the operation (e.g. ``invoice_already_cancelled``) is its
  outcome: stored.
- Keys expire 24 hours after they were stored: an expired key is claimed afresh, and the
  periodic task ``coworking.purge_idempotency_keys`` deletes expired rows.
"""

import datetime
import hashlib
import json
import re
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from coworking.errors import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused
from coworking.models import IdempotencyKey

KEY_TTL = datetime.timedelta(hours=24)
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class StoredResponse:
    """A completed request's response, to be replayed as it was."""

    status: int
    body: str
    headers: dict


@dataclass(frozen=True)
class Claim:
    """A key claimed by the current transaction (its advisory lock is held until it ends)."""

    user_id: int
    key: str
    request_hash: str
    claimed_at: datetime.datetime


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 of method, path and body; a JSON body is canonicalised first.

    Canonical JSON (sorted keys, no insignificant whitespace) means the same JSON document
    sent with other formatting is the same request. A body that is not JSON (or nests too
    deeply to parse) is hashed as it is.
    """
    try:
        parsed = json.loads(body) if body else None
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _lock_id(*, user_id: int, key: str) -> int:
    """The advisory lock of (user, key): 64 bits of its SHA-256, as PostgreSQL's bigint."""
    digest = hashlib.sha256(f"idempotency-key\0{user_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def idempotency_key_begin(
    *, user, key: str, request_hash: str, now: datetime.datetime | None = None
) -> Claim | StoredResponse:
    """Claim ``key`` for ``user`` in the current transaction, or return the response to replay.

    Must run inside the transaction that does the work (``transaction.atomic()``), before
    it. Raises ``IdempotencyKeyInvalid``, ``IdempotencyKeyReused`` (same key, other request)
    or ``IdempotencyKeyInUse`` (another transaction holds the key: the first request is
    still running).
    """
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise IdempotencyKeyInvalid()
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_key_begin runs inside the work's transaction.")
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(user_id=user.pk, key=key)]
            )
            (locked,) = cursor.fetchone()
        if not locked:
            raise IdempotencyKeyInUse()
    # Elsewhere (SQLite, the embedded default) every transaction begins by taking the
    # database's write lock (``transaction_mode`` IMMEDIATE, settings.py): a second request
    # with the key waits for the first to commit, then replays its response.
    # Under the lock (read committed: this read sees every committed response).
    stored = IdempotencyKey.objects.filter(
        user=user, key=key, status=IdempotencyKey.Status.COMPLETED, expires_at__gt=now
    ).first()
    if stored is None:
        return Claim(user_id=user.pk, key=key, request_hash=request_hash, claimed_at=now)
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return StoredResponse(
        status=stored.response_status, body=stored.response_body, headers=stored.response_headers
    )


def idempotency_key_complete(*, claim: Claim, status: int, body: str, headers: dict) -> None:
    """Store the response of the claimed request, in its transaction (it commits with the
    work). Replaces an expired row of the same key."""
    IdempotencyKey.objects.update_or_create(
        user_id=claim.user_id,
        key=claim.key,
        defaults={
            "request_hash": claim.request_hash,
            "status": IdempotencyKey.Status.COMPLETED,
            "response_status": status,
            "response_body": body,
            "response_headers": headers,
            "created_at": claim.claimed_at,
            "expires_at": claim.claimed_at + KEY_TTL,
        },
    )


def idempotency_keys_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete expired keys; return how many. Expired keys are ignored anyway."""
    deleted, _by_model = IdempotencyKey.objects.filter(
        expires_at__lte=now or timezone.now()
    ).delete()
    return deleted
