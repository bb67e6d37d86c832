"""Seed a realistic demo operator; does nothing if one is already there.

Three locations (Amsterdam in EUR, London in GBP, Paris in EUR with the French legal
details), members and companies with structured addresses (some members with only their
country, the minimum a document needs), each location's price list (billable items whose
supply kind decides every line's VAT, ``coworking.vat_rules``), and a few hundred invoices in
every state. The VAT shapes an operator meets are all there (every company with its VAT id,
register number and Peppol address; companies in Belgium and Germany too): standard-rated memberships billed per month
(with their service period), several rates on one invoice, zero-rated printed matter in
London, exempt office letting in Amsterdam, reverse-charge services to businesses in other
EU countries, and invoices in US dollars from Amsterdam (their VAT also stated in euros at
the recorded exchange rate). Credit notes: whole cancels, and partial ones (a quantity of a
line, a goodwill amount, a partial note then the remainder cancelled) in every location and
currency.
"""

import datetime
import logging
import os
import random
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from djmoney.money import Money
from stdnum import iban as stdnum_iban

from coworking.banking.models import BankAccount
from coworking.billable_items import BillableItem
from coworking.models import Customer, ExchangeRate, Location
from credits.management.demo_catalog import (
    COMPANIES,
    DEMO_BANK_ACCOUNTS,
    DOCUMENT_ALLOWANCE_EVERY,
    ELECTRONIC_ADDRESS_SCHEMES,
    EU_BUSINESSES,
    EXEMPT,
    FIRST,
    LAST,
    PRICE_LIST,
    PRODUCTS,
    REDUCED,
    REDUCED_RATES,
    REVERSE_CHARGE,
    STREETS,
    USD_SHARE,
    ZERO_RATED,
    month_of,
    registration_id,
    valid_vat_id,
)
from credits.models import ReasonCode
from credits.services.issue import credit_note_issue, invoice_cancel
from credits.services.requests import Allocation, AmountCredit, LineCredit, Rest
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.models import Channel, Invoice, Payment
from invoicing.services import (
    LineInput,
    invoice_create_draft,
    invoice_draft_set_lines,
    invoice_issue,
    payment_record,
)


