"""Credit arithmetic without the database: parts of lines and amounts, what is left."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from coworking.errors import CurrencyMismatch
from credits.calculations import (
    everything_left_parts,
    part_net,
    requested_parts,
    vat_currency_tax,
)
from credits.errors import (
    CreditExceedsLine,
    CreditExceedsRate,
    CreditLineNotOnInvoice,
    InvalidCreditNote,
    NothingLeftToCredit,
    TaxRateNotOnInvoice,
)
from credits.selectors import Creditable, CreditableLine, CreditableRate
from credits.services.requests import AmountCredit, LineCredit
from invoicing.models import Invoice

D = Decimal
VAT = {"vat_category": "S", "period_start": D(1), "period_end": D(2)}


def line(*, quantity="3", unit_price="3.33", net="9.99", tax="2.10", credited=("0", "0", "0")):
    return CreditableLine(
        id=7,
        position=1,
        description="Desk",
        quantity=D(quantity),
        unit_price=D(unit_price),
        tax_rate=D("21.00"),
        net=D(net),
        tax=D(tax),
        credited_quantity=D(credited[0]),
        credited_net=D(credited[1]),
        credited_tax=D(credited[2]),
        vat=VAT,
    )


def creditable(the_line, *, amount_credited_net="0"):
    credited_net = the_line.credited_net + D(amount_credited_net)
    rate = CreditableRate(
        rate=D("21.00"),
        net=the_line.net,
        tax=the_line.tax,
        credited_net=credited_net,
        credited_tax=the_line.credited_tax,
        amount_credited_net=D(amount_credited_net),
    )
    invoice = Invoice(number="F-2026-0001", currency="EUR")
    return Creditable(invoice=invoice, lines=[the_line], rates={D("21.00"): rate})


def credit_one(the_line, quantity="1"):
    (part,) = requested_parts(
        creditable(the_line), lines=[LineCredit(invoice_line=7, quantity=D(quantity))], amount=None
    )
    return part.net, part.tax


def test_a_part_is_what_the_credited_quantity_is_worth_after_it_minus_before():
    assert part_net(line(), quantity=D(1)) == D("3.33")
    second = line(credited=("1", "3.33", "0.70"))
    assert part_net(second, quantity=D(1)) == D("3.33")
    # The note's VAT is its own base × the rate, rounded once: 3.33 × 21 % = 0.6993.
    assert credit_one(line()) == (D("3.33"), D("0.70"))


def test_the_part_that_completes_a_line_takes_exactly_what_is_left():
    last = line(credited=("2", "6.66", "1.41"))
    assert credit_one(last) == (D("3.33"), D("0.69"))  # the VAT left, not 0.70
    credited = [D(0), D(0)]
    for quantity in (D("0.333"), D("0.333"), D("0.334")):
        state = (str(credited[0]), str(credited[1]), "0")
        current = line(quantity="1", unit_price="10.00", net="10.00", tax="2.10", credited=state)
        credited = [credited[0] + quantity, credited[1] + part_net(current, quantity=quantity)]
    assert credited == [D(1), D("10.00")]


def test_requested_parts_refuse_more_than_is_left():
    with pytest.raises(CreditLineNotOnInvoice):
        requested_parts(
            creditable(line()), lines=[LineCredit(invoice_line=8, quantity=D(1))], amount=None
        )
    with pytest.raises(CreditExceedsLine):
        requested_parts(
            creditable(line()), lines=[LineCredit(invoice_line=7, quantity=D(4))], amount=None
        )
    done = line(credited=("3", "9.99", "2.10"))
    with pytest.raises(NothingLeftToCredit):
        requested_parts(
            creditable(done), lines=[LineCredit(invoice_line=7, quantity=D(1))], amount=None
        )
    with pytest.raises(CreditExceedsRate):
        requested_parts(
            creditable(line(), amount_credited_net="9.00"),
            lines=[LineCredit(invoice_line=7, quantity=D(1))],
            amount=None,
        )


def test_an_amount_is_credited_at_a_rate_of_the_invoice_in_its_currency():
    left = creditable(line())

    def amount(value, rate="21", currency="EUR", description=""):
        credit = AmountCredit(
            value=Money(value, currency), tax_rate=D(rate), description=description
        )
        return requested_parts(left, lines=[], amount=credit)

    (part,) = amount("5.00")
    assert (part.net, part.tax, part.invoice_line_id) == (D("5.00"), D("1.05"), None)
    (whole,) = amount("9.99")
    assert whole.tax == D("2.10")  # all the net left takes all the tax left
    with pytest.raises(TaxRateNotOnInvoice):
        amount("5.00", rate="6")
    with pytest.raises(CurrencyMismatch):
        amount("5.00", currency="USD")
    with pytest.raises(CreditExceedsRate):
        amount("10.00")
    with pytest.raises(InvalidCreditNote):
        amount("1.00", description="two\nlines")


def test_everything_left_after_free_amounts_is_one_part_per_rate():
    (whole,) = everything_left_parts(creditable(line(credited=("1", "3.33", "0.70"))))
    assert (whole.invoice_line_id, whole.quantity, whole.net, whole.tax) == (
        7,
        D(2),
        D("6.66"),
        D("1.40"),
    )
    (rest,) = everything_left_parts(creditable(line(), amount_credited_net="4.00"))
    assert (rest.invoice_line_id, rest.net, rest.tax) == (None, D("5.99"), D("2.10"))
    assert rest.vat["period_start"] is None and rest.vat["vat_category"] == "S"


def test_vat_currency_tax_never_goes_beyond_what_is_left_and_the_last_note_takes_it_all():
    assert vat_currency_tax(tax=D("2.10"), rate=D("1.5"), left=D("10.00"), completes=False) == D(
        "-3.15"
    )
    assert vat_currency_tax(tax=D("9.00"), rate=D("1.5"), left=D("10.00"), completes=False) == D(
        "-10.00"
    )
    assert vat_currency_tax(tax=D("0.01"), rate=D("1.5"), left=D("4.27"), completes=True) == D(
        "-4.27"
    )
