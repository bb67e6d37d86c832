"""VAT decided by the rules on invoice lines (``invoicing.line_vat``): billable items give
the VAT, staff overrides need a reason and an allowed combination, inconsistent lines are
refused when written and when issued, naming the line, with nothing written."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from djmoney.money import Money

from coworking.billable_items import BillableItem
from coworking.numbering import DocumentType, last_number
from invoicing.errors import VatNotAllowed
from invoicing.models import Invoice
from invoicing.services import invoice_draft_set_lines, invoice_issue
from tests.factories import CustomerFactory, LocationFactory, draft_invoice, line, lines

pytestmark = pytest.mark.django_db


def item(location, kind, *, name=None, price="100.00", rate=None):
    return BillableItem.objects.create(
        location=location,
        name=name or kind.replace("_", " ").title(),
        supply_kind=kind,
        unit_price=Money(Decimal(price), location.default_currency),
        tax_rate=None if rate is None else Decimal(rate),
    )


def dutch_business(location, **kwargs):
    return CustomerFactory(
        location=location, kind="company", billing_name="Grachten Media B.V.",
        tax_id="NL123456782B01", **kwargs,
    )  # fmt: skip


def german_business(location):
    return CustomerFactory(
        location=location, kind="company", billing_name="Müller Consulting GmbH",
        tax_id="DE136695976", street_line1="Friedrichstraße 68", postcode="10117",
        city="Berlin", country="DE",
    )  # fmt: skip


def by_item(billable_item, *, rate=None, **kwargs):
    return line("", "1", None, rate, item=billable_item, **kwargs)


# --- Finding 6: typed categories that contradict the case ---------------------------------


def test_an_exempt_line_with_the_reverse_charge_code_is_refused():
    customer = CustomerFactory()
    with pytest.raises(VatNotAllowed, match=r"Line 1: an exempt .E. line cannot give"):
        draft_invoice(
            customer=customer,
            specs=[line("Office", "1", "900", "0", category="E", reason="x", code="VATEX-EU-AE")],
        )
    assert not Invoice.objects.exists()


def test_reverse_charge_between_two_dutch_businesses_for_desk_rental_is_refused():
    location = LocationFactory()
    customer = dutch_business(location)
    with pytest.raises(
        VatNotAllowed, match=r"Line 2: reverse charge .AE. between two parties in NL"
    ):
        draft_invoice(
            customer=customer,
            specs=[("Coffee", "1", "5", "9"), line("Desk rental", "1", "320", "0", category="AE")],
        )
    desk = item(location, "workspace", name="Dedicated desk")
    with pytest.raises(VatNotAllowed, match=r"Line 1: reverse charge"):
        draft_invoice(
            customer=customer,
            specs=[by_item(desk, category="AE", rate="0", override="customer asked")],
        )
    assert not Invoice.objects.exists()


def test_outside_the_scope_for_a_dutch_consumer_is_refused():
    customer = CustomerFactory()
    with pytest.raises(
        VatNotAllowed, match=r"Line 1: outside the scope of VAT .O. is not possible"
    ):
        draft_invoice(
            customer=customer, specs=[line("Mail handling", "1", "30", "0", category="O")]
        )
    assert not Invoice.objects.exists()


def test_reverse_charge_without_a_valid_buyer_vat_id_is_refused_when_written():
    customer = CustomerFactory(country="DE", tax_id="DE136695977")  # wrong check digit
    with pytest.raises(VatNotAllowed, match=r"Line 1: reverse charge .AE. needs the buyer's valid"):
        draft_invoice(customer=customer, specs=[line("Events", "1", "2400", "0", category="AE")])
    assert not Invoice.objects.exists()


# --- Billable items decide ------------------------------------------------------------------


def test_an_item_gives_description_price_and_the_vat_of_the_rules():
    location = LocationFactory()
    mail = item(location, "general_service", name="Mail handling", price="30.00")
    desk = item(location, "workspace", name="Dedicated desk", price="320.00")
    invoice = draft_invoice(
        customer=german_business(location), specs=[by_item(mail), by_item(desk)]
    )
    first, second = invoice.lines.order_by("position")
    assert (first.description, first.unit_price, first.vat_category) == (
        "Mail handling", Money("30.00", "EUR"), "AE",
    )  # fmt: skip
    assert first.vat_exemption_reason_code == "VATEX-EU-AE" and "Art. 196" in (
        first.vat_exemption_reason
    )
    assert (second.vat_category, second.tax_rate, second.supply_kind) == (
        "S", Decimal("21.00"), "workspace",
    )  # fmt: skip
    assert invoice.tax_total == Money("67.20", "EUR")


def test_an_item_of_another_location_is_refused():
    other = item(LocationFactory(), "workspace")
    with pytest.raises(VatNotAllowed, match=r"Line 1: .Workspace. is not an item of"):
        draft_invoice(customer=CustomerFactory(), specs=[by_item(other)])


def test_a_deposit_is_outside_the_scope_on_its_own_invoice():
    location = LocationFactory(registration_id="12345678")
    keys = item(location, "deposit", name="Key deposit", price="50.00")
    invoice = invoice_issue(
        invoice=draft_invoice(customer=CustomerFactory(location=location), specs=[by_item(keys)])
    )
    assert invoice.tax_total == Money("0.00", "EUR")
    assert invoice.lines.get().vat_category == "O"


# --- Overrides --------------------------------------------------------------------------------


def test_an_override_needs_a_reason_and_is_recorded():
    location = LocationFactory()
    desk = item(location, "workspace", name="Private office")
    customer = CustomerFactory(location=location)
    exempt = {"category": "E", "rate": "0", "code": "VATEX-EU-135-1"}
    with pytest.raises(VatNotAllowed, match=r"Line 1: .* give the reason for overriding"):
        draft_invoice(customer=customer, specs=[by_item(desk, **exempt)])

    invoice = draft_invoice(
        customer=customer,
        specs=[by_item(desk, override="Bare office, no services: passive letting", **exempt)],
    )
    stored = invoice.lines.get()
    assert (stored.vat_category, stored.vat_override_reason) == (
        "E", "Bare office, no services: passive letting",
    )  # fmt: skip
    assert "Wet OB" in stored.vat_exemption_reason
    assert invoice_issue(invoice=invoice).state == Invoice.State.ISSUED


def test_an_override_to_what_the_rules_do_not_allow_is_refused():
    location = LocationFactory(opted_to_tax=True)
    desk = item(location, "workspace")
    customer = CustomerFactory(location=location)
    for override, message in (
        ({"category": "E", "rate": "0", "code": "VATEX-EU-135-1", "reason": "x"}, "allows only"),
        ({"category": "O", "rate": "0"}, "taxable at the location"),
        ({"category": "S", "rate": "9"}, "allows only S 21 %"),
    ):
        with pytest.raises(VatNotAllowed, match=f"Line 1: .*{message}"):
            draft_invoice(customer=customer, specs=[by_item(desk, override="why", **override)])
    assert not Invoice.objects.exists()


def test_a_domestic_reverse_charge_needs_its_basis_named():
    location = LocationFactory()
    service = item(location, "general_service")
    customer = dutch_business(location)
    with pytest.raises(VatNotAllowed, match="domestic reverse-charge basis"):
        draft_invoice(customer=customer, specs=[by_item(service, category="AE", override="x")])
    invoice = draft_invoice(
        customer=customer,
        specs=[
            by_item(
                service, category="AE", override="Staffing: domestic reverse charge",
                reason="Reverse charge, art. 12 lid 5 Wet OB",
            )
        ],
    )  # fmt: skip
    assert invoice.lines.get().vat_category == "AE"


# --- At issue: the customer as it is now ------------------------------------------------------


def test_issuing_checks_the_lines_against_the_customer_as_it_is_now():
    location = LocationFactory()
    mail = item(location, "general_service")
    customer = german_business(location)
    specs = [("Desk", "1", "100", "21"), by_item(mail)]
    draft = draft_invoice(customer=customer, specs=specs)
    before = last_number(location_id=location.pk, document_type=DocumentType.INVOICE)
    customer.country, customer.tax_id = "NL", "NL123456782B01"  # moved home
    customer.save()

    with pytest.raises(VatNotAllowed, match=r"Line 2: the rules now give S 21 %"):
        invoice_issue(invoice=draft)

    draft.refresh_from_db()
    assert draft.state == Invoice.State.DRAFT and draft.number == ""
    assert last_number(location_id=location.pk, document_type=DocumentType.INVOICE) == before
    invoice_draft_set_lines(invoice=draft, lines=lines(*specs))
    assert invoice_issue(invoice=draft).tax_total == Money("42.00", "EUR")


# --- The admin ---------------------------------------------------------------------------------


def _line_post(invoice, **fields):
    data = {
        "location": invoice.location_id, "customer": invoice.customer_id,
        "currency": invoice.currency, "buyer_reference": "", "order_reference": "",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "payments-TOTAL_FORMS": "0", "payments-INITIAL_FORMS": "0",
        "allowance_charges-TOTAL_FORMS": "0", "allowance_charges-INITIAL_FORMS": "0",
        "lines-0-quantity": "1", "lines-0-description": "", "lines-0-unit_price_0": "",
        "lines-0-unit_price_1": invoice.currency, "lines-0-tax_rate": "",
        "lines-0-vat_category": "", "lines-0-vat_exemption_reason": "",
        "lines-0-vat_exemption_reason_code": "", "lines-0-vat_override_reason": "",
        "lines-0-period_start": "", "lines-0-period_end": "", "lines-0-billable_item": "",
    }  # fmt: skip
    data.update({f"lines-0-{name}": value for name, value in fields.items()})
    return data


def test_the_admin_takes_the_items_vat_and_names_the_line_it_refuses(client):
    location = LocationFactory()
    desk = item(location, "workspace", name="Hot desk", price="190.00")
    invoice = draft_invoice(customer=CustomerFactory(location=location))
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw"))
    url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])

    response = client.post(url, _line_post(invoice, billable_item=desk.pk))
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    stored = invoice.lines.get()
    assert (stored.description, stored.vat_category, stored.tax_rate) == (
        "Hot desk", "S", Decimal("21.00"),
    )  # fmt: skip

    response = client.post(
        url, _line_post(invoice, billable_item=desk.pk, vat_category="O", tax_rate="0"),
        follow=True,
    )  # fmt: skip
    messages = [str(message) for message in response.context["messages"]]
    assert any("Line 1:" in text and "overriding" in text for text in messages), messages
    assert invoice.lines.get().vat_category == "S"
