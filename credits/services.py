"""The cancel operation: the only code path that cancels an invoice.

``invoice_cancel`` runs in one transaction: lock the invoice, re-check its state, freeze it
as cancelled, take the next credit-note number of its location (as late as possible, so the
per-location counter row is held briefly), write the credit note and its mirrored lines,
credit the customer's ledger and record the audit event. The PDF is queued only after
commit. It runs a constant number of SQL queries whatever the number of lines.
"""

import datetime
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from djmoney.money import Money

from coworking.errors import ApplicationError
from coworking.models import LedgerEntry
from coworking.numbering import DocumentType, format_number, next_number
from coworking.services import ledger_post
from credits.errors import InvalidCancellation, InvoiceAlreadyCancelled, InvoiceIsDraft
from credits.models import (
    BulkCancellation,
    BulkCancellationItem,
    CancellationEvent,
    CreditNote,
    CreditNoteLine,
)
from invoicing.errors import InvoiceNotFound
from invoicing.models import Channel, Invoice, InvoiceLine

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000


def _check_cancellable(invoice: "_LockedInvoice") -> None:
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(
            _("Invoice draft #%(id)s is a draft: delete the draft instead of cancelling it.")
            % {"id": invoice.id}
        )
    if invoice.state == Invoice.State.CANCELLED:
        raise InvoiceAlreadyCancelled(
            _("Invoice %(number)s is already cancelled.") % {"number": invoice.number}
        )


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidCancellation(
            _("The reason is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(reason), "max": REASON_MAX_LENGTH}
        )
    return reason


def invoice_cancel(
    *,
    invoice: Invoice | int,
    actor: AbstractBaseUser | None,
    reason: str = "",
    channel: str,
) -> CreditNote:
    """Cancel an issued, partially paid or paid invoice; return its new credit note.

    The credit note is always for the full total; what had been paid stays as account
    credit on the customer's ledger (this is not a refund). Calling it again for the same
    invoice, at the same time or later, raises ``InvoiceAlreadyCancelled`` and writes
    nothing. Raises ``InvoiceNotFound``, ``InvoiceIsDraft``, ``InvoiceAlreadyCancelled`` or
    ``InvalidCancellation`` (bad reason or channel) with nothing written.
    """
    if channel not in Channel.values:
        raise InvalidCancellation(_("Unknown channel: %(channel)s.") % {"channel": channel})
    reason = _clean_reason(reason)
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    with transaction.atomic():
        credit_note = _cancel_locked(
            invoice_id=invoice_id, actor=actor, reason=reason, channel=channel
        )
        transaction.on_commit(
            lambda: queue_credit_note_pdf(credit_note_id=credit_note.pk), robust=True
        )
    return credit_note


@dataclass(frozen=True)
class _LockedInvoice:
    """The locked invoice row as plain values: the hot path of bulk cancels builds no
    model instances it does not write."""

    id: int
    state: str
    location_id: int
    customer_id: int
    number: str
    issue_date: datetime.date | None
    currency: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    credit_note_prefix: str


_LOCKED_COLUMNS = (
    "id", "state", "location_id", "customer_id", "number", "issue_date", "currency",
    "net_total", "tax_total", "total", "amount_paid", "location__credit_note_prefix",
)  # fmt: skip


def _lock_invoice(*, invoice_id) -> _LockedInvoice:
    """Lock the invoice row (only that row) and read it, with its location's credit-note
    prefix, in one query. PostgreSQL re-reads a row it had to wait for, so the state seen
    here is the one the previous holder of the lock committed."""
    try:
        row = (
            Invoice.objects.select_for_update(of=("self",))
            .filter(pk=invoice_id)
            .values_list(*_LOCKED_COLUMNS)
            .first()
        )
    except (ValueError, TypeError):
        row = None
    if row is None:
        raise InvoiceNotFound()
    return _LockedInvoice(*row)


def _mirror_lines(*, invoice_id: int, credit_note_id: int) -> None:
    """Write the credit note's lines as the invoice's with the sign reversed, in one
    INSERT ... SELECT: the lines never travel to Python, whatever their number. (The ORM
    cannot say INSERT ... SELECT; the column names still come from the models.)"""
    line, mirror = InvoiceLine._meta, CreditNoteLine._meta
    same = ["position", "description", "unit_price", "unit_price_currency", "tax_rate"]
    negated = ["quantity", "net", "tax"]
    currencies = ["net_currency", "tax_currency"]
    columns = [mirror.get_field("credit_note").column] + [
        mirror.get_field(name).column for name in same + negated + currencies
    ]
    selected = (
        ["%s"]
        + [line.get_field(name).column for name in same]
        + [f"-{line.get_field(name).column}" for name in negated]
        + [line.get_field(name).column for name in currencies]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {mirror.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(selected)} FROM {line.db_table} "
            f"WHERE {line.get_field('invoice').column} = %s",
            [credit_note_id, invoice_id],
        )


def _cancel_locked(*, invoice_id, actor, reason: str, channel: str) -> CreditNote:
    started_at = timezone.now()
    invoice = _lock_invoice(invoice_id=invoice_id)
    _check_cancellable(invoice)
    currency = invoice.currency
    Invoice.objects.filter(pk=invoice.id).update(
        state=Invoice.State.CANCELLED,
        cancelled_at=started_at,
        cancelled_by=actor,
        cancellation_channel=channel,
        cancellation_reason=reason,
    )

    issue_date = timezone.localdate()
    sequence_number = next_number(
        location_id=invoice.location_id, document_type=DocumentType.CREDIT_NOTE
    )
    credit_note = CreditNote.objects.create(
        location_id=invoice.location_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        sequence_number=sequence_number,
        number=format_number(
            prefix=invoice.credit_note_prefix, year=issue_date.year, number=sequence_number
        ),
        issue_date=issue_date,
        currency=currency,
        net_total=Money(-invoice.net_total, currency),
        tax_total=Money(-invoice.tax_total, currency),
        total=Money(-invoice.total, currency),
        reason=reason,
        created_by=actor,
        channel=channel,
    )
    _mirror_lines(invoice_id=invoice.id, credit_note_id=credit_note.pk)
    ledger_post(
        customer_id=invoice.customer_id,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=Money(credit_note.total.amount, currency),
        description=_("Credit note %(credit_note)s cancelling %(invoice)s")
        % {"credit_note": credit_note.number, "invoice": invoice.number},
        invoice_id=invoice.id,
        credit_note=credit_note,
    )
    CancellationEvent.objects.create(
        invoice_id=invoice.id,
        credit_note=credit_note,
        actor=actor,
        channel=channel,
        reason=reason,
        previous_state=invoice.state,
        amount_paid=Money(invoice.amount_paid, currency),
        started_at=started_at,
    )
    return credit_note


def queue_credit_note_pdf(*, credit_note_id: int) -> None:
    """Hand the PDF to the task queue; if the broker is down the note stays ``pending``.

    The periodic sweep (``credits.tasks.render_missing_pdfs``) renders what was not queued.
    """
    from credits.tasks import render_credit_note_pdf

    try:
        render_credit_note_pdf.delay(credit_note_id)
    except Exception:
        logger.warning(
            "Could not queue the PDF of credit note %s; the sweep will render it.",
            credit_note_id,
            exc_info=True,
        )


# --- Credit-note PDFs and e-mail ------------------------------------------------------------
#
# The PDF of a credit note is rendered off the request path (``credits.tasks``), stored in
# the private "documents" storage under a name carrying its content hash, and recorded on
# the note (status, SHA-256, size). Rendering is idempotent and reproducible: a ready note
# is left alone unless forced, and a forced render of an unchanged note yields the same
# bytes, hence the same file. Notes whose PDF was never queued (broker down at cancel
# time) are picked up by ``credit_notes_render_missing`` (Celery beat, every minute).

PDF_SWEEP_BATCH = 200
EMAIL_CATCH_UP_WINDOW = datetime.timedelta(days=2)


def _pdf_storage_name(*, credit_note: CreditNote, sha256: str) -> str:
    year = credit_note.issue_date.year
    return f"credit-notes/{year}/{get_valid_filename(credit_note.number)}-{sha256[:16]}.pdf"


def credit_note_render_pdf(*, credit_note: CreditNote | int, force: bool = False) -> CreditNote:
    """Render, store and record the PDF of a credit note; return the note as stored.

    Idempotent: a note whose PDF is ``ready`` is returned untouched unless ``force``.
    Reproducible: the same note renders to the same bytes, so a forced re-render finds its
    file already stored and records the same SHA-256. The file goes to the private
    "documents" storage through the storage API (no public URL). The rendering runs outside
    any transaction; recording it locks the note's row briefly, so concurrent renders of one
    note (task, sweep, admin) record one result. When the note's location e-mails its
    documents and the note has not been e-mailed, the e-mail is queued after commit.

    Raises ``CreditNote.DoesNotExist``, ``credits.pdf.PdfRenderError`` and whatever the
    storage raises; the note is then unchanged (callers record the failure with
    ``credit_note_pdf_failed``).
    """
    from credits.pdf import credit_note_pdf_bytes

    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    note = CreditNote.objects.select_related("location", "customer").get(pk=credit_note_id)
    if note.pdf_status == CreditNote.PdfStatus.READY and not force:
        return note
    data = credit_note_pdf_bytes(credit_note=note)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        note = (
            CreditNote.objects.select_for_update(of=("self",))
            .select_related("location")
            .get(pk=credit_note_id)
        )
        if note.pdf_status == CreditNote.PdfStatus.READY and not force:
            return note
        storage = note.pdf_file.storage
        name = _pdf_storage_name(credit_note=note, sha256=digest)
        if not storage.exists(name):
            name = storage.save(name, ContentFile(data))
        note.pdf_file.name = name
        note.pdf_status = CreditNote.PdfStatus.READY
        note.pdf_sha256 = digest
        note.pdf_size = len(data)
        note.pdf_error = ""
        note.pdf_rendered_at = timezone.now()
        note.save(
            update_fields=[
                "pdf_file",
                "pdf_status",
                "pdf_sha256",
                "pdf_size",
                "pdf_error",
                "pdf_rendered_at",
            ]
        )
        if note.location.email_documents and note.emailed_at is None:
            transaction.on_commit(
                lambda: queue_credit_note_email(credit_note_id=credit_note_id), robust=True
            )
    return note


def credit_note_pdf_failed(*, credit_note: CreditNote | int, error: str, final: bool) -> None:
    """Record a failed render attempt: its reason always, status ``failed`` when ``final``.

    A note whose PDF is already ``ready`` keeps it (a failed forced re-render does not
    take away a good PDF); only the reason is recorded then.
    """
    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    error = (error or _("Unknown error"))[:2000]
    with transaction.atomic():
        note = CreditNote.objects.select_for_update(of=("self",)).get(pk=credit_note_id)
        note.pdf_error = error
        fields = ["pdf_error"]
        if final and note.pdf_status != CreditNote.PdfStatus.READY:
            note.pdf_status = CreditNote.PdfStatus.FAILED
            fields.append("pdf_status")
        note.save(update_fields=fields)


def _sweep_delay() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CREDIT_NOTE_PDF_SWEEP_AFTER)


