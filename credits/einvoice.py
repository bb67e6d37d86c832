"""Credit notes as e-invoices (EN 16931, type 381), in CII or UBL: see
``coworking.einvoice``. Amounts are stated positive; the note refers to the invoice it
corrects (BT-25, BT-26)."""

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from coworking.banking.means import transfer_means
from coworking.documents.rendering import Formatter, document_language
from coworking.einvoice import check_syntax
from coworking.einvoice.document import Document, Syntax, TypeCode, goes_by_peppol
from coworking.einvoice.issue_check import check_before_issue
from coworking.einvoice.issued import issued_fields
from coworking.einvoice.mentions import with_national_mentions
from coworking.einvoice.syntax import render
from coworking.einvoice.validation import Report, validate
from coworking.numbering import format_number
from credits.models import CreditNote, CreditNoteAllowanceCharge
from credits.wording import allocation_sentences
from invoicing.einvoice import invoice_document
from invoicing.models import Invoice


def credit_note_document(
    *, credit_note: CreditNote, lines=None, allowance_charges=None
) -> Document:
    """What a credit note states, as an EN 16931 document (with ``lines`` and
    ``allowance_charges`` instead of its stored ones for an unsaved preview)."""
    lines = credit_note.lines.all() if lines is None else lines
    if allowance_charges is None:
        allowance_charges = (
            credit_note.allowance_charges.all()
            if credit_note.pk
            else CreditNoteAllowanceCharge.mirroring(credit_note)
        )
    with translation.override(document_language(credit_note.customer)):
        return with_national_mentions(_document(credit_note, lines, allowance_charges))


def _document(credit_note: CreditNote, lines, allowance_charges) -> Document:
    fields = issued_fields(
        credit_note, lines=lines, allowance_charges=allowance_charges, credited=True
    )
    buyer = fields["buyer"]
    return Document(
        type_code=TypeCode.CREDIT_NOTE,
        **fields,
        payment_terms=_payment_terms(credit_note),
        buyer_reference=credit_note.buyer_reference or credit_note.invoice_number,
        preceding_invoice=(credit_note.invoice_number, credit_note.invoice_issue_date),
        note=_customer_reason(credit_note),
        payment_means=(
            transfer_means(
                iban=buyer.iban,
                currency=credit_note.currency,
                holder=buyer.name,
                reference=credit_note.number,
            )
            if credit_note.refund_amount.amount
            else None
        ),
    )


def _payment_terms(credit_note: CreditNote) -> str:
    """BT-20: where the note's amount went (off the amount due, account credit, refund,
    settled outside), the sentences its PDF prints, in the customer's language."""
    language = document_language(credit_note.customer)
    with translation.override(language):
        return " ".join(
            allocation_sentences(credit_note=credit_note, money=Formatter(language).money)
        )


def _customer_reason(credit_note: CreditNote) -> str:
    """BT-22: the reason the customer reads, in the customer's language whatever the
    request's (the PDF embeds this XML and the API serves it: they must be the same)."""
    with translation.override(document_language(credit_note.customer)):
        reason = credit_note.customer_reason
        return _("Reason: %(reason)s") % {"reason": reason} if reason else ""


def check_credit_note_einvoice(*, credit_note: CreditNote, lines, allowance_charges) -> None:
    """The note about to be issued (unsaved, with ``lines``), checked as an e-invoice before it
    takes its number, under a provisional one (``coworking.einvoice.issue_check``; raises
    ``EInvoiceInvalid``)."""
    provisional = format_number(
        prefix=credit_note.location.credit_note_prefix, year=credit_note.issue_date.year, number=0
    )
    document = dataclasses.replace(
        credit_note_document(
            credit_note=credit_note, lines=lines, allowance_charges=allowance_charges
        ),
        number=provisional,
    )
    label = _("The credit note on %(invoice)s") % {"invoice": credit_note.invoice_number}
    check_before_issue(document, label=label)


def credit_note_einvoice(*, credit_note: CreditNote, syntax: str) -> bytes:
    """The credit note's XML in ``syntax`` (``cii`` or ``ubl``). Raises ``UnknownSyntax``."""
    check_syntax(syntax)
    return render(credit_note_document(credit_note=credit_note), syntax=syntax)


@dataclass(frozen=True)
class EInvoiceCheck:
    """The validation of one document in one syntax."""

    kind: str  # "invoice" or "credit note"
    number: str
    syntax: str
    report: Report


def einvoices_check(
    *, syntaxes: Sequence[str] = tuple(Syntax.values), peppol: bool = False
) -> Iterator[EInvoiceCheck]:
    """Build and validate every issued invoice and every credit note in each syntax,
    invoices first, in number order; with ``peppol``, the UBL of every document to a
    business with a Peppol address against the Peppol BIS Billing 3.0 rules too. A
    document that cannot even be built is reported as a schema error rather than
    stopping the run."""
    invoices = (
        Invoice.objects.exclude(state=Invoice.State.DRAFT)
        .select_related("location", "customer")
        .prefetch_related("lines", "allowance_charges")
        .order_by("location_id", "sequence_number")
    )
    notes = (
        CreditNote.objects.select_related("location", "customer")
        .prefetch_related("lines", "allowance_charges")
        .order_by("location_id", "sequence_number")
    )
    # A stream, not a list: the documents are read 500 at a time as the checks go (a list
    # held every invoice and credit note with its lines: 5 GB at a million invoices).
    documents = itertools.chain(
        (
            (_("invoice"), invoice.number, lambda i=invoice: invoice_document(invoice=i))
            for invoice in invoices.iterator(chunk_size=500)
        ),
        (
            (_("credit note"), note.number, lambda n=note: credit_note_document(credit_note=n))
            for note in notes.iterator(chunk_size=500)
        ),
    )
    for kind, number, build in documents:
        try:
            document = build()
        except Exception as error:
            failure = Report(syntax=None, schema_errors=[f"{type(error).__name__}: {error}"])
            for syntax in syntaxes:
                yield EInvoiceCheck(kind=kind, number=number, syntax=syntax, report=failure)
            continue
        for syntax in syntaxes:
            check_syntax(syntax)
            try:
                report = validate(
                    render(document, syntax=syntax), peppol=peppol and goes_by_peppol(document)
                )
            except Exception as error:
                report = Report(syntax=syntax, schema_errors=[f"{type(error).__name__}: {error}"])
            yield EInvoiceCheck(kind=kind, number=number, syntax=syntax, report=report)
