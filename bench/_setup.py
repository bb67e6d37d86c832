"""Shared bench set-up: a dedicated PostgreSQL database, migrated and emptied."""

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on_bench_database(default_name: str) -> None:
    """Point Django at ``DATABASE_URL`` (default: a ``default_name`` database), create it
    afresh and migrate it. Refuses SQLite: the numbers are about PostgreSQL."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{default_name}")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))  # throw-away
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://...")
    admin = psycopg2.connect(
        dbname="postgres", user=config["USER"], host=config["HOST"], port=config["PORT"]
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        # A fresh database each run: the document tables refuse TRUNCATE (so no flush).
        cursor.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


LINES = 5


def make_location(prefix: str):
    """A location and one customer of it (returned), for a series of bench invoices."""
    from decimal import Decimal

    from coworking.models import Customer, Location

    location = Location.objects.create(
        name=f"Bench {prefix}",
        legal_name=f"Bench {prefix} B.V.",
        street_line1="Bench street 1",
        postcode="1015 BS",
        city="Amsterdam",
        country="NL",
        tax_id=f"NL{prefix}",
        default_currency="EUR",
        vat_currency="EUR",
        default_tax_rate=Decimal("21"),
        invoice_prefix=prefix,
        credit_note_prefix=f"{prefix}CN",
    )
    return Customer.objects.create(
        location=location,
        billing_name=f"Bench customer {prefix}",
        billing_email="b@example.com",
        country="NL",
    )


def seed(customer, n: int, lines: int = LINES) -> list[int]:
    """Issue ``n`` invoices of ``lines`` lines for ``customer`` through the services; their ids."""
    from decimal import Decimal

    from djmoney.money import Money

    from invoicing.services import LineInput, invoice_create_draft, invoice_issue

    specs = [
        LineInput(
            description=f"Line {i}",
            quantity=Decimal("1.5"),
            unit_price=Money(Decimal("19.99") + i, "EUR"),
            tax_rate=Decimal("21") if i % 2 else Decimal("9"),
        )
        for i in range(lines)
    ]
    return [
        invoice_issue(invoice=invoice_create_draft(customer=customer, lines=specs)).pk
        for _ in range(n)
    ]