def credit_notes_missing_pdf(*, older_than: datetime.timedelta | None = None):
    """Credit notes whose PDF is still ``pending`` ``older_than`` after their creation
    (default: ``CREDIT_NOTE_PDF_SWEEP_AFTER`` seconds, a minute), oldest first.

    Failed notes are not included: they wait for someone to read the reason and use the
    admin action "Render missing PDFs".
    """
    older_than = _sweep_delay() if older_than is None else older_than
    return CreditNote.objects.filter(
        pdf_status=CreditNote.PdfStatus.PENDING, created_at__lte=timezone.now() - older_than
    ).order_by("created_at", "pk")


@dataclass(frozen=True)
class RenderReport:
    rendered: list[str]
    failed: dict[str, str]


def credit_notes_render_pdfs(*, credit_notes, force: bool = False) -> RenderReport:
    """Render the PDF of each note in turn; a failure is recorded on its note (``failed``,
    with the reason) and does not stop the others. Returns the numbers rendered and failed.
    """
    rendered, failed = [], {}
    for note in credit_notes:
        try:
            credit_note_render_pdf(credit_note=note.pk, force=force)
        except Exception as error:
            logger.exception("Rendering the PDF of credit note %s failed.", note.number)
            reason = f"{type(error).__name__}: {error}"
            credit_note_pdf_failed(credit_note=note.pk, error=reason, final=True)
            failed[note.number] = reason
        else:
            rendered.append(note.number)
    return RenderReport(rendered=rendered, failed=failed)


