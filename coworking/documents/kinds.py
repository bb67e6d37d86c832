"""Each kind of document declared once: its PDF, its storage, its tasks, its downloads.

An app declares a ``DocumentKind`` beside its model (``invoicing.documents.INVOICE_DOCUMENT``,
``credits.documents.CREDIT_NOTE_DOCUMENT``); everything else follows from the declaration: render,
store and record the PDF (``coworking.documents.storage``), record a failure, queue the render
task by name (``coworking.queue.enqueue``), sweep what is missing, serve the downloads (the API
actions of ``coworking.api.documents``), and the
three Celery tasks, which the app's ``tasks`` module creates with ``tasks()`` (their names are
part of what is queued: ``<app>.render_<event>_pdf``, ``<app>.render_missing_pdfs``,
``<app>.warn_failed_pdfs``). A new document (a statement) is one more declaration.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from celery import Task, shared_task
from django.db.models import QuerySet
from django.http import FileResponse

from coworking.documents.downloads import document_pdf_response
from coworking.documents.models import Document, PdfStatus
from coworking.documents.storage import (
    PDF_SWEEP_BATCH,
    RenderReport,
    document_pdf_failed,
    document_render_pdf,
    documents_missing_pdf,
    documents_render_pdfs,
    sweep_delay,
)
from coworking.documents.tasks import run_render_task, run_sweep, warn_failed
from coworking.queue import enqueue


def _all(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset


@dataclass(frozen=True, eq=False)
class DocumentKind:
    """One kind of document and how its PDF is made and served.

    ``render(document)`` gives the PDF's bytes, ``einvoice(document, syntax)`` its XML; ``with_pdf(queryset)`` keeps the documents
    that have a PDF (issued invoices, not drafts); ``downloadable(document)`` raises when one
    may not be downloaded at all; ``on_ready(document)`` runs in the transaction that records
    a new PDF; ``after_sweep(older_than, limit)`` runs after each sweep; ``describe(document)``
    gives the fields of the structured log line of a render.
    """

    model: type[Document]
    app: str
    event: str
    render: Callable[[Any], bytes]
    describe: Callable[[Any], dict[str, Any]]
    with_pdf: Callable[[QuerySet[Any]], QuerySet[Any]] = _all
    downloadable: Callable[[Any], None] | None = None
    on_ready: Callable[[Any], None] | None = None
    after_sweep: Callable[[datetime.timedelta, int], None] | None = None
    einvoice: Callable[[Any, str], bytes] | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger(__name__))

    @property
    def noun(self) -> str:
        return self.event.replace("_", " ")

    @property
    def render_task_name(self) -> str:
        return f"{self.app}.render_{self.event}_pdf"

    def documents(self) -> QuerySet[Any]:
        return self.with_pdf(self.model._default_manager.all())

    def render_pdf(self, *, document: Document | int, force: bool = False) -> Any:
        """Render, store and record the PDF; return the document as stored. Idempotent (a
        ``ready`` PDF is left alone unless ``force``) and reproducible (a forced re-render
        records the same file and SHA-256). Raises ``DoesNotExist``, ``PdfRenderError`` and
        whatever the storage raises; the document is then unchanged (callers record the
        failure with ``pdf_failed``)."""
        return document_render_pdf(
            model=self.model,
            document=document,
            render=self.render,
            force=force,
            on_ready=self.on_ready,
        )

    def pdf_failed(self, *, document: Document | int, error: str, final: bool) -> None:
        """Record a failed render attempt: its reason always, status ``failed`` when
        ``final`` (a ``ready`` PDF is kept: a failed forced re-render keeps a good one)."""
        document_pdf_failed(model=self.model, document=document, error=error, final=final)

    def queue_pdf(self, *, document_id: int) -> None:
        """Hand the PDF to the task queue; if the broker is down the sweep renders it."""
        enqueue(self.render_task_name, document_id, if_down="The sweep will render it.")

    def pdf_response(self, *, document: Any) -> FileResponse:
        """The stored PDF as an attachment; callers check who may see the document first.
        Raises what ``downloadable`` raises, ``PdfNotReady`` (409) until it is rendered,
        ``PdfUnavailable`` (503) when its file was lost (a new render is queued)."""
        if self.downloadable is not None:
            self.downloadable(document)
        return document_pdf_response(
            document=document, queue_render=lambda pk: self.queue_pdf(document_id=pk)
        )

    def einvoice_xml(self, *, document: Any, syntax: str) -> bytes:
        """The document as an e-invoice in ``syntax``. Raises ``UnknownSyntax`` and what
        the builder raises (a draft invoice has none)."""
        if self.einvoice is None:
            raise NotImplementedError(f"{self.noun} has no e-invoice")
        return self.einvoice(document, syntax)

    def missing_pdf(self, *, older_than: datetime.timedelta | None = None) -> QuerySet[Any]:
        """Documents whose PDF is still ``pending`` ``older_than`` after they were issued
        (default: ``DOCUMENT_PDF_SWEEP_AFTER`` seconds), oldest first; failed ones wait for
        their retry or a person."""
        missing: QuerySet[Any] = documents_missing_pdf(
            queryset=self.documents(), older_than=older_than
        )
        return missing

    def render_pdfs(self, *, documents: Iterable[Any], force: bool = False) -> RenderReport:
        """Render the PDF of each document in turn; a failure is recorded on its document
        (``failed``, with the reason) and does not stop the others."""
        return documents_render_pdfs(
            documents=documents,
            render_one=lambda pk: self.render_pdf(document=pk, force=force),
            record_failure=lambda pk, reason: self.pdf_failed(
                document=pk, error=reason, final=True
            ),
        )

    def render_missing(
        self, *, older_than: datetime.timedelta | None = None, limit: int = PDF_SWEEP_BATCH
    ) -> RenderReport:
        """The sweep: render the PDFs still ``pending`` a minute after their document was
        issued (what was never queued, or lost), at most ``limit`` per run, oldest first
        (the next run takes the rest); then ``after_sweep``."""
        older_than = sweep_delay() if older_than is None else older_than
        report = self.render_pdfs(documents=list(self.missing_pdf(older_than=older_than)[:limit]))
        if self.after_sweep is not None:
            self.after_sweep(older_than, limit)
        return report

    def failed_pdfs(self) -> QuerySet[Any]:
        """Documents whose PDF failed for good (retries exhausted), oldest first."""
        return self.documents().filter(pdf_status=PdfStatus.FAILED).order_by("pk")

    def tasks(self) -> tuple[Task[Any, Any], Task[Any, Any], Task[Any, Any]]:
        """The kind's Celery tasks: render one PDF (retried with backoff, then ``failed``
        with the reason), the sweep (every minute) and the warning about failed PDFs
        (hourly)."""

        def render_pdf(task: Task[Any, Any], document_id: int, force: bool = False) -> Any:
            return run_render_task(
                task,
                event=self.event,
                document_id=document_id,
                render=lambda: self.render_pdf(document=document_id, force=force),
                record_failure=lambda reason, final: self.pdf_failed(
                    document=document_id, error=reason, final=final
                ),
                describe=self.describe,
                log=self.log,
            )

        def render_missing_pdfs() -> dict[str, Any]:
            return run_sweep(self.render_missing, kind=self.noun, log=self.log)

        def warn_failed_pdfs() -> int:
            return warn_failed(self.failed_pdfs(), event=self.event, kind=self.noun, log=self.log)

        render_pdf.__doc__ = f"Render and store the PDF of one {self.noun}."
        render_missing_pdfs.__doc__ = f"The sweep of missing {self.noun} PDFs."
        warn_failed_pdfs.__doc__ = f"Warn while {self.noun} PDFs that failed for good wait."
        return (
            shared_task(
                bind=True,
                name=self.render_task_name,
                max_retries=None,
                acks_late=True,
                reject_on_worker_lost=False,
            )(render_pdf),
            shared_task(name=f"{self.app}.render_missing_pdfs")(render_missing_pdfs),
            shared_task(name=f"{self.app}.warn_failed_pdfs")(warn_failed_pdfs),
        )
