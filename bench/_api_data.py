"""The API bench's database: its own, made afresh, and the invoices the runs use.

The invoices are issued through the services, so the cancels and lists measured later work
on the rows the application writes.
"""

import os
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = os.environ.get("BENCH_API_DATABASE", "cw_bench_api")


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    admin = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname,
        port=parts.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    admin.close()


def seed(*, cancels: int, list_invoices: int):
    """Issue the invoices through the services; return what the runs need."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from djmoney.money import Money
    from rest_framework.authtoken.models import Token

    from coworking.models import Customer, Location
    from credits.services import invoice_cancel
    from invoicing.services import LineInput, invoice_create_draft, invoice_issue

    location = Location.objects.create(
        name="Bench Space",
        legal_name="Bench Space B.V.",
        street_line1="Loopback 1",
        postcode="1015 BS",
        city="Amsterdam",
        country="NL",
        tax_id="NL000000000B01",
        default_currency="EUR",
        vat_currency="EUR",
        default_tax_rate=Decimal("21"),
        invoice_prefix="BINV",
        credit_note_prefix="BCN",
    )
    users = get_user_model().objects
    staff = users.create_user("bench-staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_invoice", "cancel_invoice", "view_creditnote", "view_customer"]
        )
    )
    customers = [
        Customer.objects.create(
            location=location,
            billing_name=f"Bench member {n}",
            billing_email=f"m{n}@example.com",
            country="NL",
        )
        for n in range(20)
    ]
    member = Customer.objects.create(
        location=location,
        billing_name="Bench list member",
        billing_email="list@example.com",
        country="NL",
        portal_user=users.create_user("bench-member"),
    )
    lines = [
        LineInput("Dedicated desk", Decimal("1"), Money("320.00", "EUR"), Decimal("21")),
        LineInput("Meeting room (hours)", Decimal("3"), Money("35.00", "EUR"), Decimal("9")),
        LineInput("Day pass", Decimal("2"), Money("25.00", "EUR"), Decimal("21")),
    ]

    def issue(customer):
        return invoice_issue(invoice=invoice_create_draft(customer=customer, lines=lines)).pk

    to_cancel = [issue(customers[n % len(customers)]) for n in range(cancels)]
    listed = [issue(member) for _ in range(list_invoices)]
    for invoice_id in listed[: list_invoices // 5]:  # some credit notes for the note list
        invoice_cancel(invoice=invoice_id, actor=staff, reason="bench", channel="system")
    return {
        "staff": staff,
        "staff_token": Token.objects.create(user=staff).key,
        "member": member,
        "member_token": Token.objects.create(user=member.portal_user).key,
        "to_cancel": to_cancel,
    }
