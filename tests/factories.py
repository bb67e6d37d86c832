"""factory_boy factories; documents are made through the services, never by hand."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from djmoney.money import Money

from coworking.banking.models import BankAccount
from coworking.models import Customer, ExchangeRate, Location
from invoicing.services import LineInput, invoice_create_draft, invoice_issue, payment_record


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def staff_user(*, cancel: bool = True, credit: bool = False, **kwargs):
    """A staff user with the admin permissions on invoices, and ``cancel_invoice`` and
    ``issue_credit_note`` if asked."""
    user = UserFactory(is_staff=True, **kwargs)
    codenames = [
        "view_invoice",
        "change_invoice",
        "view_invoiceline",
        "view_payment",
        "view_creditnote",
        "view_customer",
    ]
    if cancel:
        codenames.append("cancel_invoice")
    if credit:
        codenames.append("issue_credit_note")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Space {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} Coworking B.V.")
    street_line1 = "Herengracht 100"
    postcode = "1015 BS"
    city = "Amsterdam"
    country = "NL"
    tax_id = factory.Sequence(lambda n: f"NL{n:09d}B01")
    default_currency = "EUR"
    vat_currency = factory.LazyAttribute(lambda o: o.default_currency)
    default_tax_rate = Decimal("21.00")
    invoice_prefix = factory.Sequence(lambda n: f"I{n}")
    credit_note_prefix = factory.Sequence(lambda n: f"C{n}")


class BankAccountFactory(factory.django.DjangoModelFactory):
    """The location's account in a currency; an IBAN and BIC of a real bank's shape."""

    class Meta:
        model = BankAccount

    location = factory.SubFactory(LocationFactory)
    currency = factory.LazyAttribute(lambda o: o.location.default_currency)
    account_holder = factory.LazyAttribute(lambda o: o.location.legal_name)
    iban = "NL91ABNA0417164300"
    bic = "ABNANL2A"


def belgian_location(**kwargs):
    """A Brussels location (its invoices ask for a structured communication)."""
    defaults = {
        "legal_name": "Sablon Coworking SRL",
        "street_line1": "Rue de la Régence 10",
        "postcode": "1000",
        "city": "Bruxelles",
        "country": "BE",
        "tax_id": "BE0477472701",
        "registration_id": "0477472701",
        "default_tax_rate": Decimal("21.00"),
    }
    return LocationFactory(**{**defaults, **kwargs})


def french_location(**kwargs):
    """A French location with what French documents state (SIREN, SIRET, RCS, legal form,
    share capital)."""
    defaults = {
        "legal_name": "Marais Coworking SAS",
        "street_line1": "12 rue des Archives",
        "postcode": "75004",
        "city": "Paris",
        "country": "FR",
        "tax_id": "FR11123456782",
        "registration_id": "123456782",
        "siret": "12345678200002",
        "rcs_city": "Paris",
        "legal_form": "SAS",
        "share_capital": Decimal("50000.00"),
        "default_tax_rate": Decimal("20.00"),
    }
    return LocationFactory(**{**defaults, **kwargs})


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    location = factory.SubFactory(LocationFactory)
    billing_name = factory.Sequence(lambda n: f"Member {n}")
    billing_email = factory.LazyAttribute(lambda o: f"member{o.billing_name[7:]}@example.com")
    street_line1 = "1 Example Street"
    postcode = "1011 AB"
    city = "Amsterdam"
    country = "NL"


def portal_member(*, location=None, members_may_cancel: bool | None = None, **kwargs):
    """A customer with a portal user (``customer.portal_user``); optionally sets the
    location's ``members_may_cancel`` policy."""
    location = location or LocationFactory()
    if members_may_cancel is not None and location.members_may_cancel != members_may_cancel:
        location.members_may_cancel = members_may_cancel
        location.save(update_fields=["members_may_cancel"])
    return CustomerFactory(location=location, portal_user=UserFactory(), **kwargs)


def lines(*specs, currency: str = "EUR") -> list[LineInput]:
    """``lines(("Desk", "1", "190.00", "21"), line(...), ...)`` → LineInputs with Decimals
    and Money, in ``currency``."""
    return [spec(currency) if callable(spec) else line(*spec)(currency) for spec in specs]


