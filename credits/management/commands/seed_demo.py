"""Seed a realistic demo operator; does nothing if one is already there."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from djmoney.money import Money

from coworking.models import Customer, Location
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice, Payment
from invoicing.services import LineInput, invoice_create_draft, invoice_issue, payment_record

PRODUCTS = [
    ("Hot desk membership", Decimal("1"), Decimal("190.00")),
    ("Dedicated desk membership", Decimal("1"), Decimal("320.00")),
    ("Private office (4 desks)", Decimal("1"), Decimal("1450.00")),
    ("Meeting room booking (hours)", Decimal("3"), Decimal("35.00")),
    ("Meeting room booking (hours)", Decimal("1.5"), Decimal("42.50")),
    ("Day pass", Decimal("5"), Decimal("25.00")),
    ("Day pass", Decimal("1"), Decimal("29.00")),
    ("Locker rental", Decimal("1"), Decimal("15.00")),
    ("Printing credits", Decimal("200"), Decimal("0.07")),
]
FIRST = [
    "Ada",
    "Ben",
    "Chloé",
    "Dev",
    "Elif",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mila",
    "Noah",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tess",
]
LAST = ["Meyer", "Jansen", "Dubois", "Patel", "Kaya", "Walsh", "Berg", "Laurent", "Silva", "Novak"]
COMPANIES = [
    "Brightpath Studio",
    "Northwind Labs",
    "Pixel & Co",
    "Tideline Legal",
    "Orbit Analytics",
    "Fernhill Design",
    "Quayside Ventures",
    "Lumen Health",
    "Copperleaf",
    "Atlas Robotics",
]


class Command(BaseCommand):
    help = (
        "Create a demo operator: 2 locations, ~50 customers, a few hundred invoices, admin/admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, invoices: int, seed: int, **options):
        if Location.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            self._ensure_admin()
            return
        rng = random.Random(seed)
        with transaction.atomic():
            locations = self._locations()
            customers = self._customers(rng, locations)
        today = datetime.date.today()
        counts = {state: 0 for state in Invoice.State.values}
        for i in range(invoices):
            customer = rng.choice(customers)
            location = customer.location
            lines = [
                LineInput(
                    description=description,
                    quantity=quantity,
                    unit_price=Money(price, location.default_currency),
                    tax_rate=location.default_tax_rate,
                )
                for description, quantity, price in rng.sample(PRODUCTS, rng.randint(1, 4))
            ]
            invoice = invoice_create_draft(customer=customer, lines=lines)
            roll = rng.random()
            if roll < 0.08:
                counts["draft"] += 1
                continue
            issue_date = today - datetime.timedelta(days=int((invoices - i) * 300 / invoices))
            invoice = invoice_issue(invoice=invoice, issue_date=issue_date)
            if invoice.state == Invoice.State.ISSUED and roll < 0.60:
                payment_record(
                    invoice=invoice,
                    amount=invoice.amount_due,
                    method=rng.choice(["bank_transfer", "card"]),
                    received_on=issue_date,
                )
            elif invoice.state == Invoice.State.ISSUED and roll < 0.75:
                half = Money((invoice.total.amount / 2).quantize(Decimal("0.01")), invoice.currency)
                payment_record(
                    invoice=invoice, amount=half, method=Payment.Method.CARD, received_on=issue_date
                )
            if 0.75 <= roll < 0.82 or (0.55 <= roll < 0.58):
                invoice = invoice_cancel(
                    invoice=invoice,
                    actor=None,
                    reason="Demo: booking cancelled",
                    channel=Channel.SYSTEM,
                ).invoice
            invoice.refresh_from_db()
            counts[invoice.state] += 1
        user = self._ensure_admin()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(locations)} locations, {len(customers)} customers, {invoices} invoices "
                + ", ".join(f"{n} {state}" for state, n in counts.items())
                + "."
            )
        )
        self.stdout.write(
            self.style.WARNING(
                f"Demo login: http://127.0.0.1:8000/admin/  user '{user.username}' password 'admin' "
                "(demo only; change it anywhere real)."
            )
        )

    def _ensure_admin(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"},
        )
        if created:
            user.set_password("admin")
            user.save()
        return user

    def _locations(self):
        return [
            Location.objects.create(
                name="Amsterdam Canal House",
                legal_name="Canal House Coworking B.V.",
                address="Herengracht 100\n1015 BS Amsterdam\nNetherlands",
                tax_id="NL123456789B01",
                default_currency="EUR",
                default_tax_rate=Decimal("21.00"),
                invoice_prefix="AMS",
                credit_note_prefix="AMSCN",
                email_documents=True,
            ),
            Location.objects.create(
                name="London Shoreditch",
                legal_name="Shoreditch Desks Ltd",
                address="12 Rivington Street\nLondon EC2A 3DU\nUnited Kingdom",
                tax_id="GB123456789",
                default_currency="GBP",
                default_tax_rate=Decimal("20.00"),
                invoice_prefix="LDN",
                credit_note_prefix="LDNCN",
            ),
        ]

    def _customers(self, rng, locations):
        customers = []
        for n in range(50):
            location = locations[n % 2]
            if n % 5 == 0:
                name = COMPANIES[(n // 5) % len(COMPANIES)]
                kind, tax_id = (
                    Customer.Kind.COMPANY,
                    f"{location.tax_id[:2]}{rng.randint(10**8, 10**9)}",
                )
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                kind, tax_id = Customer.Kind.MEMBER, ""
            customers.append(
                Customer.objects.create(
                    location=location,
                    kind=kind,
                    billing_name=name,
                    tax_id=tax_id,
                    billing_email=f"{name.lower().replace(' ', '.').replace('&', 'and')}{n}@example.com",
                    billing_address=f"{rng.randint(1, 200)} Example Street",
                    language="fr" if n % 7 == 0 else "en",
                )
            )
        return customers
