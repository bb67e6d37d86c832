"""Quantities and rates are written one way (``coworking.l10n.human_number``): no trailing
zeros, never an exponent, the separators of the reader's language; in the admin, in the
API's messages, in PDFs and in the e-invoice's text, while the XML's numbers stay plain."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money
from lxml import etree

from credits.einvoice import credit_note_einvoice
from credits.pdf import credit_note_pdf_bytes
from credits.services import AmountCredit, LineCredit, credit_note_issue
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import (
    CustomerFactory,
    UserFactory,
    draft_invoice,
    issued_invoice,
    portal_member,
    staff_user,
)
from tests.helpers import assert_problem

NBSP, NNBSP = "\u00a0", "\u202f"
UBL_CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


@pytest.fixture
def invoice(db):
    """Rates of 20 and 10 % (``2E+1`` and ``1E+1`` once normalized), a thousand units
    (``1E+3``) and one and a half."""
    return issued_invoice(
        customer=portal_member(),
        specs=(
            ("Printing (pages)", "1000", "0.10", "20"),
            ("Meeting room (hours)", "1.5", "40.00", "10"),
        ),
    )


def credit_at_twenty(invoice):
    return credit_note_issue(
        invoice=invoice,
        amount=AmountCredit(value=Money("5.00", "EUR"), tax_rate=Decimal("20.00")),
        actor=None,
        channel=Channel.CLI,
    )


@pytest.mark.django_db
def test_an_amount_credited_at_a_rate_is_described_without_an_exponent(invoice):
    note = credit_at_twenty(invoice)

    description = note.lines.get().description
    assert description == "Credit at 20% tax"
    assert "Credit at 20% tax" in pdf_text(credit_note_pdf_bytes(credit_note=note))
    ubl = etree.fromstring(credit_note_einvoice(credit_note=note, syntax="ubl"))
    names = [element.text for element in ubl.iter(f"{UBL_CBC}Name")]
    assert "Credit at 20% tax" in names
    assert not any("E+" in (name or "") for name in names)


@pytest.mark.django_db
def test_the_einvoice_numbers_stay_plain_machine_numbers(invoice):
    note = credit_at_twenty(invoice)
    ubl = etree.fromstring(credit_note_einvoice(credit_note=note, syntax="ubl"))
    assert {element.text for element in ubl.iter(f"{UBL_CBC}Percent")} == {"20"}

    ubl = etree.fromstring(invoice_einvoice(invoice=invoice, syntax="ubl"))
    quantities = [element.text for element in ubl.iter(f"{UBL_CBC}InvoicedQuantity")]
    assert quantities == ["1000", "1.5"]
    assert {element.text for element in ubl.iter(f"{UBL_CBC}Percent")} == {"20", "10"}


@pytest.mark.django_db
def test_the_apis_messages_write_quantities_and_rates_as_people_do(api_client, invoice):
    client = api_client(staff_user(credit=True))
    url = f"/api/v1/invoices/{invoice.pk}/credit-notes"
    printing = invoice.lines.get(position=1).pk

    response = client.post(
        url, {"lines": [{"invoice_line": printing, "quantity": "1001"}]}, format="json"
    )
    assert_problem(response, 422, "credit_exceeds_line")
    assert "has 1,000 left to credit, not 1,001." in response.json()["detail"]

    response = client.post(
        url,
        {"amount": {"value": "5.00", "tax_rate": "100"}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    detail = response.json()["detail"]
    assert "no line at 100% tax" in detail and "(10%, 20%)" in detail, detail
    assert "E+" not in detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "quantities", "rates"),
    [
        ("en", ["1,000", "1.5"], ["20%", "10%"]),
        ("fr", [f"1{NNBSP}000", "1,5"], [f"20{NBSP}%", f"10{NBSP}%"]),
        ("nl", ["1.000", "1,5"], ["20%", "10%"]),
    ],
)
def test_the_admin_writes_quantities_and_rates_in_the_staffs_language(
    client, invoice, language, quantities, rates
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    note = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=invoice.lines.get(position=2).pk, quantity=Decimal("0.5"))],
        actor=None,
        channel=Channel.CLI,
    )
    header = {"HTTP_ACCEPT_LANGUAGE": language}

    form = client.get(
        reverse("admin:invoicing_invoice_issue_credit_note", args=[invoice.pk]), **header
    ).content.decode()
    for text in [*quantities, *rates]:
        assert f'<td class="amount">{text}</td>' in form, text
    # Left to credit: a thousand pages, and one hour of the one and a half.
    assert f'<td class="amount remaining">{quantities[0]} (' in form
    assert '<td class="amount remaining">1 (' in form
    assert "1,500" not in form and "1.500" not in form
    for rate in rates:
        assert f">{rate}</option>" in form  # the rate list of the amount line
    assert "E+" not in form

    page = client.get(
        reverse("admin:invoicing_invoice_change", args=[invoice.pk]), **header
    ).content.decode()
    for text in [*quantities, *rates]:
        assert f">{text}<" in page, text
    assert "1,500" not in page and "1.500" not in page

    page = client.get(
        reverse("admin:credits_creditnote_change", args=[note.pk]), **header
    ).content.decode()
    half = {"en": "-0.5", "fr": "-0,5", "nl": "-0,5"}[language]
    assert f">{half}<" in page and f">{rates[1]}<" in page
    assert "0,500" not in page and "0.500" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "quantities", "rates"),
    [
        ("en", ["1,000", "1.5"], ["20%", "10%"]),
        ("fr", [f"1{NNBSP}000", "1,5"], [f"20{NBSP}%", f"10{NBSP}%"]),
        ("nl", ["1.000", "1,5"], ["20%", "10%"]),
    ],
)
def test_the_pdf_writes_quantities_and_rates_in_the_customers_language(language, quantities, rates):
    invoice = issued_invoice(
        customer=CustomerFactory(language=language),
        specs=(
            ("Printing (pages)", "1000", "0.10", "20"),
            ("Meeting room (hours)", "1.5", "40.00", "10"),
        ),
    )
    text = pdf_text(invoice_pdf_bytes(invoice=invoice))
    for expected in [*quantities, *rates]:
        assert expected.replace(NNBSP, " ").replace(NBSP, " ") in text.replace(NNBSP, " ").replace(
            NBSP, " "
        ), expected
    assert "1.500" not in text and "1,500" not in text


@pytest.mark.django_db
def test_a_drafts_quantity_and_rate_boxes_show_no_trailing_zeros(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    draft = draft_invoice(specs=(("Meeting room (hours)", "1.5", "40.00", "20"),))

    html = client.get(
        reverse("admin:invoicing_invoice_change", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="nl"
    ).content.decode()

    assert 'name="lines-0-quantity" value="1.5"' in html
    assert 'name="lines-0-tax_rate" value="20"' in html
