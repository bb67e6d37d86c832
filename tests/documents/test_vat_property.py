"""Property: random invoices issued through the services, credited in part, then cancelled.

The documents: 1-300 lines, prices to 4 decimals, quantities to 3, line discounts (an amount
or a percentage), every supply kind (its VAT decided by the rules) sold by a location in
France, the Netherlands, Belgium or Germany to a consumer, a business with a valid VAT id or
a business without one, in those countries, in another EU country or outside the EU (the
United States, the United Kingdom, Switzerland); a business with a Peppol address now and
then; in euros or in US dollars with the VAT stated in euros.

What holds for every document issued (the invoice and its credit notes):
- 0 fatal findings in CII and in UBL, and in the Peppol BIS rules for a Peppol buyer;
- its PDF states the amounts of the XML it embeds (pdftotext: totals per VAT rate, the
  totals, the amount due, the VAT in the accounting currency);
- the VAT of each breakdown is its base × its rate rounded once (the note that completes
  a breakdown takes exactly what is left of it, within a cent of that);
- each document states its own VAT in the accounting currency (BT-111), at the invoice's
  rate;
- the notes of the fully credited invoice reverse its VAT in both currencies exactly.

Cost: the ``ci`` profile (the default) runs 15 examples and renders the PDFs of documents
of at most 40 lines; ``HYPOTHESIS_PROFILE=long`` runs 300 and renders every PDF, e.g.
``HYPOTHESIS_PROFILE=long make test TEST_WORKERS=0 PYTEST_ARGS=tests/documents/test_vat_property.py``.
"""

import os
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from coworking.billable_items import BillableItem
from coworking.einvoice.document import Syntax, goes_by_peppol
from coworking.einvoice.syntax import render
from coworking.einvoice.validation import embedded_xml, validate
from coworking.money import round_amount
from coworking.vat import VatCategory
from coworking.vat_rules import Buyer, Seller, SupplyKind, derive
from credits.einvoice import credit_note_document
from credits.pdf import credit_note_pdf_bytes
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from credits.vat_reconciliation import check_vat_per_document
from invoicing.calculations import rate_tax
from invoicing.einvoice import invoice_document
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import (
    PEPPOL_BUYERS,
    BankAccountFactory,
    CustomerFactory,
    LocationFactory,
    issued_invoice,
    line,
    peppol_location,
)

pytestmark = pytest.mark.django_db

