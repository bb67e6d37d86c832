"""What a credit note tells the customer about where its amount went, shared by its PDF,
its e-mail and its e-invoice's payment terms (BT-20), so the three never disagree."""

from django.utils.translation import gettext as _

from coworking.banking.accounts import format_iban
from coworking.einvoice.parties import buyer_of
from credits.models import CreditNote


def allocation_sentences(*, credit_note: CreditNote, money) -> list[str]:
    """One sentence per part of the note that holds an amount (off the amount due, account
    credit, refund, settled outside), amounts written by ``money`` (a formatter's), in the
    active language. "Stays as credit on your account" only when some of it did; a refund
    names the customer's account when the note was issued with one."""
    iban = buyer_of(credit_note).iban
    refunded = (
        _("%(amount)s is refunded to you by bank transfer to your account %(iban)s.")
        if iban
        else _("%(amount)s is refunded to you.")
    )
    parts = (
        (credit_note.amount_off_due, _("%(amount)s reduces what is still due on the invoice.")),
        (
            credit_note.account_credit_amount,
            _("%(amount)s stays as credit on your account and is used against your next invoices."),
        ),
        (credit_note.refund_amount, refunded),
        (credit_note.settled_outside_amount, _("%(amount)s was settled with you separately.")),
    )
    return [
        sentence % {"amount": money(amount), "iban": format_iban(iban)}
        for amount, sentence in parts
        if amount.amount
    ]
