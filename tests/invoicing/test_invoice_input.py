"""Bad input to drafting: a typed error, nothing written."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from coworking.errors import CurrencyMismatch
from invoicing.errors import InvalidInvoiceLine, InvoiceHasNoLines
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import LineInput, invoice_create_draft
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def line(**overrides) -> LineInput:
    values = {
        "description": "Hot desk",
        "quantity": Decimal("1"),
        "unit_price": Money("190.00", "EUR"),
        "tax_rate": Decimal("21"),
    }
    values.update(overrides)
    return LineInput(**values)


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([], InvoiceHasNoLines),
        ([line(quantity=Decimal("-1"))], InvalidInvoiceLine),
        ([line(quantity=Decimal("0"))], InvalidInvoiceLine),
        ([line(quantity=1.5)], InvalidInvoiceLine),
        ([line(quantity="NaN")], InvalidInvoiceLine),
        ([line(unit_price=Money("-1.00", "EUR"))], InvalidInvoiceLine),
        ([line(unit_price=Decimal("190.00"))], InvalidInvoiceLine),
        ([line(tax_rate=Decimal("100"))], InvalidInvoiceLine),
        ([line(description="  ")], InvalidInvoiceLine),
        ([line(), line(unit_price=Money("10.00", "GBP"))], CurrencyMismatch),
    ],
)
def test_bad_drafts_are_refused_and_write_nothing(lines, error):
    customer = CustomerFactory()
    with pytest.raises(error) as raised:
        invoice_create_draft(customer=customer, lines=lines)
    assert raised.value.code and raised.value.message
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()
