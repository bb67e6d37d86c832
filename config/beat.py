"""The one beat schedule: the sweeps that catch up on work never queued or lost, the hourly
warnings and purges, and ``reconcile`` on the operator's crontab (``config.settings`` builds
``CELERY_BEAT_SCHEDULE`` from it)."""

import sys
from typing import Any

from celery.schedules import crontab


def beat_schedule(
    *, bulk_sweep_every: float, reconcile_incremental: str, reconcile_full: str
) -> dict[str, dict[str, Any]]:
    """The schedule; a reconcile crontab that is not five fields stops the process with a
    sentence (an empty one turns that run off)."""
    schedule: dict[str, dict[str, Any]] = {
        # PDFs never queued (broker down at issue or cancel time) or lost.
        "invoicing.render_missing_pdfs": {
            "task": "invoicing.render_missing_pdfs",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "credits.render_missing_pdfs": {
            "task": "credits.render_missing_pdfs",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        # Bulk cancellations whose task was never queued (broker down when they started) or
        # whose worker died mid-run (no heartbeat).
        "credits.requeue_bulk_cancellations": {
            "task": "credits.requeue_bulk_cancellations",
            "schedule": bulk_sweep_every,
            "options": {"expires": bulk_sweep_every},
        },
        # PDFs that failed for good need a person: a warning in the logs every hour.
        "invoicing.warn_failed_pdfs": {
            "task": "invoicing.warn_failed_pdfs",
            "schedule": 3600.0,
            "options": {"expires": 3000},
        },
        "credits.warn_failed_pdfs": {
            "task": "credits.warn_failed_pdfs",
            "schedule": 3600.0,
            "options": {"expires": 3000},
        },
        "coworking.purge_idempotency_keys": {
            "task": "coworking.purge_idempotency_keys",
            "schedule": 3600.0,
        },
        "invoicing.purge_prepared_statements": {
            "task": "invoicing.purge_prepared_statements",
            "schedule": 86400.0,
            "options": {"expires": 3600},
        },
        # Webhook events never queued (broker down at commit), deliveries due or lost.
        "webhooks.sweep": {
            "task": "webhooks.sweep",
            "schedule": 30.0,
            "options": {"expires": 25},
        },
    }
    for name, setting, fields, incremental in (
        (
            "credits.reconcile_incremental",
            "RECONCILE_INCREMENTAL_SCHEDULE",
            reconcile_incremental,
            True,
        ),
        ("credits.reconcile_full", "RECONCILE_FULL_SCHEDULE", reconcile_full, False),
    ):
        if not fields.strip():
            continue
        if len(fields.split()) != 5:
            sys.exit(
                f"{setting} is {fields!r}: give five crontab fields, e.g. '30 2 * * *', or nothing."
            )
        minute, hour, day, month, weekday = fields.split()
        schedule[name] = {
            "task": "credits.reconcile",
            "schedule": crontab(
                minute=minute,
                hour=hour,
                day_of_month=day,
                month_of_year=month,
                day_of_week=weekday,
            ),
            "kwargs": {"incremental": incremental},
        }
    return schedule