def credit_notes_render_missing(
    *, older_than: datetime.timedelta | None = None, limit: int = PDF_SWEEP_BATCH
) -> RenderReport:
    """The sweep: render the PDFs still ``pending`` a minute after their note was issued
    (``older_than``, default ``CREDIT_NOTE_PDF_SWEEP_AFTER``).

    Catches up what was never queued (broker down at cancel time) or lost (worker died).
    At most ``limit`` notes per run, oldest first; the next run takes the rest. Also queues
    the e-mails of notes rendered in the last two days that were not sent (the e-mail of
    an older note is not sent late, so switching a location's e-mail on does not mail its
    history).
    """
    older_than = _sweep_delay() if older_than is None else older_than
    report = credit_notes_render_pdfs(
        credit_notes=list(credit_notes_missing_pdf(older_than=older_than)[:limit])
    )
    now = timezone.now()
    unsent = CreditNote.objects.filter(
        pdf_status=CreditNote.PdfStatus.READY,
        location__email_documents=True,
        emailed_at__isnull=True,
        pdf_rendered_at__lte=now - older_than,
        pdf_rendered_at__gte=now - EMAIL_CATCH_UP_WINDOW,
    ).values_list("pk", flat=True)
    for credit_note_id in unsent[:limit]:
        queue_credit_note_email(credit_note_id=credit_note_id)
    return report


