"""What a document states beyond EN 16931 because the seller's country asks it, as notes
(BG-1, with their UNTDID 4451 subject codes) that the XML carries and the PDF prints.

France, on every business-to-business document of a French seller: the late-payment
penalty rate, the fixed 40 € indemnity for recovery costs (Code de commerce L441-10 and
D441-5) and the early-payment discount terms, or that none is granted (PMT, PMD, AAB; on
invoices, the documents that ask for payment); the category of the operation (services),
the option for VAT on debits where the seller chose it (then VAT is due at the invoice date,
BT-8), and the place the service is performed (BG-13) when it is not the buyer's address.

Call under the document's language (``translation.override``).
"""

import dataclasses
from decimal import Decimal

from django.utils.translation import gettext as _

from coworking.einvoice.document import Document, Note, NoteSubject
from coworking.l10n import human_number
from coworking.money import format_money

RECOVERY_INDEMNITY = Decimal("40.00")  # EUR, Code de commerce D441-5


def french_business_notes(document: Document) -> tuple[Note, ...]:
    """The notes of a French seller's document to a business (none otherwise)."""
    seller, buyer = document.seller, document.buyer
    if seller.country != "FR" or not buyer.business:
        return ()
    notes = []
    if not document.is_credit_note:
        notes += [
            Note(_penalties(seller.late_payment_rate), NoteSubject.PENALTIES),
            Note(
                _(
                    "Fixed indemnity for recovery costs in case of late payment: %(amount)s "
                    "(Code de commerce, articles L441-10 and D441-5)."
                )
                % {"amount": format_money(RECOVERY_INDEMNITY, "EUR")},
                NoteSubject.RECOVERY_COSTS,
            ),
            Note(
                _("Early-payment discount: %(terms)s") % {"terms": seller.early_payment_discount}
                if seller.early_payment_discount
                else _("No discount for early payment."),
                NoteSubject.DISCOUNT,
            ),
        ]
    notes.append(Note(_("Category of the operation: supply of services."), NoteSubject.TAX))
    if seller.vat_on_debits:
        notes.append(Note(_("Option for the payment of VAT on debits."), NoteSubject.TAX))
    return tuple(notes)


def _penalties(rate: str) -> str:
    if not rate:
        return _(
            "Late-payment penalties: the European Central Bank's refinancing rate plus 10 "
            "points, from the day after the due date."
        )
    return _("Late-payment penalties: %(rate)s a year, from the day after the due date.") % {
        "rate": human_number(Decimal(rate), percent=True)
    }


def with_national_mentions(document: Document) -> Document:
    """``document`` with the notes, VAT point and place of performance its seller's
    country asks for (see the module's docstring)."""
    notes = french_business_notes(document)
    if not notes:
        return document
    seller, buyer = document.seller, document.buyer
    elsewhere = (seller.street_lines, seller.postcode, seller.city, seller.country) != (
        buyer.street_lines,
        buyer.postcode,
        buyer.city,
        buyer.country,
    )
    return dataclasses.replace(
        document,
        notes=document.notes + notes,
        vat_on_invoice_date=seller.vat_on_debits and not document.is_credit_note,
        deliver_to=seller if elsewhere else None,
    )
