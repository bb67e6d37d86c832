"""How an invoice is paid: the payment reference and the location's bank account, frozen
on the invoice when it is issued (``freeze_payee_account``, ``freeze_payment_reference``:
``invoice_issue``), stated by its e-invoice (BG-16, ``invoice_payment_means``) and printed
on its PDF with an EPC QR code for euro transfers (``payment_context``).

An invoice issued from a location without an account in its currency carries its reference
but no bank details (and no payment means in its e-invoice). Invoices issued before
references were recorded state the ones they would have been issued with.
"""

from django.utils.translation import gettext as _

from coworking.banking.accounts import format_iban
from coworking.banking.epc_qr import epc_payload, qr_svg
from coworking.banking.means import payee_account, transfer_means
from coworking.banking.references import (
    epc_remittance,
    invoice_payment_reference,
    printed_reference,
)
from coworking.documents.rendering import Formatter
from coworking.einvoice.document import Document, PaymentMeans
from invoicing.models import Invoice


def _reference(invoice: Invoice, *, number: str) -> str:
    return invoice_payment_reference(
        country=str(invoice.location.country), invoice_id=invoice.pk, number=number
    )


def freeze_payee_account(*, invoice: Invoice) -> None:
    """Set the bank account of an invoice being issued, before its e-invoice check reads
    it (``invoice_payment_means`` with the number it will take); the caller saves it. One
    query, the only read of the account in an issue."""
    invoice.payee_account = payee_account(
        location_id=invoice.location_id, currency=invoice.currency
    )


def freeze_payment_reference(*, invoice: Invoice) -> None:
    """Set the payment reference of an invoice being issued, once it has its number (the
    reference is made from it); the caller saves it. No query."""
    invoice.payment_reference = _reference(invoice, number=invoice.number)


def invoice_payment_means(*, invoice: Invoice, number: str | None = None) -> PaymentMeans | None:
    """BG-16 of an issued invoice: a credit transfer to the account it was issued with,
    quoting its reference; ``None`` when it was issued without an account. ``number`` is
    the one an invoice being issued will take (its reference is made from it; its account
    was frozen just before, ``freeze_payee_account``)."""
    if invoice.payment_reference:
        reference, account = invoice.payment_reference, invoice.payee_account
    elif number is not None:
        reference, account = _reference(invoice, number=number), invoice.payee_account
    else:  # issued before references were recorded: the ones it would have been issued with
        reference = _reference(invoice, number=invoice.number)
        account = payee_account(location_id=invoice.location_id, currency=invoice.currency)
    return transfer_means(
        iban=account.get("iban", ""),
        currency=invoice.currency,
        holder=account.get("holder", ""),
        bic=account.get("bic", ""),
        reference=reference,
    )


def payment_context(*, invoice: Invoice, values: Document, fmt: Formatter) -> dict:
    """What the PDF prints under the totals while something is due: the transfer's
    details (holder, IBAN, BIC, reference) and, for euros, the EPC QR code that fills
    them in with the amount due."""
    means, due = values.payment_means, values.amount_due
    reference = invoice.payment_reference or (means.reference if means else "")
    if due <= 0 or not reference:
        return {}
    context: dict[str, object] = {"payment_reference": printed_reference(reference)}
    if means is None:
        return context
    context["payment_instruction"] = _(
        "Please transfer %(amount)s to the account below, quoting the payment reference."
    ) % {"amount": fmt.money(due, values.currency)}
    context["bank_rows"] = [
        (_("Account holder"), means.account_name),
        (_("IBAN"), format_iban(means.iban)),
        (_("BIC"), means.bic),
    ]
    if means.is_sepa:
        payload = epc_payload(
            name=means.account_name,
            iban=means.iban,
            bic=means.bic,
            amount=due,
            reference=epc_remittance(reference),
        )
        context["epc_qr"] = qr_svg(payload)
    return context
