"""The customer list shows each customer's balance and available credit, computed by the
list's one query, in the billing currency first and other currencies below where not zero,
sortable within each billing currency."""

import re
from decimal import Decimal

import pytest
from djmoney.money import Money

from coworking.selectors import customer_balance
from credits.services import invoice_cancel
from invoicing.models import Channel
from invoicing.selectors import available_credit
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/coworking/customer/"


def office(price):
    return [("Office", "1", price, "0")]  # no VAT: the total is the price


@pytest.fixture
def customers():
    """Amsterdam (EUR): Anna owes €500.00; Bram owes €100.00 and holds $40.00 of credit (a
    paid US-dollar invoice cancelled); Cees holds €10.00 of credit. London (GBP): Dana owes
    £300.00; Eve holds £25.00 of credit."""
    amsterdam, london = LocationFactory(), LocationFactory(default_currency="GBP")
    made = {
        name: CustomerFactory(location=location, billing_name=name)
        for name, location in [
            ("Anna", amsterdam), ("Bram", amsterdam), ("Cees", amsterdam),
            ("Dana", london), ("Eve", london),
        ]
    }  # fmt: skip
    issued_invoice(customer=made["Anna"], specs=office("500.00"))
    issued_invoice(customer=made["Bram"], specs=office("100.00"))
    dollars = issued_invoice(
        customer=made["Bram"], currency="USD", specs=office("40.00"), paid="all"
    )
    invoice_cancel(invoice=dollars, actor=None, channel=Channel.SYSTEM)
    euros = issued_invoice(customer=made["Cees"], specs=office("10.00"), paid="all")
    invoice_cancel(invoice=euros, actor=None, channel=Channel.SYSTEM)
    issued_invoice(customer=made["Dana"], specs=office("300.00"))
    pounds = issued_invoice(customer=made["Eve"], specs=office("25.00"), paid="all")
    invoice_cancel(invoice=pounds, actor=None, channel=Channel.SYSTEM)
    return made


def listed(client, **query):
    client.force_login(staff_user())
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    return response


def cell_amounts(html, customer_name, column):
    """The amounts of one cell, as (currency, text) pairs, in the order shown."""
    row = re.search(rf"<tr>(?:(?!</tr>).)*>{customer_name}</a>(?:(?!</tr>).)*</tr>", html, re.S)
    cell = re.search(rf'<td class="field-{column}">(.*?)</td>', row.group(0), re.S).group(1)
    return re.findall(r'data-currency="(\w+)">([^<]*)<', cell)


def test_balance_and_available_credit_per_currency_billing_currency_first(client, customers):
    html = listed(client).content.decode()
    assert cell_amounts(html, "Anna", "balance_column") == [("EUR", "€500.00")]
    assert cell_amounts(html, "Anna", "available_credit_column") == [("EUR", "€0.00")]
    assert cell_amounts(html, "Bram", "balance_column") == [
        ("EUR", "€100.00"),
        ("USD", "-US$40.00"),
    ]
    assert cell_amounts(html, "Bram", "available_credit_column") == [
        ("EUR", "€0.00"),
        ("USD", "US$40.00"),
    ]
    assert cell_amounts(html, "Cees", "balance_column") == [("EUR", "-€10.00")]
    assert cell_amounts(html, "Cees", "available_credit_column") == [("EUR", "€10.00")]
    assert cell_amounts(html, "Dana", "balance_column") == [("GBP", "£300.00")]
    assert cell_amounts(html, "Eve", "balance_column") == [("GBP", "-£25.00")]
    assert cell_amounts(html, "Eve", "available_credit_column") == [("GBP", "£25.00")]


def test_the_list_figures_are_those_of_the_account_page(client, customers):
    """Same figures as ``customer_balance`` and ``available_credit`` (the customer page's),
    for every customer and currency."""
    rows = listed(client).context["cl"].result_list
    assert len(rows) == len(customers)
    for row in rows:
        for currency in ("EUR", "GBP", "USD"):
            balance = customer_balance(customer=row).get(currency, Money(0, currency))
            assert (getattr(row, f"balance_{currency.lower()}") or 0) == balance.amount
            credit = available_credit(customer=row, currency=currency)
            assert getattr(row, f"credit_{currency.lower()}") == credit.amount
        billing = row.location.default_currency
        assert row.billing_balance == getattr(row, f"balance_{billing.lower()}") or Decimal(0)
        assert row.billing_credit == getattr(row, f"credit_{billing.lower()}")


@pytest.mark.parametrize(
    ("column", "descending", "expected"),
    [
        ("balance_column", False, ["Cees", "Bram", "Anna", "Eve", "Dana"]),
        ("balance_column", True, ["Anna", "Bram", "Cees", "Dana", "Eve"]),
        # Bram's $40.00 is not in his billing currency: his euro credit (none) ranks him.
        ("available_credit_column", True, ["Cees", "Bram", "Anna", "Eve", "Dana"]),
        ("available_credit_column", False, ["Bram", "Anna", "Cees", "Dana", "Eve"]),
    ],
)
def test_sorting_by_a_figure_sorts_within_each_billing_currency(
    client, customers, column, descending, expected
):
    """Euros first, then pounds: £300.00 is never ranked against €500.00 (ties: newest
    customer first, the admin's own tie-break)."""
    index = listed(client).context["cl"].list_display.index(column)
    response = listed(client, o=f"-{index}" if descending else str(index))
    assert [row.billing_name for row in response.context["cl"].result_list] == expected
