"""The customer list's balance and available-credit columns on the embedded default (SQLite,
which sums decimals in floating point): the same figures, to the cent, as the customer page's
``customer_balance`` and ``available_credit``."""

from tests.embedded import embedded_manage

# Amounts whose floating-point sums are not exact (229.15 + 229.14 = 458.28999999999996).
CHECK = """
from decimal import Decimal
from django.conf import settings
from coworking.models import Customer
from coworking.selectors import customer_balance
from credits.services import invoice_cancel
from invoicing.models import Channel
from invoicing.selectors import available_credit, customers_with_available_credit
from tests.factories import CustomerFactory, LocationFactory, issued_invoice

location = LocationFactory()
for n in range(4):
    customer = CustomerFactory(location=location)
    for price, paid in [("458.29", "229.14"), ("0.10", None), ("0.20", "all"), ("7.77", "all")]:
        issued_invoice(customer=customer, specs=[("Desk", "1", price, "0")], paid=paid)
    for price in ("0.30", "229.15"):
        invoice = issued_invoice(customer=customer, specs=[("Desk", "1", price, "0")], paid="all")
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    issued_invoice(customer=customer, currency="USD", specs=[("Desk", "1", "0.70", "0")])

rows = customers_with_available_credit(customers=Customer.objects.select_related("location"))
for row in rows:
    balances = customer_balance(customer=row)
    for currency in settings.CURRENCIES:
        listed = getattr(row, "balance_" + currency.lower())
        expected = balances[currency].amount if currency in balances else None
        assert listed == expected, (row.pk, currency, listed, expected)
        listed = getattr(row, "credit_" + currency.lower())
        expected = available_credit(customer=row, currency=currency).amount
        assert listed == expected and listed.as_tuple().exponent == -2, (listed, expected)
    assert row.billing_balance == balances["EUR"].amount == Decimal("0.10"), row.billing_balance
    assert row.billing_credit == row.credit_eur == Decimal("229.15"), row.billing_credit
    assert row.balance_usd == Decimal("0.70") and row.credit_usd == 0
print("checked", len(rows))
"""


def test_the_list_figures_are_exact_on_the_embedded_default(tmp_path):
    # The documents' PDFs stay pending (no in-process rendering): the sums are under test.
    manage = embedded_manage(tmp_path, LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="0")
    manage("migrate", "--noinput")
    assert manage("shell", "-v", "0", "-c", CHECK).split() == ["checked", "4"]
