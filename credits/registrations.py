"""What credits tells the apps below it: the customer ledger (``coworking.registry``) about
the entries it posts, a credit note's credit and a refund's debit, and about its documents;
invoicing (``invoicing.corrections``) about the credit notes of an invoice."""

from django.utils.translation import gettext as _

from coworking.models import LedgerEntry
from coworking.registry import LedgerSource, register_documents, register_ledger_source
from invoicing.corrections import Correction, register_corrections

_REFUNDS = (LedgerEntry.Kind.REFUND, LedgerEntry.Kind.SETTLED_OUTSIDE)


def _describe(entry: LedgerEntry) -> str:
    number = entry.document_number
    if entry.kind == LedgerEntry.Kind.CREDIT_NOTE:
        if entry.credit_note.cancels_invoice:
            return _("Credit note cancelling %(invoice)s") % {"invoice": number}
        return _("Credit note on %(invoice)s") % {"invoice": number}
    text = (
        _("Refund of account credit")
        if entry.kind == LedgerEntry.Kind.REFUND
        else _("Account credit settled outside")
    )
    return f"{text} ({number})" if number else str(text)


def _document(entry: LedgerEntry):
    if entry.kind == LedgerEntry.Kind.CREDIT_NOTE:
        return entry.credit_note, "admin:credits_creditnote_change"
    refund = entry.refund
    return refund.reference or refund.get_kind_display(), ""


def _number(entry: LedgerEntry) -> str:
    if entry.kind == LedgerEntry.Kind.CREDIT_NOTE:
        return entry.credit_note.number
    return entry.refund.reference or entry.document_number


def _api(entry: LedgerEntry) -> dict:
    if entry.kind == LedgerEntry.Kind.CREDIT_NOTE:
        note = entry.credit_note
        return {
            "invoice": note.invoice_id,
            "invoice_number": entry.document_number,
            "payment": None,
            "credit_note": note.pk,
            "credit_note_number": note.number,
        }
    refunded = entry.refund.credit_note
    values: dict[str, int | str | None] = dict.fromkeys(
        ("invoice", "payment", "credit_note", "credit_note_number")
    )
    if refunded is not None:
        values.update(invoice=refunded.invoice_id, invoice_number=entry.document_number)
    return values


def register() -> None:
    register_ledger_source(
        LedgerSource(
            kinds=(LedgerEntry.Kind.CREDIT_NOTE, *_REFUNDS),
            related=("credit_note", "refund__credit_note"),
            describe=_describe,
            document=_document,
            number=_number,
            about=lambda entry: entry.document_number if entry.kind in _REFUNDS else "",
            api=_api,
        )
    )
    register_documents(
        of_location=lambda location: location.credit_notes.exists(),
        of_customer=lambda customer: customer.credit_notes.exists(),
    )
    register_corrections(prefetch="credit_notes", read=_corrections)


def _corrections(invoice) -> list[Correction]:
    return [
        Correction(
            id=note.pk,
            number=note.number,
            issue_date=note.issue_date,
            total=note.total,
            cancels_invoice=note.cancels_invoice,
            reason_code=note.reason_code,
            reason_label=str(note.get_reason_code_display()),
            api_view="api:creditnote-detail",
        )
        for note in invoice.credit_notes.all()
    ]
