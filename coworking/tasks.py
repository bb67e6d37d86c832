"""Celery tasks of the coworking app, treated as an API: they call services."""

from celery import shared_task

from coworking.idempotency import idempotency_keys_purge


@shared_task(name="coworking.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete idempotency keys older than 24 hours (run hourly by beat)."""
    return idempotency_keys_purge()