def line(
    description,
    quantity,
    price,
    rate,
    *,
    category=None,
    reason="",
    code="",
    period=None,
    kind="",
    item=None,
    override="",
    allowance=None,
    allowance_percent=None,
    allowance_reason="",
    allowance_code="",
):
    """One line spec with a VAT category, exemption reason (and code) and service period;
    the currency comes from the invoice. ``kind`` or ``item`` let the VAT rules decide (a
    ``rate`` of ``None``), ``override`` is the reason for typing another VAT."""

    def build(currency: str) -> LineInput:
        return LineInput(
            description=description,
            quantity=Decimal(quantity),
            unit_price=Money(Decimal(price), currency) if price is not None else None,
            tax_rate=Decimal(rate) if rate is not None else None,
            vat_category=category,
            vat_exemption_reason=reason,
            vat_exemption_reason_code=code,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            billable_item=item,
            supply_kind=kind,
            vat_override_reason=override,
            allowance=Decimal(allowance) if allowance is not None else None,
            allowance_percent=Decimal(allowance_percent) if allowance_percent is not None else None,
            allowance_reason=allowance_reason,
            allowance_reason_code=allowance_code,
        )

    return build


DEFAULT_LINES = (
    ("Dedicated desk", "1", "320.00", "21"),
    ("Meeting room (hours)", "3", "35.00", "9"),
)


def draft_invoice(
    *, customer=None, specs=DEFAULT_LINES, currency=None, allowance_charges=(), **references
):
    customer = customer or CustomerFactory()
    currency = currency or customer.location.default_currency
    return invoice_create_draft(
        customer=customer,
        lines=lines(*specs, currency=currency),
        currency=currency,
        allowance_charges=allowance_charges,
        **references,
    )


TEST_EXCHANGE_RATE = Decimal("1.1725")  # any rate: for invoices outside the VAT currency


def issued_invoice(
    *,
    customer=None,
    specs=DEFAULT_LINES,
    currency=None,
    paid=None,
    buyer_reference="",
    order_reference="",
    allowance_charges=(),
    **kwargs,
):
    """An issued invoice; ``paid`` ("all" or a Decimal string) records a payment too.
    Outside its location's VAT currency it is issued at ``TEST_EXCHANGE_RATE`` unless an
    ``exchange_rate`` (or a recorded ``ExchangeRate``) says otherwise."""
    draft = draft_invoice(
        customer=customer,
        specs=specs,
        currency=currency,
        buyer_reference=buyer_reference,
        order_reference=order_reference,
        allowance_charges=allowance_charges,
    )
    if draft.currency != draft.location.vat_currency and not ExchangeRate.objects.exists():
        kwargs.setdefault("exchange_rate", TEST_EXCHANGE_RATE)
    invoice = invoice_issue(invoice=draft, **kwargs)
    if paid:
        amount = invoice.amount_due if paid == "all" else Money(Decimal(paid), invoice.currency)
        payment_record(invoice=invoice, amount=amount)
        invoice.refresh_from_db()
    return invoice


# --- Invoices of particular VAT shapes (e-invoice and PDF tests) ---------------------------

REVERSE = "Reverse charge (Art. 196 Directive 2006/112/EC)"
EXEMPT = "Exempt: letting of immovable property (Art. 135(1)(l) Directive 2006/112/EC)"


def eu_business(location, **kwargs):
    return CustomerFactory(
        location=location,
        kind="company",
        billing_name="Müller Consulting GmbH",
        tax_id="DE136695976",
        street_line1="Friedrichstraße 68",
        postcode="10117",
        city="Berlin",
        country="DE",
        **kwargs,
    )


def exempt():
    return issued_invoice(
        specs=[
            line("Office letting", "1", "900.00", "0", category="E", reason=EXEMPT),
            ("Meeting room (hours)", "2", "35.00", "21"),
        ]
    )


def reverse_charge_to_an_eu_business():
    location = LocationFactory()
    return issued_invoice(
        customer=eu_business(location),
        specs=[line("Event hosting", "1", "2400.00", "0", category="AE", reason=REVERSE)],
    )


def usd_from_a_euro_location():
    customer = CustomerFactory()
    ExchangeRate.objects.create(
        currency="USD", vat_currency="EUR", date=datetime.date(2026, 1, 1), rate=Decimal("0.9213")
    )
    return issued_invoice(customer=customer, currency="USD", issue_date=datetime.date(2026, 3, 2))


