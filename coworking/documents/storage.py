"""A document's stored PDF: render it, store it, record it; find and re-render what is missing.

The PDF is rendered off the request path, stored in the private "documents" storage under
a name carrying its content hash (``Document.pdf_storage_name``) and recorded on the
document (status, SHA-256, size). Rendering is idempotent and reproducible: a ``ready``
document is left alone unless forced, and a forced render of an unchanged document yields
the same bytes, hence the same file. Documents whose PDF was never queued (broker down) or
whose stored file was found lost (``document_pdf_lost``) are ``pending`` and picked up by
each app's sweep (Celery beat, every minute).

Each app passes its own ``render(document) -> bytes``; nothing here knows a kind of document.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.documents.models import Document, PdfRenderRetry, PdfStatus
from coworking.documents.rendering import PdfRenderError
from coworking.iteration import each
from coworking.locking import lock_rows

logger = logging.getLogger(__name__)

PDF_SWEEP_BATCH = 200
ERROR_MAX_LENGTH = 2000


def _pk(document: Document | int) -> int:
    return document.pk if isinstance(document, Document) else document


def stored_pdf_bytes(document: Document) -> bytes | None:
    """The stored file's bytes if they are the recorded ones; ``None`` when the file is
    missing, unreadable or no longer matches the recorded SHA-256."""
    if not document.pdf_file:
        return None
    try:
        with document.pdf_file.storage.open(document.pdf_file.name, "rb") as stored:
            data = stored.read()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == document.pdf_sha256 else None


def _store(*, document: Document, data: bytes, digest: str) -> str:
    """Save ``data`` under its hash-carrying name, unless a file with these very bytes is
    already there (a damaged file under that name is replaced)."""
    storage = document.pdf_file.storage
    name = document.pdf_storage_name(sha256=digest)
    if storage.exists(name):
        with storage.open(name, "rb") as stored:
            if hashlib.sha256(stored.read()).hexdigest() == digest:
                return name
        storage.delete(name)
    return storage.save(name, ContentFile(data))


def document_render_pdf(
    *,
    model: type[Document],
    document: Document | int,
    render: Callable[[Document], bytes],
    force: bool = False,
    related: Iterable[str] = ("location", "customer"),
    on_ready: Callable[[Document], None] | None = None,
) -> Document:
    """Render, store and record the PDF of one document; return the document as stored.

    Idempotent: a ``ready`` document is returned untouched unless ``force``; once a PDF is
    recorded, a render with other bytes is refused (``PdfRenderError``), the recorded one
    staying the document (a lost file is rendered again to the same bytes). The rendering
    (``render``) runs outside any transaction; recording it locks the document's row briefly,
    so concurrent renders of one document (task, sweep, admin) record one result.
    ``on_ready(document)`` runs inside that transaction once the PDF is recorded (to announce
    it). Raises ``model.DoesNotExist``, ``PdfRenderError`` and whatever the storage raises;
    the document is then unchanged (callers record the failure with ``document_pdf_failed``).
    """
    document_id = _pk(document)
    current = model.objects.select_related(*related).get(pk=document_id)
    if current.pdf_status == PdfStatus.READY and not force:
        return current
    data = render(current)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = lock_rows(model.objects.select_related(*related)).get(pk=document_id)
        if locked.pdf_status == PdfStatus.READY and not force:
            return locked
        if locked.pdf_sha256 and locked.pdf_sha256 != digest:
            # The database refuses it too (``pdf_fixed_once_recorded``).
            raise PdfRenderError(
                _(
                    "This render differs from the PDF recorded for the document (SHA-256 "
                    "%(recorded)s); the recorded PDF is the document and stays."
                )
                % {"recorded": locked.pdf_sha256}
            )
        locked.pdf_file.name = _store(document=locked, data=data, digest=digest)
        locked.pdf_status = PdfStatus.READY
        locked.pdf_sha256 = digest
        locked.pdf_size = len(data)
        locked.pdf_error = ""
        locked.pdf_rendered_at = timezone.now()
        locked.save(update_fields=list(Document.PDF_FIELDS))
        PdfRenderRetry.objects.filter(kind=model.PDF_KIND, document_id=document_id).delete()
        if on_ready is not None:
            on_ready(locked)
    return locked


def document_pdf_failed(
    *, model: type[Document], document: Document | int, error: str, final: bool
) -> None:
    """Record a failed render attempt: its reason always, status ``failed`` when ``final``.

    A document whose PDF is already ``ready`` keeps it (a failed forced re-render does not
    take away a good PDF); only the reason is recorded then.
    """
    error = (error or _("Unknown error"))[:ERROR_MAX_LENGTH]
    with transaction.atomic():
        locked = lock_rows(model.objects.all()).get(pk=_pk(document))
        locked.pdf_error = error
        fields = ["pdf_error"]
        if final and locked.pdf_status != PdfStatus.READY:
            locked.pdf_status = PdfStatus.FAILED
            fields.append("pdf_status")
            _schedule_retry(kind=model.PDF_KIND, document_id=locked.pk)
        locked.save(update_fields=fields)


def _schedule_retry(*, kind: str, document_id: int) -> None:
    """Count one more failure for good and set when the sweep tries again (under the
    document's row lock, so concurrent failures count once each)."""
    now = timezone.now()
    retry, _created = PdfRenderRetry.objects.get_or_create(
        kind=kind, document_id=document_id, defaults={"first_failed_at": now}
    )
    retry.failures += 1
    delay = min(
        settings.DOCUMENT_PDF_SWEEP_RETRY_BACKOFF * 2 ** (retry.failures - 1),
        settings.DOCUMENT_PDF_SWEEP_RETRY_BACKOFF_MAX,
    )
    next_attempt = now + datetime.timedelta(seconds=delay)
    window_ends = retry.first_failed_at + datetime.timedelta(
        seconds=settings.DOCUMENT_PDF_SWEEP_RETRY_FOR
    )
    retry.next_attempt_at = next_attempt if next_attempt <= window_ends else None
    retry.save(update_fields=["failures", "next_attempt_at"])


def document_pdf_lost(*, document: Document, reason: str) -> bool:
    """Mark a ``ready`` PDF whose stored file is gone or damaged as ``pending`` again (the
    reason in ``pdf_error``), so the sweep renders it even if nobody queues it. Returns
    ``False`` when another process changed the record first (nothing to do then)."""
    updated = (
        type(document)
        .objects.filter(pk=document.pk, pdf_status=PdfStatus.READY, pdf_sha256=document.pdf_sha256)
        .update(pdf_status=PdfStatus.PENDING, pdf_error=reason[:ERROR_MAX_LENGTH])
    )
    if updated:
        logger.error(
            "The stored PDF of %s %s is lost (%s); it will be rendered again.",
            document.PDF_KIND,
            document.number,
            reason,
        )
    return bool(updated)


def sweep_delay() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.DOCUMENT_PDF_SWEEP_AFTER)


