"""Idempotency keys: a POST sent twice with the same key does its work once.

The rules (the API contract, see the ``Idempotency-Key`` header in the OpenAPI schema):

- A key is chosen by the client (1 to 255 printable ASCII characters, e.g. a UUID) and is
  scoped to the authenticated user: two users never share a key.
- The first request with a key *claims* it: a row is inserted and committed before the
  work starts. The unique constraint on (user, key) makes the claim atomic: of concurrent
  requests exactly one insert succeeds, the others wait for it to commit and then fail.
- When the work ends, its response (status, JSON body and a few headers) is stored with the
  key. A later request with the same key and the same request (method, path and body)
  gets that response replayed, byte for byte; with another request it gets
  ``idempotency_key_reused`` (422); while the first is still running it gets
  ``idempotency_key_in_use`` (409).
- Errors that did no work are not stored: server errors (5xx, unhandled exceptions) and
  errors about the request itself (unparsable body, wrong media type, invalid fields,
  unknown id). The claim is released so the client can retry, corrected, with the same key.
  A refusal by the operation (e.g. ``invoice_already_cancelled``) is its outcome: stored.
- Keys expire 24 hours after they were claimed: an expired key is claimed afresh, and the
  periodic task ``coworking.purge_idempotency_keys`` deletes expired rows. A claim left
  ``in_progress`` by a process that died is taken over after ``STALE_AFTER``.
"""

import datetime
import hashlib
import json
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from coworking.errors import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused
from coworking.models import IdempotencyKey

KEY_TTL = datetime.timedelta(hours=24)
STALE_AFTER = datetime.timedelta(minutes=5)
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class StoredResponse:
    """A completed request's response, to be replayed as it was."""

    status: int
    body: str
    headers: dict


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


def idempotency_key_claim(
    *, user, key: str, request_hash: str, now: datetime.datetime | None = None
) -> IdempotencyKey | StoredResponse:
    """Claim ``key`` for ``user`` and return the claim, or the stored response to replay.

    The claim is committed before this returns (when called outside a transaction, as the
    API does), so concurrent requests see it. Raises ``IdempotencyKeyInvalid``,
    ``IdempotencyKeyReused`` (same key, other request) or ``IdempotencyKeyInUse`` (the
    first request is still running).
    """
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise IdempotencyKeyInvalid()
    now = now or timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    request_hash=request_hash,
                    created_at=now,
                    expires_at=now + KEY_TTL,
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:  # released or purged meanwhile: try the insert again
            continue
        expired = existing.expires_at <= now
        if not expired and existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        stale = existing.status == IdempotencyKey.Status.IN_PROGRESS and (
            existing.created_at <= now - STALE_AFTER
        )
        if expired or stale:
            claim = _take_over(existing=existing, request_hash=request_hash, now=now)
            if claim is not None:
                return claim
            continue
        if existing.status == IdempotencyKey.Status.IN_PROGRESS:
            raise IdempotencyKeyInUse()
        return StoredResponse(
            status=existing.response_status,
            body=existing.response_body,
            headers=existing.response_headers,
        )
    raise IdempotencyKeyInUse()


def _take_over(*, existing: IdempotencyKey, request_hash: str, now) -> IdempotencyKey | None:
    """Re-claim an expired or abandoned key; ``None`` when another request was quicker."""
    taken = (
        IdempotencyKey.objects.filter(pk=existing.pk)
        .filter(
            Q(expires_at__lte=now)
            | Q(status=IdempotencyKey.Status.IN_PROGRESS, created_at__lte=now - STALE_AFTER)
        )
        .update(
            request_hash=request_hash,
            status=IdempotencyKey.Status.IN_PROGRESS,
            response_status=None,
            response_body="",
            response_headers={},
            created_at=now,
            expires_at=now + KEY_TTL,
        )
    )
    if not taken:
        return None
    return IdempotencyKey.objects.get(pk=existing.pk)


def idempotency_key_complete(
    *, claim: IdempotencyKey, status: int, body: str, headers: dict
) -> None:
    """Store the response of the claimed request; later requests replay it."""
    IdempotencyKey.objects.filter(pk=claim.pk, status=IdempotencyKey.Status.IN_PROGRESS).update(
        status=IdempotencyKey.Status.COMPLETED,
        response_status=status,
        response_body=body,
        response_headers=headers,
    )


def idempotency_key_release(*, claim: IdempotencyKey) -> None:
    """Forget an unfinished claim (the request did no work): a retry runs afresh."""
    IdempotencyKey.objects.filter(pk=claim.pk, status=IdempotencyKey.Status.IN_PROGRESS).delete()


def idempotency_keys_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete expired keys; return how many. Expired keys are ignored anyway."""
    deleted, _by_model = IdempotencyKey.objects.filter(
        expires_at__lte=now or timezone.now()
    ).delete()
    return deleted