def credit_note_send_email(*, credit_note: CreditNote | int) -> bool:
    """E-mail the credit note with its PDF attached to the customer's billing address, once.

    Returns ``True`` when it was sent now, ``False`` when there is nothing to do: already
    sent, the location does not e-mail its documents, or the PDF is not ready yet (the
    render queues the e-mail when it is). The note's row is locked while sending and
    ``emailed_at`` is set in the same transaction, so concurrent or repeated calls send
    once. Raises what the e-mail backend raises; nothing is recorded then, so a retry sends.
    (If the database fails after the mail server accepted the message, a retry sends it a
    second time: a duplicate is preferred to a credit note the customer never receives.)
    """
    from credits.pdf import document_language

    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    with transaction.atomic():
        note = (
            CreditNote.objects.select_for_update(of=("self",))
            .select_related("location", "customer")
            .get(pk=credit_note_id)
        )
        if (
            note.emailed_at is not None
            or not note.location.email_documents
            or note.pdf_status != CreditNote.PdfStatus.READY
        ):
            return False
        with translation.override(document_language(note.customer)):
            context = {"credit_note": note, "location": note.location, "customer": note.customer}
            subject = _("Credit note %(number)s from %(location)s") % {
                "number": note.number,
                "location": note.location.legal_name,
            }
            body = render_to_string("documents/credit_note_email.txt", context)
        with note.pdf_file.open("rb") as pdf:
            data = pdf.read()
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[note.customer.billing_email],
        )
        message.attach(note.pdf_filename, data, "application/pdf")
        message.send(fail_silently=False)
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])
    return True


def queue_credit_note_email(*, credit_note_id: int) -> None:
    """Hand the e-mail to the task queue; if the broker is down the sweep queues it later."""
    from credits.tasks import send_credit_note_email

    try:
        send_credit_note_email.delay(credit_note_id)
    except Exception:
        logger.warning(
            "Could not queue the e-mail of credit note %s; the sweep will retry.",
            credit_note_id,
            exc_info=True,
        )


# --- Cancelling many invoices (admin bulk action, background bulk cancellations) -------------


@dataclass(frozen=True)
class CancellationResult:
    """What happened to one invoice of a selection: cancelled, skipped or failed."""

    invoice_id: int
    invoice_label: str
    outcome: str  # a BulkCancellationItem.Outcome value
    credit_note: CreditNote | None = None
    message: str = ""


# Refusals that mean "nothing to do" rather than "something went wrong".
_SKIP_REASONS = {
    InvoiceAlreadyCancelled: _lazy("already cancelled"),
    InvoiceIsDraft: _lazy("draft: delete it instead of cancelling"),
    InvoiceNotFound: _lazy("no longer exists"),
}


def _cancel_one(
    *, invoice_id: int, invoice_label: str, actor, reason: str, channel: str
) -> CancellationResult:
    """Cancel one invoice in its own transaction (a savepoint when called inside one).

    Never raises for a refusal or a database failure: it becomes the result, so that one
    invoice cannot undo or stop the others.
    """
    Outcome = BulkCancellationItem.Outcome
    try:
        credit_note = invoice_cancel(
            invoice=invoice_id, actor=actor, reason=reason, channel=channel
        )
    except ApplicationError as error:
        for error_class, short_reason in _SKIP_REASONS.items():
            if isinstance(error, error_class):
                return CancellationResult(
                    invoice_id, invoice_label, Outcome.SKIPPED, message=str(short_reason)
                )
        return CancellationResult(invoice_id, invoice_label, Outcome.FAILED, message=error.message)
    except Exception:
        # A bug or a database refusal: log it with its traceback, report it, carry on.
        logger.exception("Cancelling invoice id %s failed.", invoice_id)
        return CancellationResult(
            invoice_id,
            invoice_label,
            Outcome.FAILED,
            message=_("unexpected error; it has been logged"),
        )
    return CancellationResult(invoice_id, invoice_label, Outcome.CANCELLED, credit_note=credit_note)


