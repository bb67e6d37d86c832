"""The scale bench's template documents: a few real ones per location, made by the services.

Every row the bulk build writes (``bench/_scale_build.py``) is a copy of one of these,
shifted to another customer, number and date: the amounts, VAT, ledger and journal entries
are therefore exactly what the services write, and only the copying is bulk SQL.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

# The day the templates are dated: before every copy (a series is in date order, and the
# templates take each location's first numbers).
TEMPLATE_DAY = datetime.date(2021, 1, 4)

# Each shape: (name, share of the copies). The shares add up to 1.
SHAPES = (
    ("unpaid", 0.20),
    ("partly_paid", 0.10),
    ("paid", 0.50),
    ("cancelled", 0.10),
    ("partly_credited", 0.10),
)

LINES = (
    ("Dedicated desk", "1", "320.00", "21"),
    ("Meeting room (hours)", "3", "35.00", "21"),
    ("Day pass", "2", "25.00", "21"),
    ("Printing", "40", "0.10", "21"),
    ("Coffee and lunch", "5", "7.50", "9"),
)


@contextmanager
def dated(day: datetime.date):
    """Run the services as if it were ``day`` (their dates come from ``timezone.now``)."""
    from django.utils import timezone

    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def make_location(index: int):
    from tests.factories import BankAccountFactory, LocationFactory

    location = LocationFactory(
        name=f"Scale space {index:03d}",
        invoice_prefix=f"S{index:03d}",
        credit_note_prefix=f"S{index:03d}C",
    )
    BankAccountFactory(location=location)
    return location


def make_templates(location, customer) -> dict[str, int]:
    """One invoice of each shape at ``location`` for ``customer``: ``{shape: invoice id}``."""
    from djmoney.money import Money

    from credits.services import LineCredit, credit_note_issue, invoice_cancel
    from invoicing.services import payment_record
    from tests.factories import issued_invoice

    ids = {}
    with dated(TEMPLATE_DAY):
        for shape, _share in SHAPES:
            invoice = issued_invoice(customer=customer, specs=LINES, issue_date=TEMPLATE_DAY)
            if shape == "partly_paid":
                payment_record(
                    invoice=invoice,
                    amount=Money(Decimal("100.00"), invoice.currency),
                    received_on=TEMPLATE_DAY,
                )
            elif shape == "paid":
                payment_record(invoice=invoice, amount=invoice.amount_due, received_on=TEMPLATE_DAY)
            elif shape == "cancelled":
                invoice_cancel(invoice=invoice, actor=None, channel="admin", reason="Booked twice")
            elif shape == "partly_credited":
                first = invoice.lines.order_by("position").first()
                credit_note_issue(
                    invoice=invoice,
                    lines=[LineCredit(invoice_line=first.pk, quantity=Decimal("1"))],
                    actor=None,
                    channel="admin",
                    reason="Desk unused",
                )
            ids[shape] = invoice.pk
    return ids