D = Decimal
HEALTH = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]
# CI does not shrink a failure (minutes on documents of hundreds of lines): it reports the
# example found; ``long`` shrinks it.
settings.register_profile(
    "ci",
    max_examples=15,
    deadline=None,
    suppress_health_check=HEALTH,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.register_profile("long", max_examples=300, deadline=None, suppress_health_check=HEALTH)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
PDF_LINES = 10_000 if PROFILE == "long" else 40  # render the PDFs of documents up to this

LOCATIONS = ["FR", "NL", "BE", "DE"]
BUYER_COUNTRIES = ["FR", "NL", "BE", "DE", "IT", "US", "GB", "CH"]
BUYER_KINDS = ["consumer", "business with a VAT id", "business without a VAT id"]
# A valid VAT id of each buyer country (none in the United States).
VAT_IDS = {
    "FR": "FR96552100554", "NL": "NL853746333B01", "BE": "BE0477472701",
    "DE": "DE136695976", "IT": "IT00743110157", "GB": "GB727255821",
    "CH": "CHE-116.281.710 MWST",
}  # fmt: skip
ADDRESSES = {
    "FR": ("45 rue de Rivoli", "75001", "Paris"), "NL": ("Prinsengracht 263", "1016 GV", "Amsterdam"),
    "BE": ("Rue Neuve 12", "1000", "Bruxelles"), "DE": ("Friedrichstraße 68", "10117", "Berlin"),
    "IT": ("Via Roma 1", "00184", "Roma"), "US": ("350 Fifth Avenue", "10118", "New York"),
    "GB": ("1 Old Street", "EC1V 9HX", "London"), "CH": ("Bahnhofstrasse 1", "8001", "Zürich"),
}  # fmt: skip
# A reduced rate of each location's country, for the catering items.
REDUCED = {"FR": D("10"), "NL": D("9"), "BE": D("6"), "DE": D("7")}
IBANS = {
    "FR": ("FR1420041010050500013M02606", "BNPAFRPP"),
    "NL": ("NL91ABNA0417164300", "ABNANL2A"),
    "BE": ("BE68539007547034", "GKCCBEBB"),
    "DE": ("DE89370400440532013000", "COBADEFFXXX"),
}
CURRENCIES = ["EUR", "USD"]


def location_in(country: str):
    """A location of ``country`` with its Peppol address and an account in each currency
    (a Dutch invoice states its payment means, NL-R-007)."""
    if country == "DE":
        location = LocationFactory(
            country="DE", street_line1="Torstraße 1", postcode="10119", city="Berlin",
            tax_id="DE811569869", registration_id="HRB 123456",
            electronic_address_scheme="9930", electronic_address="DE811569869",
            default_tax_rate=D("19.00"),
        )  # fmt: skip
    else:
        location = peppol_location(country)
    iban, bic = IBANS[country]
    for currency in CURRENCIES:
        BankAccountFactory(location=location, currency=currency, iban=iban, bic=bic)
    return location


def buyer_of(location, *, kind: str, country: str, peppol: bool):
    street, postcode, city = ADDRESSES[country]
    facts = {
        "location": location, "country": country, "street_line1": street,
        "postcode": postcode, "city": city, "language": "en",
    }  # fmt: skip
    if kind == "consumer":
        return CustomerFactory(**facts)
    facts = {**facts, "kind": "company", "billing_name": f"Client {country} Ltd"}
    if kind == "business without a VAT id":
        return CustomerFactory(**facts)
    if peppol and country in PEPPOL_BUYERS:
        return CustomerFactory(**{**facts, **PEPPOL_BUYERS[country]})
    return CustomerFactory(**facts, tax_id=VAT_IDS[country])


@dataclass(frozen=True)
class Scenario:
    location: str
    buyer_kind: str
    buyer_country: str
    peppol: bool
    currency: str
    exchange_rate: Decimal


scenarios = st.builds(
    Scenario,
    location=st.sampled_from(LOCATIONS),
    buyer_kind=st.sampled_from(BUYER_KINDS),
    buyer_country=st.sampled_from(BUYER_COUNTRIES),
    peppol=st.booleans(),
    currency=st.sampled_from(CURRENCIES),
    exchange_rate=st.decimals(min_value=D("0.5"), max_value=D("1.8"), places=4),
).filter(lambda s: not (s.buyer_kind == "business with a VAT id" and s.buyer_country == "US"))
# Not generated: a German location billing a German business over Peppol. The Peppol rules for
# that case (DE-R-002, DE-R-005..007) ask for the seller's contact (name, telephone, e-mail),
# which a location does not record yet, so the check before issuing refuses such an invoice.
scenarios = scenarios.filter(
    lambda s: (
        not (s.location == s.buyer_country == "DE" and s.peppol and s.buyer_kind != "consumer")
    )
)

quantities = st.integers(min_value=1, max_value=40).map(D) | st.decimals(
    min_value=D("0.001"), max_value=D("12"), places=3
)
prices = st.decimals(min_value=D("0"), max_value=D("90"), places=4)
discounts = st.one_of(
    st.none(),
    st.tuples(st.just("percent"), st.decimals(min_value=D("0.01"), max_value=D("100"), places=2)),
    st.tuples(st.just("amount"), st.decimals(min_value=D("0.01"), max_value=D("1"), places=2)),
)
line_facts = st.tuples(
    st.sampled_from(SupplyKind.values), st.booleans(), quantities, prices, discounts
)
# Long documents as often as short ones: the drift of per-line rounding shows over many lines.
documents = (st.sampled_from([1, 2, 60, 250, 300]) | st.integers(1, 300)).flatmap(
    lambda size: st.lists(line_facts, min_size=size, max_size=size)
)


def line_specs(facts, *, location, customer, currency):
    """The lines as staff enter them: each with its supply kind (a reduced-rate catering item
    now and then), the VAT left to the rules. Outside-scope lines go on an invoice of their
    own, with one reason (deposits apart from services abroad): the document keeps the lines
    on its first line's side of that divide."""
    seller = Seller(country=str(location.country), opted_to_tax=location.opted_to_tax)
    buyer = Buyer.of(
        country=str(customer.country), tax_id=customer.tax_id, company=customer.kind == "company"
    )
    catering = BillableItem.objects.create(
        location=location,
        name="Lunch",
        supply_kind=SupplyKind.ON_SITE_GOODS,
        unit_price=Money(D("12.50"), currency),
        tax_rate=REDUCED[str(location.country)],
    )
    outside = []
    for kind, *_rest in facts:
        treatment = derive(kind=kind, seller=seller, buyer=buyer)
        out = treatment.category == VatCategory.OUTSIDE_SCOPE
        outside.append(treatment.reason if out else "")
    specs = []
    for n, ((kind, reduced, quantity, price, discount), out) in enumerate(
        zip(facts, outside, strict=True)
    ):
        if out != outside[0]:
            continue
        item = catering if kind == SupplyKind.ON_SITE_GOODS and reduced else None
        gross = round_amount(quantity * price)
        allowance = {}
        if discount is not None and gross > 0:
            how, value = discount
            if how == "percent":
                allowance = {"allowance_percent": str(value)}
            else:
                allowance = {"allowance": str(min(value, gross))}
            allowance["allowance_code"] = "95"
        specs.append(
            line(
                f"Item {n}",
                str(quantity),
                str(price),
                None,
                kind="" if item else kind,
                item=item,
                **allowance,
            )
        )
    return specs


# --- What the PDF states, read back with pdftotext -----------------------------------------

CII = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
AMOUNT = re.compile(r"\d[\d,]*\.\d{2}(?!\d)")


def amounts_in(text: str) -> list[Decimal]:
    return [D(found.replace(",", "")) for found in AMOUNT.findall(text)]


def xml_amounts(xml: bytes) -> dict:
    root = etree.fromstring(xml)
    settlement = root.find(".//ram:ApplicableHeaderTradeSettlement", CII)
    totals = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", CII)
    currency = settlement.findtext("ram:InvoiceCurrencyCode", namespaces=CII)

    def amount(element, name):
        return D(element.findtext(f"ram:{name}", namespaces=CII))

    taxes = totals.findall("ram:TaxTotalAmount", CII)
    return {
        "breakdown": [
            [amount(tax, "BasisAmount"), amount(tax, "CalculatedAmount")]
            for tax in settlement.findall("ram:ApplicableTradeTax", CII)
        ],
        "totals": [
            amount(totals, "TaxBasisTotalAmount"),
            next(D(t.text) for t in taxes if t.get("currencyID") == currency),
            amount(totals, "GrandTotalAmount"),
        ],
        "due": amount(totals, "DuePayableAmount"),
        "vat_currency": [D(t.text) for t in taxes if t.get("currencyID") != currency],
    }


def assert_pdf_states_its_xml(pdf: bytes, *, invoice: bool) -> None:
    stated = xml_amounts(embedded_xml(pdf))
    text = [" ".join(row.split()) for row in pdf_text(pdf).splitlines()]
    summary = text[next(n for n, row in enumerate(text) if row == "Totals per VAT rate") :]
    end = next(n for n, row in enumerate(summary) if row.startswith("Total ("))
    rows = [row for row in summary[:end] if row.startswith("VAT ") and amounts_in(row)]
    assert [amounts_in(row)[:2] for row in rows] == stated["breakdown"]
    assert amounts_in(summary[end]) == stated["totals"]
    if invoice:
        due = next(row for row in summary if row.startswith("Amount due"))
        assert amounts_in(due) == [stated["due"]]
    in_vat_currency = [row for row in summary if row.startswith("VAT total in")]
    assert [amounts_in(row)[0] for row in in_vat_currency] == stated["vat_currency"]


# --- The property ---------------------------------------------------------------------------


def per_breakdown(document) -> dict[tuple[str, Decimal], tuple[Decimal, Decimal]]:
    return {(e.category, e.rate): (e.taxable, e.tax) for e in document.vat_breakdown()}


def assert_valid(document) -> None:
    peppol = goes_by_peppol(document)
    for syntax in Syntax.values:
        report = validate(render(document, syntax=syntax), peppol=peppol)
        assert report.valid, (document.number, syntax, peppol, report.problems()[:3])


@settings(settings.get_profile(PROFILE))
@given(scenario=scenarios, facts=documents, credited=st.data())
def test_issued_credited_and_cancelled_documents_keep_the_vat_rules(scenario, facts, credited):
    location = location_in(scenario.location)
    customer = buyer_of(
        location,
        kind=scenario.buyer_kind,
        country=scenario.buyer_country,
        peppol=scenario.peppol,
    )
    specs = line_specs(facts, location=location, customer=customer, currency=scenario.currency)
    foreign = scenario.currency != location.vat_currency
    rate = {"exchange_rate": scenario.exchange_rate} if foreign else {}
    invoice = issued_invoice(customer=customer, specs=specs, currency=scenario.currency, **rate)
    document = invoice_document(invoice=invoice)
    event(f"peppol buyer: {goes_by_peppol(document)}")
    event(f"categories: {sorted(per_breakdown(document))}")
    assert_valid(document)
    if len(specs) <= PDF_LINES:
        event("invoice PDF read back")
        assert_pdf_states_its_xml(invoice_pdf_bytes(invoice=invoice), invoice=True)
    invoiced = per_breakdown(document)
    for (_category, vat_rate), (base, tax) in invoiced.items():
        assert tax == rate_tax(taxable=base, rate=vat_rate)
    if foreign:
        assert invoice.tax_total_vat_currency == round_amount(
            invoice.tax_total.amount * scenario.exchange_rate
        )
        assert document.tax_total_vat_currency == invoice.tax_total_vat_currency
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

    notes = [credit_note_document(credit_note=note) for note in issued]
    for note, stated in zip(issued, notes, strict=True):
        assert_valid(stated)
        if note.lines.count() <= PDF_LINES:
            assert_pdf_states_its_xml(credit_note_pdf_bytes(credit_note=note), invoice=False)
        if foreign:  # its own VAT at the invoice's rate; the last note takes what is left
            if not note.cancels_invoice:
                assert note.tax_total_vat_currency == round_amount(
                    note.tax_total.amount * invoice.vat_exchange_rate
                )
            assert stated.tax_total_vat_currency == -note.tax_total_vat_currency
    first = per_breakdown(notes[0])
    last = per_breakdown(notes[1]) if len(notes) > 1 else {}
    for key, (base, tax) in invoiced.items():
        vat_rate = key[1]
        first_base, first_tax = first.get(key, (D(0), D(0)))
        last_base, last_tax = last.get(key, (D(0), D(0)))
        if first_base < base and last:  # the partial note did not complete this breakdown
            assert first_tax == rate_tax(taxable=first_base, rate=vat_rate)
        assert abs(last_tax - rate_tax(taxable=last_base, rate=vat_rate)) <= D("0.01")
        assert (first_base + last_base, first_tax + last_tax) == (base, tax)
    assert sum(note.tax_total.amount for note in issued) == -invoice.tax_total.amount
    if foreign:
        assert (
            sum(note.tax_total_vat_currency for note in issued) == -invoice.tax_total_vat_currency
        )
    assert check_vat_per_document() == []