def documents_missing_pdf(*, queryset, older_than: datetime.timedelta | None = None):
    """The documents of ``queryset`` whose PDF is still ``pending`` ``older_than`` (default:
    a minute) after ``PDF_SWEEP_SINCE`` (their issue), and those that failed for good whose
    next retry is due (``PdfRenderRetry``), oldest first.

    A failed document past its retry window is not included: it waits for someone to read
    the reason and render it from the admin. One that failed before retries were recorded
    is tried once more, which records them.
    """
    older_than = sweep_delay() if older_than is None else older_than
    now = timezone.now()
    model = queryset.model
    since = model.PDF_SWEEP_SINCE
    retries = PdfRenderRetry.objects.filter(kind=model.PDF_KIND)
    due = retries.filter(next_attempt_at__lte=now).values("document_id")
    return queryset.filter(
        Q(pdf_status=PdfStatus.PENDING, **{f"{since}__lte": now - older_than})
        | Q(pdf_status=PdfStatus.FAILED, pk__in=due)
        | (Q(pdf_status=PdfStatus.FAILED) & ~Q(pk__in=retries.values("document_id")))
    ).order_by(since, "pk")


@dataclass(frozen=True)
class RenderReport:
    rendered: list[str]
    failed: dict[str, str]


def documents_render_pdfs(
    *,
    documents: Iterable[Document],
    render_one: Callable[[int], object],
    record_failure: Callable[[int, str], None],
) -> RenderReport:
    """Render the PDF of each document in turn (``render_one(pk)``); a failure is recorded
    (``record_failure(pk, reason)``) and does not stop the others. Returns the numbers
    rendered and failed."""
    rendered, failed = [], {}
    for document in documents:
        try:
            render_one(document.pk)
        except Exception as error:
            logger.exception(
                "Rendering the PDF of %s %s failed.", document.PDF_KIND, document.number
            )
            reason = f"{type(error).__name__}: {error}"
            record_failure(document.pk, reason)
            failed[document.number] = reason
        else:
            rendered.append(document.number)
    return RenderReport(rendered=rendered, failed=failed)


def stored_pdf_breaches(*, queryset) -> list[str]:
    """Ready documents of ``queryset`` whose stored file is missing or whose bytes no longer
    match the recorded SHA-256 (for ``reconcile``). Reads every stored file."""
    breaches = []
    ready = queryset.filter(pdf_status=PdfStatus.READY).only(
        "pk", "number", "pdf_file", "pdf_sha256"
    )
    for document in each(ready, size=500):
        if stored_pdf_bytes(document) is None:
            exists = bool(document.pdf_file) and document.pdf_file.storage.exists(
                document.pdf_file.name
            )
            problem = "does not match its SHA-256" if exists else "is missing from storage"
            breaches.append(
                f"The PDF of {document.PDF_KIND} {document.number} ({document.pdf_file.name or '-'}) "
                f"{problem}."
            )
    return breaches
