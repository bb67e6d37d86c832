"""Customer statements prepared in the background (``PreparedStatement``): requested from
the customer page, rendered and stored by a task, downloaded when ready.

A statement longer than one part (``invoicing.statements.statement_is_long``) would hold a
web worker for as long as WeasyPrint lays it out, which grows with the customer's history;
so the request only records it and the task renders it.
"""

import datetime
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.documents.rendering import PdfRenderError, document_language
from coworking.errors import ApplicationError, InvalidInput
from coworking.queue import enqueue
from invoicing.prepared_statements import STATEMENTS_FOLDER, PreparedStatement
from invoicing.statements import customer_statement_pdf_bytes, statement_period_error

logger = logging.getLogger(__name__)

Status = PreparedStatement.Status


def statement_request(*, customer, start, end, actor) -> PreparedStatement:
    """Record a statement to prepare and queue its task (after commit). The same statement
    asked again by the same person the same day, still pending or ready, is returned
    instead (a double click or a reload prepares it once).
    Raises ``InvalidInput`` for a period that is not one, with nothing written."""
    if error := statement_period_error(start=start, end=end):
        raise InvalidInput(error)
    language = document_language(customer)
    same = PreparedStatement.objects.filter(
        customer=customer,
        start=start,
        end=end,
        language=language,
        requested_by=actor,
        status__in=[Status.PENDING, Status.READY],
        created_at__date=timezone.localdate(),
    ).first()
    if same is not None:
        return same
    with transaction.atomic():
        statement = PreparedStatement.objects.create(
            customer=customer, start=start, end=end, language=language, requested_by=actor
        )
        transaction.on_commit(lambda: queue_statement(statement_id=statement.pk), robust=True)
    return statement


def queue_statement(*, statement_id: int) -> bool:
    """Hand a statement to the task queue; when the broker is down it is marked failed at
    once (its page offers to try again) rather than left waiting for nothing."""
    if enqueue(
        "invoicing.prepare_statement",
        statement_id,
        if_down="The statement is marked failed; its page offers to try again.",
        long_running=True,
    ):
        return True
    statement_failed(statement_id=statement_id, error=_("The task queue is not reachable."))
    return False


def statement_prepare(*, statement_id: int) -> PreparedStatement:
    """Render a pending statement, store its PDF and mark it ``ready``; a render that fails
    marks it ``failed`` with the reason and stores nothing. A statement no longer pending
    is returned untouched, so running the task twice is safe.
    Raises ``PreparedStatement.DoesNotExist``."""
    statement = PreparedStatement.objects.select_related("customer__location").get(pk=statement_id)
    if statement.status != Status.PENDING:
        return statement
    try:
        data = customer_statement_pdf_bytes(
            customer=statement.customer,
            start=statement.start,
            end=statement.end,
            today=timezone.localdate(statement.created_at),
            language=statement.language,
        )
    except (ApplicationError, PdfRenderError) as error:
        statement_failed(statement_id=statement.pk, error=getattr(error, "message", str(error)))
        return PreparedStatement.objects.get(pk=statement.pk)
    except Exception:
        logger.exception("Preparing statement %s failed.", statement.pk)
        statement_failed(statement_id=statement.pk, error=_("unexpected error; it has been logged"))
        return PreparedStatement.objects.get(pk=statement.pk)
    storage = statement.pdf_file.storage
    name = storage.save(
        f"{STATEMENTS_FOLDER}/{statement.customer_id}/statement-{statement.pk}.pdf",
        ContentFile(data),
    )
    try:
        updated = PreparedStatement.objects.filter(pk=statement.pk, status=Status.PENDING).update(
            status=Status.READY, pdf_file=name, error="", finished_at=timezone.now()
        )
    except Exception:
        storage.delete(name)
        raise
    if not updated:  # another run finished it first
        storage.delete(name)
    return PreparedStatement.objects.get(pk=statement.pk)


def statement_failed(*, statement_id: int, error: str) -> bool:
    """Mark a pending statement ``failed`` with ``error``; ``False`` if it was no longer
    pending (finished meanwhile)."""
    return bool(
        PreparedStatement.objects.filter(pk=statement_id, status=Status.PENDING).update(
            status=Status.FAILED, error=error[:2000], finished_at=timezone.now()
        )
    )


def prepared_statements_purge(*, older_than: datetime.timedelta) -> int:
    """Delete statements prepared longer ago than ``older_than``, with their files: they
    are copies of what the ledger prints again at any time, kept for their download.
    Returns how many went."""
    old = PreparedStatement.objects.filter(created_at__lt=timezone.now() - older_than)
    storage = PreparedStatement._meta.get_field("pdf_file").storage
    count = 0
    for statement in old.only("pk", "pdf_file").iterator():
        if statement.pdf_file.name:
            storage.delete(statement.pdf_file.name)
        count += PreparedStatement.objects.filter(pk=statement.pk).delete()[0]
    if count:
        logger.info("Purged %s prepared statements.", count)
    return count
