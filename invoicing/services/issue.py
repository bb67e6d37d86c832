"""Issuing an invoice: its parties and VAT checked, its date and number taken in order,
its ledger entry posted.
"""

import dataclasses
import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.decimals import clean_decimal
from coworking.documents.models import VatRounding
from coworking.einvoice import parties
from coworking.einvoice.issue_check import check_before_issue
from coworking.events import EventType, InternalEventType, announce
from coworking.locking import lock_rows
from coworking.models import Customer, LedgerEntry, Location
from coworking.money import converted
from coworking.numbering import DocumentType, format_number, next_number
from coworking.selectors import exchange_rate_on
from coworking.services import ledger_post
from coworking.vat import VatCategory
from invoicing import line_vat
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.einvoice import invoice_document
from invoicing.errors import (
    ExchangeRateMissing,
    InvalidInvoiceLine,
    InvoiceDateOutOfOrder,
    InvoiceHasNoLines,
    InvoiceNotDraft,
    PartyDetailsMissing,
    ReverseChargeWithoutVatId,
)
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.payment_means import freeze_payee_account, freeze_payment_reference
from invoicing.selectors import available_credit
from invoicing.services.drafts import (
    DEFAULT_PAYMENT_TERM_DAYS,
    set_line_taxes,
    set_totals,
)
from invoicing.services.locks import invoice_lock
from invoicing.services.payments import settle


@transaction.atomic
def invoice_issue(
    *,
    invoice: Invoice,
    issue_date: datetime.date | None = None,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    exchange_rate: Decimal | None = None,
) -> Invoice:
    """Number a draft from its location's series, freeze it and debit the customer.

    The number's date is never before the previous number's (a series is in date order).
    An invoice in another currency than its location's VAT currency states its VAT in that
    currency too, at ``exchange_rate`` or else the latest ``ExchangeRate`` recorded on or
    before the issue date; the rate is kept on the invoice. The buyer reference is the
    draft's, else the customer's, else the invoice number (Peppol asks for one). The
    seller's and buyer's details are frozen on the invoice as they are now.
    Account credit the customer holds in the invoice's currency is applied at once (an
    ``account_credit`` payment up to the total), so the amount due drops by it. An invoice
    whose total is zero is issued ``paid``, with no ledger entry. Announces
    ``invoice.issuing`` just before it takes the number (the books prepare its entry
    there) and ``invoice.issued`` once it is written.

    Raises ``InvoiceNotFound``, ``InvoiceNotDraft``, ``InvoiceHasNoLines``,
    ``PartyDetailsMissing`` (the location or customer lacks what the invoice must state),
    ``ReverseChargeWithoutVatId``, ``ExchangeRateMissing`` or ``InvoiceDateOutOfOrder``;
    nothing is written then and the number is not used.
    """
    # The customer lock serialises credit application for one customer.
    lock_rows(Customer.objects.filter(pk=invoice.customer_id)).first()
    # The customer's location too: the e-invoice check reads its language.
    invoice = invoice_lock(
        invoice_id=invoice.pk, related=("location", "customer", "customer__location")
    )
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceNotDraft(_("Invoice %(number)s is already issued.") % {"number": invoice})
    # Read once, kept on the invoice: the books read both again to work out its journal
    # entry (``invoice.issuing``).
    prefetch_related_objects([invoice], "lines", "allowance_charges")
    lines = list(invoice.lines.all())
    if not lines:
        raise InvoiceHasNoLines()
    location, customer = invoice.location, invoice.customer
    _check_parties(location=location, customer=customer, lines=lines)
    allowance_charges = list(invoice.allowance_charges.all())
    changed = set_line_taxes(lines, allowance_charges)
    if changed:  # a draft made under the per-line rule: its lines as issued now
        InvoiceLine.objects.bulk_update(changed, ["net", "net_currency", "tax", "tax_currency"])
    currency = invoice.currency
    issue_date = issue_date or timezone.localdate()
    set_totals(invoice=invoice, lines=lines, allowance_charges=allowance_charges)
    invoice.vat_rounding = VatRounding.PER_DOCUMENT
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + datetime.timedelta(days=payment_term_days)
    invoice.issued_at = timezone.now()
    # Nothing to pay (a free day pass): settled as issued, and nothing on the account.
    free = invoice.total.amount == 0
    invoice.state = Invoice.State.PAID if free else Invoice.State.ISSUED
    _set_vat_currency(invoice, location=location, exchange_rate=exchange_rate)
    invoice.seller = parties.snapshot(parties.seller(location))
    invoice.buyer = parties.snapshot(parties.buyer(customer))
    credit = available_credit(customer=invoice.customer, currency=currency)
    applied = min(credit, invoice.total) if credit.amount > 0 and not free else None
    freeze_payee_account(invoice=invoice)  # the check states it, the invoice keeps it
    _check_einvoice(
        invoice,
        lines=lines,
        allowance_charges=allowance_charges,
        issue_date=issue_date,
        prepaid=applied,
    )
    # The books work out the invoice's journal entry now, outside the serial section.
    announce(type=InternalEventType.INVOICE_ISSUING, instance=invoice)
    invoice.sequence_number = next_number(
        location_id=location.pk, document_type=DocumentType.INVOICE
    )
    invoice.number = format_number(
        prefix=location.invoice_prefix, year=issue_date.year, number=invoice.sequence_number
    )
    _check_date_follows_previous(invoice)
    invoice.buyer_reference = invoice.buyer_reference or customer.buyer_reference or invoice.number
    freeze_payment_reference(invoice=invoice)
    # The location and the customer were read above, the customer locked: checking that
    # they exist would be two more queries that cannot fail.
    invoice.full_clean(
        exclude=["location", "customer"], validate_unique=False, validate_constraints=False
    )
    if not free:
        invoice.ledger_entry = ledger_post(
            customer_id=invoice.customer_id,
            kind=LedgerEntry.Kind.INVOICE,
            amount=invoice.total,
            description=_("Invoice %(number)s") % {"number": invoice.number},
            document_number=invoice.number,
            document_date=issue_date,
        )
    invoice.save()
    if applied is not None:
        Payment.objects.create(
            invoice=invoice,
            amount=applied,
            method=Payment.Method.ACCOUNT_CREDIT,
            received_on=issue_date,
        )
        settle(invoice=invoice, amount=applied)
    announce(type=EventType.INVOICE_ISSUED, instance=invoice)
    invoice_id = invoice.pk
    transaction.on_commit(lambda: INVOICE_DOCUMENT.queue_pdf(document_id=invoice_id), robust=True)
    return invoice