def invoices_cancel_each(
    *, invoice_ids: Sequence[int], actor, reason: str = "", channel: str
) -> list[CancellationResult]:
    """Cancel each invoice through ``invoice_cancel``, each in its own transaction.

    One refusal or failure does not undo or stop the others. Returns one result per id,
    in id order: ``cancelled`` (with its credit note), ``skipped`` (draft, already
    cancelled, e.g. a double submit, or gone) or ``failed`` (with the reason). Raises
    ``InvalidCancellation`` before touching anything when the reason is not valid. Called
    inside a transaction, each invoice gets a savepoint instead, and the caller's commit
    decides for all of them.
    """
    reason = _clean_reason(reason)
    ids = sorted(set(invoice_ids))
    labels = {invoice.pk: str(invoice) for invoice in Invoice.objects.filter(pk__in=ids)}
    return [
        _cancel_one(
            invoice_id=invoice_id,
            invoice_label=labels.get(invoice_id, f"#{invoice_id}"),
            actor=actor,
            reason=reason,
            channel=channel,
        )
        for invoice_id in ids
    ]


def bulk_cancellation_start(
    *, invoice_ids: Sequence[int], actor, reason: str = "", channel: str = Channel.ADMIN_BULK
) -> BulkCancellation:
    """Record a bulk cancellation (one pending item per existing invoice) and queue its task.

    The task is queued after commit; if the broker is down the record stays ``queued``
    and can be queued again (running it twice is safe, see ``bulk_cancellation_run``).
    Raises ``InvalidCancellation`` (bad reason or channel, nothing selected) with nothing
    written.
    """
    if channel not in Channel.values:
        raise InvalidCancellation(_("Unknown channel: %(channel)s.") % {"channel": channel})
    reason = _clean_reason(reason)
    ids = list(
        Invoice.objects.filter(pk__in=set(invoice_ids)).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        raise InvalidCancellation(_("No invoices were selected."))
    with transaction.atomic():
        bulk = BulkCancellation.objects.create(
            created_by=actor, reason=reason, channel=channel, total=len(ids)
        )
        BulkCancellationItem.objects.bulk_create(
            [BulkCancellationItem(bulk=bulk, invoice_id=invoice_id) for invoice_id in ids],
            batch_size=1000,
        )
        transaction.on_commit(lambda: queue_bulk_cancellation(bulk_id=bulk.pk), robust=True)
    return bulk


def queue_bulk_cancellation(*, bulk_id: int) -> bool:
    """Hand a bulk cancellation to the task queue; ``False`` (and a log line) if the broker
    is down, leaving it ``queued``."""
    from credits.tasks import run_bulk_cancellation

    try:
        run_bulk_cancellation.delay(bulk_id)
    except Exception:
        logger.warning("Could not queue bulk cancellation %s.", bulk_id, exc_info=True)
        return False
    return True


def bulk_cancellation_run(*, bulk_id: int) -> BulkCancellation:
    """Work through the pending items of a bulk cancellation; return it, refreshed.

    Each item is claimed (``FOR UPDATE SKIP LOCKED``) and its invoice cancelled through
    ``invoice_cancel`` in one transaction together with the item's outcome, so a crash
    never leaves an invoice cancelled with its item still pending, and two runners (a
    redelivered task) share the work instead of doing it twice. Items run in id order.
    The bulk is marked ``done`` by whichever runner finds no pending item left. Raises
    ``BulkCancellation.DoesNotExist`` for an unknown id.
    """
    Outcome = BulkCancellationItem.Outcome
    bulk = BulkCancellation.objects.select_related("created_by").get(pk=bulk_id)
    BulkCancellation.objects.filter(pk=bulk_id, status=BulkCancellation.Status.QUEUED).update(
        status=BulkCancellation.Status.RUNNING, started_at=timezone.now()
    )
    pending = BulkCancellationItem.objects.filter(bulk_id=bulk_id, outcome=Outcome.PENDING)
    while True:
        with transaction.atomic():
            item = (
                pending.select_for_update(of=("self",), skip_locked=True)
                .select_related("invoice")
                .order_by("pk")
                .first()
            )
            if item is None:
                break
            result = _cancel_one(
                invoice_id=item.invoice_id,
                invoice_label=str(item.invoice),
                actor=bulk.created_by,
                reason=bulk.reason,
                channel=bulk.channel,
            )
            item.outcome = result.outcome
            item.credit_note = result.credit_note
            item.message = result.message
            item.processed_at = timezone.now()
            item.save(update_fields=["outcome", "credit_note", "message", "processed_at"])
    if not pending.exists():
        BulkCancellation.objects.filter(pk=bulk_id).exclude(
            status=BulkCancellation.Status.DONE
        ).update(status=BulkCancellation.Status.DONE, finished_at=timezone.now())
    bulk.refresh_from_db()
    return bulk
