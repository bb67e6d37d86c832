"""What drafting and issuing refuse so that every issued invoice can state what the law and
EN 16931 ask: VAT categories and exemption reasons, service periods, the customer's VAT id
under reverse charge, the exchange rate outside the VAT currency, the parties' details and
dates in number order. Each refusal is a clear error and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coworking.models import ExchangeRate
from coworking.numbering import DocumentType, last_number
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.errors import (
    ExchangeRateMissing,
    InvalidInvoiceLine,
    InvoiceDateOutOfOrder,
    PartyDetailsMissing,
    ReverseChargeWithoutVatId,
)
from invoicing.models import Channel, Invoice
from invoicing.services import invoice_issue
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    draft_invoice,
    eu_business,
    french_location,
    issued_invoice,
    line,
)

pytestmark = pytest.mark.django_db
FIRST_OF_MARCH, LAST_OF_MARCH = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (line("Desk", "1", "100", "0", category="S"), "needs a rate above 0%"),
        (line("Desk", "1", "100", "21", category="Z"), "has a 0% rate"),
        (line("Desk", "1", "100", "0", category="Z", reason="why"), "has no exemption reason"),
        (line("Office", "1", "100", "0", category="E"), "needs an exemption reason"),
        (line("Office", "1", "100", "0", category="E", reason="x", code="VATEX-XX"), "unknown"),
        (line("Desk", "1", "100", "21", code="VATEX-EU-AE"), "reason code is only for"),
        (line("Desk", "1", "100", "0", category="K"), "unknown VAT category"),
        (line("Desk", "1", "100", "21", period=(LAST_OF_MARCH, FIRST_OF_MARCH)), "ends before"),
        (line("Desk", "1", "100", "21", period=(FIRST_OF_MARCH, None)), "both"),
    ],
)
def test_a_line_breaking_its_category_rules_is_refused(spec, message):
    customer = CustomerFactory()
    with pytest.raises(InvalidInvoiceLine, match=message):
        draft_invoice(customer=customer, specs=[spec])
    assert not Invoice.objects.exists()


def test_reverse_charge_and_outside_scope_get_their_standard_reason():
    invoice = draft_invoice(
        specs=[line("Hosting", "1", "100", "0", category="AE")],
        customer=eu_business(LocationFactory()),
    )
    assert invoice.lines.get().vat_exemption_reason_code == "VATEX-EU-AE"
    assert invoice.lines.get().vat_exemption_reason == "Reverse charge"


def test_one_exemption_reason_per_category_and_outside_scope_alone():
    customer = CustomerFactory()
    with pytest.raises(InvalidInvoiceLine, match="different exemption reasons"):
        draft_invoice(
            customer=customer,
            specs=[
                line("A", "1", "100", "0", category="E", reason="Art. 132"),
                line("B", "1", "100", "0", category="E", reason="Art. 135"),
            ],
        )
    with pytest.raises(InvalidInvoiceLine, match="invoice of their own"):
        draft_invoice(
            customer=customer,
            specs=[line("Deposit", "1", "50", None, kind="deposit"), ("Desk", "1", "100", "21")],
        )


def test_the_database_refuses_a_line_that_breaks_the_category_rules():
    invoice = draft_invoice()
    for category, rate, reason in (("S", "0", ""), ("AE", "0", ""), ("Z", "21", "")):
        with (
            pytest.raises(IntegrityError, match="invoice_line_vat"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO invoicing_invoiceline (invoice_id, position, description, "
                "quantity, unit_price, unit_price_currency, tax_rate, net, net_currency, tax, "
                "tax_currency, vat_category, vat_exemption_reason, vat_exemption_reason_code) "
                "VALUES (%s, 9, 'x', 1, 1, 'EUR', %s, 1, 'EUR', 0, 'EUR', %s, %s, '')",
                [invoice.pk, rate, category, reason],
            )


def _series_unchanged(location, before: int) -> bool:
    return last_number(location_id=location.pk, document_type=DocumentType.INVOICE) == before


def test_reverse_charge_without_the_customers_vat_id_is_refused_at_issue():
    customer = CustomerFactory(tax_id="DE136695976", country="DE")
    draft = draft_invoice(
        customer=customer, specs=[line("Hosting", "1", "2400", "0", category="AE")]
    )
    customer.tax_id = ""
    customer.save()
    before = last_number(location_id=customer.location_id, document_type=DocumentType.INVOICE)

    with pytest.raises(ReverseChargeWithoutVatId, match="has no VAT id"):
        invoice_issue(invoice=draft)

    draft.refresh_from_db()
    assert draft.state == Invoice.State.DRAFT and draft.number == ""
    assert _series_unchanged(customer.location, before)
    customer.tax_id = "DE136695976"
    customer.save()
    assert invoice_issue(invoice=draft).state == Invoice.State.ISSUED


def test_outside_the_vat_currency_the_rate_of_the_issue_date_is_kept():
    customer = CustomerFactory()
    for day, rate in ((datetime.date(2026, 3, 1), "0.91"), (datetime.date(2026, 3, 8), "0.93")):
        ExchangeRate.objects.create(
            currency="USD", vat_currency="EUR", date=day, rate=Decimal(rate)
        )
    draft = draft_invoice(customer=customer, currency="USD")

    invoice = invoice_issue(invoice=draft, issue_date=datetime.date(2026, 3, 7))

    assert (invoice.vat_currency, invoice.vat_exchange_rate) == ("EUR", Decimal("0.91"))
    assert invoice.tax_total_vat_currency == (invoice.tax_total.amount * Decimal("0.91")).quantize(
        Decimal("0.01")
    )
    home = issued_invoice(customer=customer, issue_date=datetime.date(2026, 3, 7))
    assert (home.vat_currency, home.vat_exchange_rate, home.tax_total_vat_currency) == (
        "EUR", None, None,
    )  # fmt: skip


def test_without_an_exchange_rate_issuing_is_refused():
    customer = CustomerFactory()
    draft = draft_invoice(customer=customer, currency="GBP")
    before = last_number(location_id=customer.location_id, document_type=DocumentType.INVOICE)

    with pytest.raises(ExchangeRateMissing, match="no GBP→EUR exchange rate on or before"):
        invoice_issue(invoice=draft, issue_date=datetime.date(2026, 3, 7))

    assert Invoice.objects.get(pk=draft.pk).state == Invoice.State.DRAFT
    assert _series_unchanged(customer.location, before)
    issued = invoice_issue(invoice=draft, exchange_rate=Decimal("1.17"))
    assert issued.vat_exchange_rate == Decimal("1.17")


def test_a_later_number_never_has_an_earlier_date():
    customer = CustomerFactory()
    first = issued_invoice(customer=customer, issue_date=datetime.date(2026, 3, 5))
    draft = draft_invoice(customer=customer)
    before = last_number(location_id=customer.location_id, document_type=DocumentType.INVOICE)

    with pytest.raises(InvoiceDateOutOfOrder) as refused:
        invoice_issue(invoice=draft, issue_date=datetime.date(2026, 3, 4))

    assert f"2026-03-05, the date of {first.number}" in refused.value.message
    assert _series_unchanged(customer.location, before)
    assert invoice_issue(invoice=draft, issue_date=datetime.date(2026, 3, 5)).state == "issued"
    # Another location's series has its own dates.
    other = issued_invoice(issue_date=datetime.date(2026, 1, 2))
    assert other.issue_date == datetime.date(2026, 1, 2)


def test_the_database_keeps_dates_in_number_order():
    customer = CustomerFactory()
    first = issued_invoice(customer=customer, issue_date=datetime.date(2026, 3, 5))
    draft = draft_invoice(customer=customer)
    with pytest.raises(IntegrityError, match="earlier date"), transaction.atomic():
        Invoice.objects.filter(pk=draft.pk).update(
            state="issued",
            sequence_number=first.sequence_number + 1,
            number="RAW-1",
            issue_date=datetime.date(2026, 3, 1),
            due_date=datetime.date(2026, 3, 15),
            issued_at=timezone.now(),
        )
    note = invoice_cancel(invoice=first, actor=None, channel=Channel.CLI)
    fields = {
        f.attname: getattr(note, f.attname)
        for f in CreditNote._meta.concrete_fields
        if not f.primary_key
    }
    fields.update(
        invoice_id=issued_invoice(customer=customer).pk,
        sequence_number=note.sequence_number + 1,
        number=note.number + "-2",
        issue_date=note.issue_date - datetime.timedelta(days=1),
    )
    with pytest.raises(IntegrityError, match="earlier date"), transaction.atomic():
        CreditNote.objects.create(**fields)


def test_the_database_refuses_a_number_dated_after_the_next_one():
    customer = CustomerFactory()
    first = issued_invoice(customer=customer, issue_date=datetime.date(2026, 3, 5))
    draft = draft_invoice(customer=customer)
    with pytest.raises(IntegrityError, match="earlier date"), transaction.atomic():
        Invoice.objects.filter(pk=draft.pk).update(
            state="issued",
            sequence_number=first.sequence_number - 1,
            number="RAW-0",
            issue_date=datetime.date(2026, 3, 6),
            due_date=datetime.date(2026, 3, 20),
            issued_at=timezone.now(),
        )


def test_a_location_must_be_complete_and_a_french_one_state_its_legal_details():
    location = french_location(rcs_city="", share_capital=None)
    draft = draft_invoice(customer=CustomerFactory(location=location, country="FR"))
    with pytest.raises(PartyDetailsMissing, match="RCS city, share capital"):
        invoice_issue(invoice=draft)

    bare = LocationFactory(street_line1="", city="")
    with pytest.raises(PartyDetailsMissing, match="street, city"):
        invoice_issue(invoice=draft_invoice(customer=CustomerFactory(location=bare)))


def test_a_customer_needs_a_country_and_outside_scope_needs_a_registration_id():
    customer = CustomerFactory(country="")
    with pytest.raises(PartyDetailsMissing, match="has no country"):
        invoice_issue(invoice=draft_invoice(customer=customer))

    deposit = [line("Deposit", "1", "50", None, kind="deposit")]
    with pytest.raises(PartyDetailsMissing, match="legal registration id"):
        invoice_issue(invoice=draft_invoice(specs=deposit))
