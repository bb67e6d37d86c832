"""What the demo is made of: the price list (each item's supply kind decides its lines'
VAT), the VAT shapes the demo must show, names, streets, and identifiers with valid check
digits. Data and pure helpers only; ``seed_demo`` writes them through the services."""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from stdnum.util import get_cc_module

from coworking.vat_rules import SupplyKind


@dataclass(frozen=True)
class Product:
    """An entry of every location's price list (a ``BillableItem``): its supply kind decides
    the VAT of the lines that bill it (``coworking.vat_rules``)."""

    description: str
    quantity: Decimal
    price: Decimal
    kind: str = SupplyKind.WORKSPACE
    monthly: bool = False  # billed for a calendar month: the line carries its period
    rated: str = ""  # "reduced" or "zero": the item's own rate, not the standard one


PRODUCTS = [
    Product("Hot desk membership", Decimal("1"), Decimal("190.00"), monthly=True),
    Product("Dedicated desk membership", Decimal("1"), Decimal("320.00"), monthly=True),
    Product("Private office (4 desks)", Decimal("1"), Decimal("1450.00"), monthly=True),
    Product("Meeting room booking (hours)", Decimal("3"), Decimal("35.00")),
    Product("Meeting room booking (hours)", Decimal("1.5"), Decimal("42.50")),
    Product("Day pass", Decimal("5"), Decimal("25.00")),
    Product("Day pass", Decimal("1"), Decimal("29.00")),
    Product("Locker rental", Decimal("1"), Decimal("15.00"), monthly=True),
    Product("Printing credits", Decimal("200"), Decimal("0.07"), kind=SupplyKind.GENERAL_SERVICE),
]
# Reduced rates where a location has one (several rates on one invoice).
REDUCED_RATES = {"NL": Decimal("9.00"), "FR": Decimal("10.00"), "GB": Decimal("5.00")}
REDUCED = Product(
    "Coffee and lunch (catering)",
    Decimal("4"),
    Decimal("12.50"),
    kind=SupplyKind.ON_SITE_GOODS,
    rated="reduced",
)
ZERO_RATED = Product(
    "Printed member handbooks",
    Decimal("10"),
    Decimal("8.00"),
    kind=SupplyKind.ON_SITE_GOODS,
    rated="zero",
)  # zero-rated printed matter (UK)
EXEMPT = Product(
    "Office letting, unfurnished (annex)",
    Decimal("1"),
    Decimal("900.00"),
    kind=SupplyKind.EXEMPT_LETTING,
    monthly=True,
)
REVERSE_CHARGE = Product(
    "Event organisation and hosting services",
    Decimal("1"),
    Decimal("2400.00"),
    kind=SupplyKind.GENERAL_SERVICE,
)  # reverse charge to businesses in other EU countries, by the rules
PRICE_LIST = [*PRODUCTS, REDUCED, ZERO_RATED, EXEMPT, REVERSE_CHARGE]
# Businesses in other EU countries, billed for services under the reverse charge.
EU_BUSINESSES = [
    ("Müller Consulting GmbH", "DE", "Friedrichstraße 68", "10117", "Berlin"),
    ("Brasserie Lambic SRL", "BE", "Rue Neuve 12", "1000", "Bruxelles"),
    ("Atelier Rivoli SAS", "FR", "45 rue de Rivoli", "75001", "Paris"),
    ("Grachten Media B.V.", "NL", "Prinsengracht 263", "1016 GV", "Amsterdam"),
]
USD_SHARE = 0.4  # of the invoices to Amsterdam's companies
DOCUMENT_ALLOWANCE_EVERY = 40  # one invoice in twenty has a discount on the whole invoice
# The locations' accounts by country: (currency, IBAN, BIC), the banks' published examples.
DEMO_BANK_ACCOUNTS = {
    "NL": [("EUR", "NL91ABNA0417164300", "ABNANL2A"), ("USD", "NL64ABNA0417164301", "ABNANL2A")],
    "GB": [("GBP", "GB29NWBK60161331926819", "NWBKGB2L")],
    "FR": [("EUR", "FR1420041010050500013M02606", "PSSTFRPPPAR")],
    "BE": [("EUR", "BE71096123456769", "GKCCBEBB")],
    "DE": [("EUR", "DE89370400440532013000", "COBADEFFXXX")],
}
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
STREETS = {
    "NL": ("Keizersgracht", "1015 CJ", "Amsterdam"),
    "GB": ("Old Street", "EC1V 9HX", "London"),
    "FR": ("rue Oberkampf", "75011", "Paris"),
}
VAT_ID_SHAPES = {  # prefix, number of random digits, suffix
    "NL": ("NL", 9, "B01"),
    "GB": ("GB", 9, ""),
    "DE": ("DE", 9, ""),
    "BE": ("BE0", 9, ""),
    "FR": ("FR", 11, ""),
}


def valid_vat_id(country: str, rng: random.Random) -> str:
    """A VAT id with valid check digits (python-stdnum), drawn at random."""
    prefix, digits, suffix = VAT_ID_SHAPES[country]
    module = get_cc_module(country.lower(), "vat")
    while True:
        candidate = f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}{suffix}"
        if module.is_valid(candidate):
            return candidate


def registration_id(country: str, vat_id: str) -> str:
    """A company register number that fits the VAT id: the SIREN inside a French one, the
    enterprise number a Belgian one is; a KvK, Handelsregister or company number made of
    its digits elsewhere."""
    digits = vat_id[2:]
    if country == "FR":
        return digits[2:]
    if country == "BE":
        return digits
    if country == "DE":
        return f"Berlin (Charlottenburg) HRB {digits[:5]}"
    return digits[:8]  # NL: KvK; GB: Companies House


def month_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = day.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return start, end


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


ELECTRONIC_ADDRESS_SCHEMES = {"NL": "9944", "BE": "9925", "DE": "9930", "FR": "9957", "GB": "9932"}
