"""What a credit note tells the customer, in its PDF, its e-mail and its e-invoice note
(BT-22): the reason code's label, never the internal free-text reason, and where the credit
went, one sentence per part that holds an amount: "stays as credit on your account" only when
the allocation put some on account credit."""

from decimal import Decimal

import pytest
from django.core import mail
from djmoney.money import Money
from facturx import parse_ubl_cii_xml

from coworking.einvoice.document import Syntax
from credits.documents import CREDIT_NOTE_DOCUMENT, credit_note_send_email
from credits.einvoice import credit_note_einvoice
from credits.pdf import credit_note_pdf_bytes
from credits.services import Allocation, LineCredit, Rest, credit_note_issue, invoice_cancel
from invoicing.models import Channel
from invoicing.services import payment_record
from tests.conftest import pdf_text
from tests.factories import CustomerFactory, issued_invoice
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

INTERNAL = "Staff note: customer shouted"
OFF_DUE = "reduces what is still due on the invoice."
ACCOUNT_CREDIT = "stays as credit on your account and is used against your next invoices."
REFUNDED = "is refunded to you."
SETTLED = "was settled with you separately."


def invoice_for(*, paid=None, language="en", **customer):
    invoice = issued_invoice(customer=CustomerFactory(language=language, **customer))
    if paid:
        amount = invoice.amount_due if paid == "all" else Money(Decimal(paid), invoice.currency)
        payment_record(invoice=invoice, amount=amount)
        invoice.refresh_from_db()
    return invoice


def one_meeting_hour(invoice, *, rest=Rest.ACCOUNT_CREDIT, reason_code="service_not_used"):
    """Credit 1 of the 3 meeting-room hours: €35.00 + €3.15 tax = €38.15."""
    line = invoice.lines.get(position=2)
    return credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=line.pk, quantity=Decimal("1"))],
        reason=INTERNAL,
        reason_code=reason_code,
        allocation=Allocation(rest=rest),
        actor=None,
        channel=Channel.CLI,
    )


def text(note) -> str:
    return " ".join(normalise(pdf_text(credit_note_pdf_bytes(credit_note=note))).split())


@pytest.mark.parametrize(
    ("paid", "rest", "parts"),
    [
        (None, Rest.ACCOUNT_CREDIT, {OFF_DUE: "€38.15"}),
        ("all", Rest.ACCOUNT_CREDIT, {ACCOUNT_CREDIT: "€38.15"}),
        ("all", Rest.REFUND, {REFUNDED: "€38.15"}),
        ("all", Rest.SETTLED_OUTSIDE, {SETTLED: "€38.15"}),
        ("480.00", Rest.REFUND, {OFF_DUE: "€21.65", REFUNDED: "€16.50"}),
    ],
)
def test_a_partial_note_says_where_its_credit_went_and_nothing_else(paid, rest, parts):
    note = one_meeting_hour(invoice_for(paid=paid), rest=rest)
    printed = text(note)

    assert "This credit note corrects the invoice above by the lines it shows." in printed
    assert "Reason: Service not used" in printed
    assert "shouted" not in printed
    for sentence in (OFF_DUE, ACCOUNT_CREDIT, REFUNDED, SETTLED):
        if sentence in parts:
            assert f"{parts[sentence]} {sentence}" in printed
        else:
            assert sentence not in printed
    assert "Any amount already paid" not in printed


@pytest.mark.parametrize(
    ("paid", "present", "absent"),
    [
        (None, [f"€501.65 {OFF_DUE}"], [ACCOUNT_CREDIT]),
        ("10.00", [f"€491.65 {OFF_DUE}", f"€10.00 {ACCOUNT_CREDIT}"], [REFUNDED]),
    ],
)
def test_a_cancel_says_account_credit_only_when_something_was_paid(paid, present, absent):
    note = invoice_cancel(
        invoice=invoice_for(paid=paid), actor=None, reason=INTERNAL, channel=Channel.CLI
    )
    printed = text(note)
    assert "This credit note cancels the invoice above in full." in printed
    assert "Reason" not in printed and "shouted" not in printed  # code "other": no reason
    for sentence in present:
        assert sentence in printed
    for sentence in absent:
        assert sentence not in printed


def test_in_french_the_reason_and_the_sentence_are_translated():
    printed = text(one_meeting_hour(invoice_for(language="fr")))
    assert "Motif : Service non utilisé" in printed
    assert "38,15 € viennent en déduction du montant restant dû sur la facture." in printed
    assert "Cet avoir corrige la facture ci-dessus des lignes qu'il indique." in printed


@pytest.mark.parametrize(("paid", "expected"), [(None, OFF_DUE), ("all", ACCOUNT_CREDIT)])
def test_the_email_says_what_the_pdf_says(private_documents, paid, expected):
    invoice = invoice_for(paid=paid, location__email_documents=True)
    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=one_meeting_hour(invoice))
    assert credit_note_send_email(credit_note=note) is True

    (message,) = mail.outbox
    body = " ".join(message.body.split())
    assert f"credit note {note.number}, which corrects invoice {invoice.number}." in body
    assert "Reason: Service not used" in body and "shouted" not in body
    assert f"€38.15 {expected}" in body
    assert ({OFF_DUE, ACCOUNT_CREDIT} - {expected}).pop() not in body


@pytest.mark.parametrize("syntax", Syntax.values)
def test_the_einvoice_note_is_the_customer_reason(syntax):
    invoice = invoice_for(language="fr")
    note = one_meeting_hour(invoice)
    xml = credit_note_einvoice(credit_note=note, syntax=syntax)
    assert parse_ubl_cii_xml(xml)["BG-1"] == [{"BT-22": "Motif : Service non utilisé"}]
    assert b"shouted" not in xml

    other = one_meeting_hour(invoice, reason_code="other")
    xml = credit_note_einvoice(credit_note=other, syntax=syntax)
    assert "BG-1" not in parse_ubl_cii_xml(xml) and b"shouted" not in xml


@pytest.mark.parametrize(
    ("rest", "expected"), [(Rest.ACCOUNT_CREDIT, ACCOUNT_CREDIT), (Rest.REFUND, REFUNDED)]
)
@pytest.mark.parametrize("syntax", Syntax.values)
def test_the_einvoice_payment_terms_say_where_the_credit_went(syntax, rest, expected):
    """BT-20 says what the PDF says: on a paid invoice, account credit or a refund, never
    "credited to the account" when it was refunded."""
    note = one_meeting_hour(invoice_for(paid="all"), rest=rest)
    terms = parse_ubl_cii_xml(credit_note_einvoice(credit_note=note, syntax=syntax))["BT-20"]
    assert terms == f"€38.15 {expected}"
    assert ({ACCOUNT_CREDIT, REFUNDED} - {expected}).pop() not in terms
