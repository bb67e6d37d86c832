"""Property: random invoices (1-300 lines, four-decimal prices, several rates, euros or US
dollars with their VAT in euros) issued, credited in part, then cancelled. Every document is
a valid e-invoice in both syntaxes; the VAT of each rate is its base × the rate rounded once
(the note that completes a rate takes exactly what is left, within a cent of that); each
document states its own VAT in the accounting currency (BT-111); the notes reverse the
invoice's VAT in both currencies exactly. A bounded number of examples: a few seconds each.
"""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coworking.einvoice.document import Syntax
from coworking.einvoice.syntax import render
from coworking.einvoice.validation import validate
from coworking.money import round_amount
from credits.einvoice import credit_note_document
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from credits.vat_reconciliation import check_vat_per_document
from invoicing.calculations import rate_tax
from invoicing.einvoice import invoice_document
from invoicing.models import Channel
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db

D = Decimal
RATES = ["21", "9", "20", "5.5", "0"]

line_strategy = st.tuples(
    st.integers(min_value=1, max_value=40).map(D)
    | st.decimals(min_value=D("0.001"), max_value=D("12"), places=3),
    st.decimals(min_value=D("0"), max_value=D("90"), places=4),
    st.sampled_from(RATES),
)
# Long documents as often as short ones: the drift of per-line rounding shows over many lines.
lines_strategy = (st.sampled_from([1, 2, 60, 250, 300]) | st.integers(1, 300)).flatmap(
    lambda size: st.lists(line_strategy, min_size=size, max_size=size)
)


def per_rate(document) -> dict[Decimal, tuple[Decimal, Decimal]]:
    return {e.rate: (e.taxable, e.tax) for e in document.vat_breakdown()}


def assert_valid(document) -> None:
    for syntax in Syntax.values:
        report = validate(render(document, syntax=syntax))
        assert report.valid, (document.number, syntax, report.problems()[:3])


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(
    lines=lines_strategy,
    currency=st.sampled_from(["EUR", "USD"]),
    exchange_rate=st.decimals(min_value=D("0.5"), max_value=D("1.8"), places=4),
    credited=st.data(),
)
def test_issued_credited_and_cancelled_documents_keep_the_vat_rules(
    lines, currency, exchange_rate, credited
):
    specs = [(f"Item {n}", str(q), str(p), rate) for n, (q, p, rate) in enumerate(lines)]
    extra = {"exchange_rate": exchange_rate} if currency == "USD" else {}
    invoice = issued_invoice(customer=CustomerFactory(), specs=specs, currency=currency, **extra)
    if invoice.total.amount == 0:
        return  # nothing to credit: a free invoice is issued paid (its own tests)
    invoice_lines = [line for line in invoice.lines.order_by("position") if line.net.amount > 0]
    chosen = credited.draw(
        st.lists(st.sampled_from(invoice_lines), min_size=1, max_size=len(invoice_lines)),
        label="credited lines",
    )
    credits = {line.pk: line.quantity for line in chosen}
    halved = (chosen[0].quantity / 2).quantize(D("0.001"))  # a part of a line, too
    if len(credits) > 1 and halved > 0:
        credits[chosen[0].pk] = halved
    part = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=pk, quantity=q) for pk, q in credits.items()],
        actor=None,
        channel=Channel.CLI,
    )
    issued = [part]
    if not part.cancels_invoice:
        issued.append(invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI))

    document = invoice_document(invoice=invoice)
    notes = [credit_note_document(credit_note=note) for note in issued]
    for each in (document, *notes):
        assert_valid(each)
    invoiced, first = per_rate(document), per_rate(notes[0])
    last = per_rate(notes[1]) if len(notes) > 1 else {}
    for rate, (base, tax) in invoiced.items():
        assert tax == rate_tax(taxable=base, rate=rate)
        first_base, first_tax = first.get(rate, (D(0), D(0)))
        last_base, last_tax = last.get(rate, (D(0), D(0)))
        if first_base < base and last:  # the partial note did not complete this rate
            assert first_tax == rate_tax(taxable=first_base, rate=rate)
        assert abs(last_tax - rate_tax(taxable=last_base, rate=rate)) <= D("0.01")
        assert (first_base + last_base, first_tax + last_tax) == (base, tax)
    assert sum(note.tax_total.amount for note in issued) == -invoice.tax_total.amount
    if currency == "USD":
        assert invoice.tax_total_vat_currency == round_amount(
            invoice.tax_total.amount * exchange_rate
        )
        if not part.cancels_invoice:
            assert part.tax_total_vat_currency == round_amount(
                part.tax_total.amount * exchange_rate
            )
        assert document.tax_total_vat_currency == invoice.tax_total_vat_currency
        for note, stated in zip(issued, notes, strict=True):
            assert stated.tax_total_vat_currency == -note.tax_total_vat_currency
        assert (
            sum(note.tax_total_vat_currency for note in issued) == -invoice.tax_total_vat_currency
        )
    assert check_vat_per_document() == []
