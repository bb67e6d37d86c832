"""What the apps' PDF tasks share: the retry policy and the outcome of one render.

Tasks stay in each app's ``tasks.py`` (their names are part of what is queued); each one
calls ``run_render_task`` with its app's services.
"""

import logging
import random
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from coworking.documents.storage import RenderReport

logger = logging.getLogger(__name__)


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
    kind: str,
    document_id: int,
    render: Callable[[], object],
    record_failure: Callable[[str, bool], None],
) -> str | None:
    """Run ``render()`` for the bound Celery ``task``; return the recorded SHA-256.

    A failure is recorded (``record_failure(reason, final)``) and retried with backoff up to
    ``DOCUMENT_PDF_MAX_RETRIES`` times; the last one marks the document ``failed``. A
    document that no longer exists is logged and skipped.
    """
    try:
        document = render()
    except ObjectDoesNotExist:
        logger.warning("%s %s does not exist; nothing to render.", kind, document_id)
        return None
    except Exception as error:
        attempt, max_retries = task.request.retries, settings.DOCUMENT_PDF_MAX_RETRIES
        final = attempt >= max_retries
        reason = f"{type(error).__name__}: {error}"
        logger.warning(
            "Rendering the PDF of %s %s failed (attempt %s of %s): %s",
            kind,
            document_id,
            attempt + 1,
            max_retries + 1,
            reason,
            exc_info=final,
        )
        record_failure(reason, final)
        if final:
            return None
        raise task.retry(
            exc=error, countdown=retry_countdown(attempt), max_retries=max_retries
        ) from error
    return document.pdf_sha256


def run_sweep(sweep: Callable[[], RenderReport], *, kind: str) -> dict:
    """Run one app's sweep of missing PDFs; log and return what it rendered and what failed."""
    report = sweep()
    if report.rendered or report.failed:
        logger.info(
            "Sweep rendered %s missing %s PDF(s); %s failed.",
            len(report.rendered),
            kind,
            len(report.failed),
        )
    return {"rendered": report.rendered, "failed": report.failed}
