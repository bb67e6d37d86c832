"""What the apps' PDF tasks share: the retry policy and the outcome of one render.

Each app's ``tasks.py`` creates its kind's tasks (``DocumentKind.tasks``, in
``coworking.documents.kinds``; their names are part of what is queued), which call these.
"""

import logging
import random
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from coworking.documents.models import Document
from coworking.documents.storage import RenderReport


def retry_countdown(retries: int) -> float:
    """Exponential backoff (``DOCUMENT_PDF_RETRY_BACKOFF`` seconds, doubled each retry,
    capped); jitter spreads the retries of documents that failed together."""
    delay = min(
        settings.DOCUMENT_PDF_RETRY_BACKOFF * 2**retries,
        settings.DOCUMENT_PDF_RETRY_BACKOFF_MAX,
    )
    return random.uniform(delay / 2, delay) if settings.DOCUMENT_PDF_RETRY_JITTER else delay


def run_render_task(
    task,
    *,
    event: str,
    document_id: int,
    render: Callable[[], Document],
    record_failure: Callable[[str, bool], None],
    describe: Callable[[Document], dict],
    log: logging.Logger,
) -> str | None:
    """Run ``render()`` for the bound Celery ``task``; return the recorded SHA-256.

    A failure is recorded (``record_failure(reason, final)``) and retried with backoff up to
    ``DOCUMENT_PDF_MAX_RETRIES`` times; the last one marks the document ``failed``. A
    document that no longer exists is logged and skipped. Each outcome is one structured
    line on ``log``: ``<event>.pdf_ready`` (with ``describe(document)``, the size, the hash,
    the attempt and the duration) or ``<event>.pdf_failed``.
    """
    started = time.perf_counter()
    kind = event.replace("_", " ")
    try:
        document = render()
    except ObjectDoesNotExist:
        log.warning("The %s %s does not exist; nothing to render.", kind, document_id)
        return None
    except Exception as error:
        attempt, max_retries = task.request.retries, settings.DOCUMENT_PDF_MAX_RETRIES
        final = attempt >= max_retries
        reason = f"{type(error).__name__}: {error}"
        log.warning(
            "Rendering the PDF of %s %s failed (attempt %s of %s): %s",
            kind,
            document_id,
            attempt + 1,
            max_retries + 1,
            reason,
            exc_info=final,
            extra={
                "event": f"{event}.pdf_failed",
                f"{event}_id": document_id,
                "attempt": attempt + 1,
                "final": final,
                "error": reason,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        record_failure(reason, final)
        if final:
            return None
        raise task.retry(
            exc=error, countdown=retry_countdown(attempt), max_retries=max_retries
        ) from error
    log.info(
        "PDF of %s %s ready (%s bytes).",
        kind,
        document.number,
        document.pdf_size,
        extra={
            "event": f"{event}.pdf_ready",
            **describe(document),
            "attempt": task.request.retries + 1,
            "bytes": document.pdf_size,
            "sha256": document.pdf_sha256,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return document.pdf_sha256


def run_sweep(sweep: Callable[[], RenderReport], *, kind: str, log: logging.Logger) -> dict:
    """Run one app's sweep of missing PDFs; log and return what it rendered and what failed."""
    report = sweep()
    if report.rendered or report.failed:
        log.info(
            "Sweep rendered %s missing %s PDF(s); %s failed.",
            len(report.rendered),
            kind,
            len(report.failed),
        )
    return {"rendered": report.rendered, "failed": report.failed}


def warn_failed(failed, *, event: str, kind: str, log: logging.Logger) -> int:
    """Log a warning while documents of ``failed`` (a queryset of those whose PDF failed for
    good) wait for a person; return how many there are. The line names the first twenty."""
    count = failed.count()
    if count:
        numbers = list(failed.order_by("pk").values_list("number", flat=True)[:20])
        log.warning(
            "%s %s PDF(s) failed and need attention, e.g. %s.",
            count,
            kind,
            ", ".join(numbers),
            extra={"event": f"{event}.pdf_failed_pending", "count": count, f"{event}s": numbers},
        )
    return count