def _check_einvoice(
    invoice: Invoice,
    *,
    lines: Sequence[InvoiceLine],
    allowance_charges: Sequence,
    issue_date: datetime.date,
    prepaid,
) -> None:
    """The invoice as it will be issued, checked as an e-invoice before it takes its number
    (``coworking.einvoice.issue_check``; raises ``EInvoiceInvalid``). Its number is
    provisional here, passed to the builder (the rules check that there is one, not its
    digits); nothing is set on ``invoice``."""
    provisional = format_number(
        prefix=invoice.location.invoice_prefix, year=issue_date.year, number=0
    )
    prepaid = prepaid if prepaid is not None else Money(0, invoice.currency)
    document = invoice_document(
        invoice=invoice,
        lines=lines,
        allowance_charges=allowance_charges,
        prepaid=prepaid,
        number=provisional,
    )
    document = dataclasses.replace(
        document,
        buyer_reference=document.buyer_reference or invoice.customer.buyer_reference or provisional,
    )
    check_before_issue(document, label=_("Invoice draft #%(id)s") % {"id": invoice.pk})


def _check_parties(*, location: Location, customer: Customer, lines: Sequence[InvoiceLine]):
    missing = location.missing_for_documents()
    if missing:
        raise PartyDetailsMissing(
            _("Location %(location)s lacks what every invoice states: %(missing)s.")
            % {"location": location, "missing": ", ".join(missing)}
        )
    if not customer.country:
        raise PartyDetailsMissing(
            _("Customer %(customer)s has no country; every invoice states it.")
            % {"customer": customer}
        )
    categories = {line.vat_category for line in lines}
    if VatCategory.REVERSE_CHARGE in categories and not customer.tax_id.strip():
        raise ReverseChargeWithoutVatId(
            _(
                "Customer %(customer)s has no VAT id: a reverse-charge invoice must state it. "
                "Add it to the customer, or bill the lines with VAT."
            )
            % {"customer": customer}
        )
    if VatCategory.OUTSIDE_SCOPE in categories and not location.registration_id:
        raise PartyDetailsMissing(
            _(
                "An invoice outside the scope of VAT states no VAT id, so location "
                "%(location)s needs its legal registration id."
            )
            % {"location": location}
        )
    line_vat.check_at_issue(lines=lines, location=location, customer=customer)


def _set_vat_currency(invoice: Invoice, *, location: Location, exchange_rate) -> None:
    invoice.vat_currency = location.vat_currency
    if invoice.vat_currency == invoice.currency:
        invoice.vat_exchange_rate = invoice.tax_total_vat_currency = None
        return
    rate = exchange_rate
    if rate is None:
        rate = exchange_rate_on(
            currency=invoice.currency, vat_currency=invoice.vat_currency, date=invoice.issue_date
        )
    if rate is None:
        raise ExchangeRateMissing(
            _(
                "Invoice in %(currency)s from a location that pays VAT in %(vat_currency)s: no "
                "%(currency)s→%(vat_currency)s exchange rate on or before %(date)s. Record one "
                "(Coworking → Exchange rates) and issue again."
            )
            % {
                "currency": invoice.currency,
                "vat_currency": invoice.vat_currency,
                "date": invoice.issue_date.isoformat(),
            }
        )
    rate = clean_decimal(rate, field=_("Exchange rate"), error=InvalidInvoiceLine)
    if rate <= 0:
        raise ExchangeRateMissing(_("The exchange rate must be positive."))
    invoice.vat_exchange_rate = rate
    invoice.tax_total_vat_currency = converted(invoice.tax_total.amount, rate=rate)


def _check_date_follows_previous(invoice: Invoice) -> None:
    """Under the series' counter lock, compare with the previous number of the series (the
    database checks the same in a trigger; this is the friendly message)."""
    previous = (
        Invoice.objects.filter(
            location_id=invoice.location_id, sequence_number=invoice.sequence_number - 1
        )
        .values_list("number", "issue_date")
        .first()
    )
    if previous is not None and previous[1] > invoice.issue_date:
        raise InvoiceDateOutOfOrder(
            _(
                "Invoice date %(date)s is before %(previous_date)s, the date of %(previous)s, "
                "the previous number of this series: a later number cannot have an earlier "
                "date. Issue it on or after %(previous_date)s."
            )
            % {
                "date": invoice.issue_date.isoformat(),
                "previous": previous[0],
                "previous_date": previous[1].isoformat(),
            }
        )
