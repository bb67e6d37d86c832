"""The invoice list's "amount due at least" box reads amounts as the admin's language writes
them (and plainly, 1000.50); what it cannot read stays in the box, with an error message,
and the list is not filtered by amount rather than silently reset."""

from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from djmoney.money import Money

from coworking.money import AmountNotReadable, parse_amount
from credits.services import AmountCredit, credit_note_issue
from invoicing.models import Channel
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/invoicing/invoice/"
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def invoices():
    """Three open invoices due 1000.49, 1000.50 and 2000.00 (no VAT: the total is the net)."""
    customer = CustomerFactory()
    return {
        due: issued_invoice(customer=customer, specs=[("Office", "1", due, "0")])
        for due in ("1000.49", "1000.50", "2000.00")
    }


def filtered(client, language, text):
    client.force_login(staff_user())
    response = client.get(CHANGELIST, {"due_from": text}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200  # not the redirect to "?e=1" that clears the box
    shown = {str(invoice.total.amount) for invoice in response.context["cl"].result_list}
    said = [(m.level, m.message) for m in get_messages(response.wsgi_request)]
    return response.content.decode(), shown, said


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "1,000.50"),
        ("en", "1000.50"),
        ("fr", "1 000,50"),
        ("fr", f"1{NNBSP}000,50"),
        ("fr", f"1{NBSP}000,50"),
        ("fr", "1000,50"),
        ("fr", "1000.50"),
        ("nl", "1.000,50"),
        ("nl", "1000,50"),
        ("nl", "1000.50"),
    ],
)
def test_an_amount_as_the_admin_language_writes_it_filters_the_list(
    client, invoices, language, text
):
    html, shown, said = filtered(client, language, text)
    assert shown == {"1000.50", "2000.00"}
    assert said == []
    assert f'name="due_from" value="{text}"' in html


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "abc"),
        ("fr", "abc"),
        ("nl", "abc"),
        ("en", "1000,50"),  # a decimal comma is not English: refused, not read as 100050
        ("fr", "1.000,50"),  # a Dutch amount in French: refused, not read as 1.0005
        ("en", "1e3"),
        ("en", "NaN"),
        ("en", "99999999999999999999"),
    ],
)
def test_an_amount_it_cannot_read_stays_in_the_box_with_an_error(client, invoices, language, text):
    html, shown, said = filtered(client, language, text)
    assert [level for level, _ in said] == [messages.ERROR]
    assert text in said[0][1]
    assert f'name="due_from" value="{text}"' in html
    assert shown == {"1000.49", "1000.50", "2000.00"}  # not filtered by amount, and says so


@pytest.mark.parametrize(
    ("language", "text", "amount"),
    [
        ("nl", "1.500", "1500"),  # the language's reading first: fifteen hundred in Dutch
        ("en", "1.500", "1.500"),
        ("fr", "1,5", "1.5"),
        ("fr", f"12{NNBSP}345{NNBSP}678,9", "12345678.9"),
        ("en", "-5", "-5"),
    ],
)
def test_parse_amount_reads_the_language_first(language, text, amount):
    assert parse_amount(text, language=language) == Decimal(amount)


@pytest.mark.parametrize("text", ["", " ", "1 0,5", "1  000,50", "1,00,0", "€1"])
def test_parse_amount_refuses_misplaced_separators_and_symbols(text):
    with pytest.raises(AmountNotReadable):
        parse_amount(text, language="fr")


@pytest.mark.parametrize(("language", "example"), [("en", "1,000.50"), ("nl", "1.000,50")])
def test_the_box_shows_how_the_language_writes_an_amount(client, language, example):
    client.force_login(staff_user())
    html = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'name="due_from" value="" placeholder="{example}"' in html


def test_what_a_credit_note_credited_is_not_due_any_more(client, invoices):
    invoice = invoices["2000.00"]
    credit_note_issue(
        invoice=invoice,
        amount=AmountCredit(value=Money("1500.00", "EUR"), tax_rate=Decimal("0")),
        actor=None,
        channel=Channel.SYSTEM,
    )
    _html, shown, said = filtered(client, "en", "1000.50")
    assert shown == {"1000.50"}  # the 2000.00 invoice has 500.00 left to pay
    assert said == []