def french_location_with_service_periods():
    location = french_location()
    customer = CustomerFactory(
        location=location, street_line1="3 place du Marché", postcode="69001", city="Lyon",
        country="FR", language="fr",
    )  # fmt: skip
    march = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    return issued_invoice(
        customer=customer,
        specs=[
            line("Poste dédié", "1", "320.00", "20", period=march),
            line("Salle de réunion (heures)", "3", "35.00", "20"),
            line("Café et déjeuner", "4", "12.50", "10"),
        ],
        issue_date=datetime.date(2026, 3, 2),
    )


# --- Sellers and business buyers with their identifiers and Peppol addresses -------------

PEPPOL_SELLERS = {
    "NL": {
        "street_line1": "Herengracht 100", "postcode": "1015 BS", "city": "Amsterdam",
        "tax_id": "NL004495445B01", "registration_id": "34123456",
        "electronic_address_scheme": "0106", "electronic_address": "34123456",
        "default_tax_rate": Decimal("21.00"), "language": "nl",
    },
    "BE": {
        "street_line1": "Rue de la Loi 16", "postcode": "1000", "city": "Bruxelles",
        "tax_id": "BE0403170701", "registration_id": "0403.170.701",
        "electronic_address_scheme": "0208", "electronic_address": "0403170701",
        "default_tax_rate": Decimal("21.00"), "language": "fr",
    },
    "GB": {
        "street_line1": "12 Rivington Street", "postcode": "EC2A 3DU", "city": "London",
        "tax_id": "GB980780684", "registration_id": "01234567",
        "electronic_address_scheme": "9932", "electronic_address": "GB980780684",
        "default_tax_rate": Decimal("20.00"), "default_currency": "GBP", "language": "en",
    },
}  # fmt: skip
PEPPOL_BUYERS = {
    "NL": {
        "billing_name": "Grachten Media B.V.", "street_line1": "Prinsengracht 263",
        "postcode": "1016 GV", "city": "Amsterdam", "tax_id": "NL853746333B01",
        "registration_id": "87654321", "electronic_address_scheme": "0106",
        "electronic_address": "87654321",
    },
    "FR": {
        "billing_name": "Atelier Rivoli SAS", "street_line1": "45 rue de Rivoli",
        "postcode": "75001", "city": "Paris", "tax_id": "FR96552100554",
        "registration_id": "552100554", "electronic_address_scheme": "0009",
        "electronic_address": "55210055400013",
    },
    "BE": {
        "billing_name": "Brasserie Lambic SRL", "street_line1": "Rue Neuve 12",
        "postcode": "1000", "city": "Bruxelles", "tax_id": "BE0477472701",
        "registration_id": "0477472701", "electronic_address_scheme": "0208",
        "electronic_address": "0477472701",
    },
    "DE": {
        "billing_name": "Müller Consulting GmbH", "street_line1": "Friedrichstraße 68",
        "postcode": "10117", "city": "Berlin", "tax_id": "DE136695976",
        "registration_id": "Berlin (Charlottenburg) HRB 12345",
        "electronic_address_scheme": "9930", "electronic_address": "DE136695976",
    },
    "GB": {
        "billing_name": "Tideline Legal Ltd", "street_line1": "1 Old Street",
        "postcode": "EC1V 9HX", "city": "London", "tax_id": "GB727255821",
        "registration_id": "SC123456", "electronic_address_scheme": "9932",
        "electronic_address": "GB727255821",
    },
    "NO": {
        "billing_name": "Fjord Analytics AS", "street_line1": "Karl Johans gate 1",
        "postcode": "0154", "city": "Oslo", "registration_id": "974760673",
        "electronic_address_scheme": "0192", "electronic_address": "974760673",
    },
}  # fmt: skip


def peppol_location(country: str, **kwargs):
    """A location of ``country`` (NL, BE, GB, FR) with its register number and Peppol
    address; France with its terms for business invoices."""
    if country == "FR":
        peppol = {
            "electronic_address_scheme": "0009",
            "electronic_address": "12345678200002",
            "late_payment_rate": Decimal("12.00"),
            "language": "fr",
        }
        return french_location(**{**peppol, **kwargs})
    return LocationFactory(country=country, **{**PEPPOL_SELLERS[country], **kwargs})


def peppol_business(location, country: str, **kwargs):
    """A company of ``country`` (NL, FR, BE, DE, GB, NO) billed by ``location``, with its
    VAT id (none in Norway), register number and Peppol address."""
    return CustomerFactory(
        location=location,
        kind="company",
        country=country,
        billing_email="accounts@example.com",
        **{**PEPPOL_BUYERS[country], **kwargs},
    )
