"""Credit notes of invoices with document level discounts or charges: a cancel mirrors
them and reverses the invoice exactly; a partial credit is refused with a clear message
(which lines a discount on the whole invoice belongs to is not stated), nothing written."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from credits.errors import PartialCreditNotPossible
from credits.models import CreditNote
from credits.reconciliation import reconcile
from credits.services import AmountCredit, LineCredit, credit_note_issue, invoice_cancel
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.models import Channel
from tests.factories import issued_invoice

pytestmark = pytest.mark.django_db

SPECS = [("Dedicated desk", "1", "400.00", "21"), ("Meeting room", "3", "30.00", "21")]
DISCOUNT = [AllowanceChargeInput(percent=Decimal("12.5"), reason="Launch offer")]


def test_cancelling_credits_the_discount_with_the_lines():
    invoice = issued_invoice(specs=SPECS, allowance_charges=DISCOUNT)
    assert invoice.net_total.amount == Decimal("428.75")  # 490.00 − 61.25

    note = invoice_cancel(invoice=invoice, actor=None, reason="Wrong offer", channel=Channel.CLI)

    assert note.cancels_invoice
    row = note.allowance_charges.get()
    assert (row.kind, row.amount.amount, row.reason, row.percent) == (
        "allowance",
        Decimal("61.25"),
        "Launch offer",
        Decimal("12.50"),
    )
    assert note.total == -invoice.total and note.tax_total == -invoice.tax_total
    invoice.refresh_from_db()
    assert invoice.state == "cancelled" and invoice.amount_credited == invoice.total
    assert {name: found for name, found in reconcile().items() if found} == {}


@pytest.mark.parametrize("request_kind", ["line", "amount"])
def test_a_partial_credit_is_refused_and_nothing_is_written(request_kind):
    invoice = issued_invoice(specs=SPECS, allowance_charges=DISCOUNT)
    first = invoice.lines.get(position=1)
    request = (
        {"lines": [LineCredit(invoice_line=first.pk, quantity=Decimal("1"))]}
        if request_kind == "line"
        else {"amount": AmountCredit(Money("10.00", "EUR"), Decimal("21"), "Goodwill")}
    )

    with pytest.raises(PartialCreditNotPossible) as refused:
        credit_note_issue(
            invoice=invoice,
            reason="Unused",
            reason_code="service_not_used",
            actor=None,
            channel=Channel.CLI,
            **request,
        )

    assert "cancel it and issue a corrected invoice" in refused.value.message
    assert refused.value.code == "partial_credit_not_possible"
    assert not CreditNote.objects.exists()