class Command(BaseCommand):
    help = (
        "Create a demo operator: 3 locations (one French), ~60 customers, a few hundred "
        "invoices in every VAT shape and state, admin/admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, invoices: int, seed: int, verbosity: int = 1, **options):
        if Location.objects.exists():
            self._login_hint(self._ensure_admin(), prefix="Demo data already present. ")
            return
        # What each document does is logged at INFO (a thousand lines for the demo): kept
        # for -v 2; otherwise a progress bar and one summary line.
        if verbosity < 2:
            logging.disable(logging.INFO)
        try:
            summary = self._seed(invoices=invoices, seed=seed, show=verbosity >= 1)
        finally:
            logging.disable(logging.NOTSET)
        self._login_hint(self._ensure_admin(), prefix=f"Seeded {summary}. ")

    def _login_hint(self, user, *, prefix: str) -> None:
        """Where to log in, on every start: the password too while it is still the demo's."""
        password = "password 'admin'" if user.check_password("admin") else "your password"
        url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/admin/"
        self.stdout.write(
            self.style.WARNING(
                f"{prefix}Demo login: {url}  user '{user.username}' {password} "
                "(demo only; change it anywhere real)."
            )
        )

    def _progress(self, done: int, total: int, *, show: bool) -> None:
        """A bar redrawn in place on a terminal; a line per quarter otherwise (logs)."""
        if not show or not total:
            return
        if self.stdout.isatty():
            width = 30
            filled = width * done // total
            bar = "#" * filled + "." * (width - filled)
            self.stdout.write(f"\rSeeding the demo [{bar}] {done}/{total} invoices", ending="")
            if done == total:
                self.stdout.write("")
            self.stdout.flush()
        elif done == total or done % max(total // 4, 1) == 0:
            self.stdout.write(f"Seeding the demo: {done}/{total} invoices")

    def _seed(self, *, invoices: int, seed: int, show: bool) -> str:
        rng = random.Random(seed)
        today = datetime.date.today()
        first_day = today - datetime.timedelta(days=300)
        with transaction.atomic():
            locations = self._locations()
            self._bank_accounts(locations)
            self.items = self._billable_items(locations)
            customers = self._customers(rng, locations)
            self._refund_accounts(rng, customers)
            self._exchange_rates(rng, first_day=first_day, last_day=today)
        for i in range(invoices):
            self._progress(i, invoices, show=show and i > 0)
            customer = rng.choice(customers)
            issue_date = today - datetime.timedelta(days=int((invoices - i) * 300 / invoices))
            currency = customer.location.default_currency
            if str(customer.location.country) == "NL" and customer.kind == Customer.Kind.COMPANY:
                currency = "USD" if rng.random() < USD_SHARE else currency
            specs = self._lines(rng, customer=customer, day=issue_date, currency=currency)
            invoice = invoice_create_draft(customer=customer, lines=specs, currency=currency)
            if i % DOCUMENT_ALLOWANCE_EVERY in (7, 27):
                self._document_allowance(invoice, specs=specs, charge=i % 2 == 1)
            roll = rng.random()
            if roll < 0.08:
                continue
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
                invoice_cancel(
                    invoice=invoice,
                    actor=None,
                    reason="Demo: booking cancelled",
                    channel=Channel.SYSTEM,
                )
        partial = self._partial_credit_notes()
        self._progress(invoices, invoices, show=show)
        counts = {
            state: Invoice.objects.filter(state=state).count() for state in Invoice.State.values
        }
        return (
            f"{len(locations)} locations, {len(customers)} customers, {invoices} invoices ("
            + ", ".join(f"{n} {state}" for state, n in counts.items())
            + f"), {partial} partial credit notes"
        )

    def _document_allowance(self, invoice: Invoice, *, specs, charge: bool) -> None:
        """A loyalty discount of 5 % on the whole invoice (EN 16931 BG-20), at the VAT of
        its first line, and on some a cleaning charge (BG-21) too. Drawn from the invoice's
        index, not the random generator, so the rest of the demo stays as it was."""
        first = invoice.lines.all()[0]
        category, rate = first.vat_category, first.tax_rate
        rows = [
            AllowanceChargeInput(
                percent=Decimal("5"),
                reason="Loyalty discount",
                vat_category=category,
                tax_rate=rate,
            )
        ]
        if charge:
            rows.append(
                AllowanceChargeInput(
                    kind="charge",
                    amount=Decimal("15.00"),
                    reason_code="CG",
                    vat_category=category,
                    tax_rate=rate,
                )
            )
        invoice_draft_set_lines(invoice=invoice, lines=specs, allowance_charges=rows)

    def _partial_credit_notes(self) -> int:
        """In each location and currency, the first three open invoices get partial credit
        notes (their number is returned): half of a line's quantity (refunded when the invoice was paid), a goodwill
        amount at the first line's rate, and a line credited then the remainder cancelled.
        Issued last, so every note is dated today, after the invoices it corrects."""
        issued = 0
        open_invoices = (
            # An invoice with a discount on the whole invoice is cancelled, never credited in part.
            Invoice.objects.filter(
                state__in=[Invoice.State.ISSUED, Invoice.State.PAID],
                allowance_charges__isnull=True,
            )
            .prefetch_related("lines")
            .order_by("location_id", "currency", "sequence_number")
        )
        taken: dict[tuple[int, str], int] = {}
        for invoice in open_invoices:
            kind = taken.get((invoice.location_id, invoice.currency), 0)
            if kind >= 3:
                continue
            taken[(invoice.location_id, invoice.currency)] = kind + 1
            lines = sorted(invoice.lines.all(), key=lambda line: (-line.quantity, line.position))
            request = {"actor": None, "channel": Channel.SYSTEM, "invoice": invoice}
            if kind == 1 or lines[0].quantity < 2:
                first = invoice.lines.all()[0]
                goodwill = max((first.net.amount / 10).quantize(Decimal("0.01")), Decimal("0.01"))
                credit_note_issue(
                    **request,
                    amount=AmountCredit(
                        value=Money(goodwill, invoice.currency),
                        tax_rate=first.tax_rate,
                        description="Goodwill: air conditioning out of order",
                    ),
                    reason_code=ReasonCode.GOODWILL,
                    reason="Demo: goodwill",
                )
            else:
                half = (lines[0].quantity / 2).to_integral_value(rounding=ROUND_DOWN)
                credit_note_issue(
                    **request,
                    lines=[LineCredit(invoice_line=lines[0].pk, quantity=half)],
                    reason_code=ReasonCode.SERVICE_NOT_USED,
                    reason="Demo: not used",
                    allocation=Allocation(
                        rest=Rest.REFUND
                        if invoice.state == Invoice.State.PAID
                        else Rest.ACCOUNT_CREDIT
                    ),
                )
            issued += 1
            if kind == 2:
                invoice_cancel(**request, reason="Demo: the rest cancelled")
        return issued

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

    def _lines(self, rng, *, customer: Customer, day: datetime.date, currency: str):
        """What one invoice bills, by the customer's situation (see the module docstring)."""
        location = customer.location
        country = str(location.country)
        products = rng.sample(PRODUCTS, rng.randint(1, 3))
        if str(customer.country) != country and customer.tax_id:
            products = [REVERSE_CHARGE, *products[:1]]
        if rng.random() < 0.3:
            products.append(REDUCED)
        if country == "GB" and rng.random() < 0.25:
            products.append(ZERO_RATED)
        if country == "NL" and customer.kind == Customer.Kind.COMPANY and rng.random() < 0.2:
            products.append(EXEMPT)
        lines = []
        for product in products:
            start, end = month_of(day) if product.monthly else (None, None)
            lines.append(
                LineInput(
                    description="",
                    quantity=product.quantity,
                    unit_price=Money(product.price, currency),
                    tax_rate=None,
                    billable_item=self.items[(location.pk, product.description)],
                    period_start=start,
                    period_end=end,
                )
            )
        return lines

    def _billable_items(self, locations) -> dict[tuple[int, str], BillableItem]:
        """Each location's price list (one item per product name, at its first price)."""
        items = {}
        for location in locations:
            country = str(location.country)
            for product in PRICE_LIST:
                if (location.pk, product.description) in items:
                    continue
                rate = {"reduced": REDUCED_RATES.get(country), "zero": Decimal("0")}.get(
                    product.rated
                )
                items[(location.pk, product.description)] = BillableItem.objects.create(
                    location=location,
                    name=product.description,
                    supply_kind=product.kind,
                    unit_price=Money(product.price, location.default_currency),
                    tax_rate=rate,
                )
        return items

    def _exchange_rates(self, rng, *, first_day: datetime.date, last_day: datetime.date):
        """A USD→EUR rate a week (as staff would record the ECB's)."""
        day, rate = first_day - datetime.timedelta(days=7), Decimal("0.9200")
        while day <= last_day:
            ExchangeRate.objects.create(
                currency="USD", vat_currency="EUR", date=day, rate=rate, source="ECB (demo)"
            )
            rate = (rate + Decimal(rng.randint(-80, 80)) / 10000).quantize(Decimal("0.0001"))
            day += datetime.timedelta(days=7)

    def _locations(self):
        return [
            Location.objects.create(
                name="Amsterdam Canal House",
                legal_name="Canal House Coworking B.V.",
                street_line1="Herengracht 100",
                postcode="1015 BS",
                city="Amsterdam",
                country="NL",
                tax_id="NL004495445B01",
                registration_id="12345678",
                legal_form="B.V.",
                electronic_address_scheme="0106",
                electronic_address="12345678",
                default_currency="EUR",
                vat_currency="EUR",
                default_tax_rate=Decimal("21.00"),
                invoice_prefix="AMS",
                language="nl",
                credit_note_prefix="AMSCN",
                email_documents=True,
            ),
            Location.objects.create(
                name="London Shoreditch",
                legal_name="Shoreditch Desks Ltd",
                street_line1="12 Rivington Street",
                postcode="EC2A 3DU",
                city="London",
                country="GB",
                tax_id="GB980780684",
                registration_id="01234567",
                legal_form="Ltd",
                electronic_address_scheme="9932",
                electronic_address="GB980780684",
                default_currency="GBP",
                vat_currency="GBP",
                default_tax_rate=Decimal("20.00"),
                invoice_prefix="LDN",
                credit_note_prefix="LDNCN",
            ),
            Location.objects.create(
                name="Paris Marais",
                legal_name="Marais Coworking SAS",
                street_line1="12 rue des Archives",
                postcode="75004",
                city="Paris",
                country="FR",
                tax_id="FR11123456782",
                registration_id="123456782",
                siret="12345678200002",
                rcs_city="Paris",
                legal_form="SAS",
                share_capital=Decimal("50000.00"),
                late_payment_rate=Decimal("12.00"),
                vat_on_debits=True,
                electronic_address_scheme="0009",
                electronic_address="12345678200002",
                default_currency="EUR",
                vat_currency="EUR",
                default_tax_rate=Decimal("20.00"),
                invoice_prefix="PAR",
                language="fr",
                credit_note_prefix="PARCN",
            ),
        ]

    def _bank_accounts(self, locations):
        """An account for each currency a location invoices in (Amsterdam bills some
        companies in US dollars), so every invoice states where to pay."""
        for location in locations:
            for currency, iban, bic in DEMO_BANK_ACCOUNTS.get(str(location.country), ()):
                BankAccount.objects.create(
                    location=location,
                    currency=currency,
                    account_holder=location.legal_name,
                    iban=iban,
                    bic=bic,
                )

    def _refund_accounts(self, rng, customers):
        """Companies give their IBAN, so their refunding credit notes say where the money
        goes; members mostly do not."""
        for customer in customers:
            if customer.kind == Customer.Kind.COMPANY:
                bban = f"{rng.randint(10**7, 10**8 - 1)}{rng.randint(0, 10**10 - 1):010d}"
                customer.iban = f"DE{stdnum_iban.calc_check_digits(f'DExx{bban}')}{bban}"
                customer.save(update_fields=["iban"])

    def _customers(self, rng, locations):
        customers = []
        for n in range(60):
            location = locations[n % len(locations)]
            country = str(location.country)
            street, postcode, city = STREETS[country]
            address = {
                "street_line1": f"{rng.randint(1, 200)} {street}",
                "postcode": postcode,
                "city": city,
                "country": country,
            }
            details = {}
            if n % 5 == 0:
                name = COMPANIES[(n // 5) % len(COMPANIES)]
                kind, tax_id = Customer.Kind.COMPANY, valid_vat_id(country, rng)
                details = {
                    "registration_id": registration_id(country, tax_id),
                    "electronic_address_scheme": ELECTRONIC_ADDRESS_SCHEMES[country],
                    "electronic_address": tax_id,
                    "buyer_reference": f"CC-{rng.randint(1000, 9999)}" if n % 10 == 0 else "",
                }
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                kind, tax_id = Customer.Kind.MEMBER, ""
                if n % 4 == 1:  # the minimum a document needs: the country
                    address = {"country": country}
            customers.append(
                Customer.objects.create(
                    location=location,
                    kind=kind,
                    billing_name=name,
                    tax_id=tax_id,
                    billing_email=f"{name.lower().replace(' ', '.').replace('&', 'and')}{n}@example.com",
                    # The location's language (Dutch in Amsterdam, French in Paris), but
                    # some members read English.
                    language="en" if n % 7 == 0 else "",
                    **address,
                    **details,
                )
            )
        eu_locations = [location for location in locations if str(location.country) != "GB"]
        for n, (name, country, street, postcode, city) in enumerate(EU_BUSINESSES):
            # Each is billed by a location in another EU country: reverse charge.
            location = next(
                loc for loc in eu_locations[n % 2 :] + eu_locations if str(loc.country) != country
            )
            tax_id = valid_vat_id(country, rng)
            customers.append(
                Customer.objects.create(
                    location=location,
                    kind=Customer.Kind.COMPANY,
                    billing_name=name,
                    tax_id=tax_id,
                    billing_email=f"accounts{n}@{name.split()[0].lower()}.example",
                    street_line1=street,
                    postcode=postcode,
                    city=city,
                    country=country,
                    registration_id=registration_id(country, tax_id),
                    electronic_address_scheme=ELECTRONIC_ADDRESS_SCHEMES[country],
                    electronic_address=tax_id,
                    language={"FR": "fr", "BE": "fr", "DE": "de", "NL": "nl"}.get(country, "en"),
                )
            )
        return customers
