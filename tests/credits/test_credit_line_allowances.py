"""Credit notes of discounted lines credit the net after the discount: a part of the line
takes back its share of the discount (stated on the note's line, BG-27), and cancelling
credits exactly what is left; both notes are valid e-invoices and reconcile stays clean."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from credits.einvoice import credit_note_einvoice
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.models import Channel
from tests.factories import issued_invoice, line

pytestmark = pytest.mark.django_db


def fatal(xml: bytes) -> list[str]:
    report = validate(xml)
    return [*report.schema_errors, *(str(f) for f in report.fatal)]


def test_crediting_part_of_a_discounted_line_credits_its_net_after_the_discount():
    invoice = issued_invoice(
        specs=[
            line("Day pass", "4", "25.00", "21", allowance_percent="10", allowance_reason="Pack"),
            ("Meeting room (hours)", "2", "35.00", "21"),
        ]
    )
    passes = invoice.lines.get(position=1)
    assert passes.net.amount == Decimal("90.00")

    partial = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=passes.pk, quantity=Decimal("1"))],
        reason="One pass unused",
        actor=None,
        channel=Channel.CLI,
    )
    credited = partial.lines.get()
    assert credited.net.amount == Decimal("-22.50")  # 25.00 less its 10 %
    assert credited.allowance == Decimal("2.50")
    assert credited.allowance_reason == "Pack"

    full = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    rest = full.lines.get(invoice_line=passes)
    assert rest.net.amount == Decimal("-67.50")
    assert rest.allowance == Decimal("7.50")
    invoice.refresh_from_db()
    assert partial.total + full.total == -invoice.total
    for note in (partial, full):
        for syntax in Syntax.values:
            assert fatal(credit_note_einvoice(credit_note=note, syntax=syntax)) == []
    call_command("reconcile")
