"""The Dutch default chart states each account's RGS reference code, and the XAF auditfile
writes it as the ledger account's ``leadReference``, still valid against the XSD."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money
from lxml import etree

from books.charts import NETHERLANDS, rgs_code
from books.exports import journal_export
from books.xaf import NAMESPACE, SCHEMA
from invoicing.services import payment_record
from tests.factories import CustomerFactory, issued_invoice, peppol_location

pytestmark = pytest.mark.django_db


def test_every_dutch_default_account_states_an_rgs_reference_code():
    codes = {code: rgs_code(label) for _purpose, _key, code, label in NETHERLANDS}
    assert all(codes.values()), codes
    assert all(len(label) <= 100 for *_rest, label in NETHERLANDS)
    assert (codes["1100"], codes["1000"], codes["1300"]) == (
        "BLimBanRba",
        "BLimKasKas",
        "BVorDebHad",
    )
    assert (codes["8000"], codes["1500"], codes["1510"]) == (
        "WOmzNodOdh",
        "BSchBepBtwOla",
        "BSchBepBtwOlt",
    )
    assert rgs_code("Bank") == "" and rgs_code("Bank (RGS bank)") == ""


def test_xaf_of_a_dutch_location_carries_the_rgs_codes_and_stays_valid():
    location = peppol_location("NL", invoice_prefix="AMS", credit_note_prefix="AMSC")
    customer = CustomerFactory(location=location, billing_name="Koffie & Co")
    invoice = issued_invoice(
        customer=customer,
        specs=[("Flex desk", "1", "200.00", "21"), ("Lunch", "2", "12.50", "9")],
        issue_date=datetime.date(2026, 3, 2),
    )
    payment_record(
        invoice=invoice,
        amount=Money(Decimal("50.00"), "EUR"),
        received_on=datetime.date(2026, 3, 5),
    )
    export = journal_export(
        location=location,
        format="xaf",
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
    )
    document = etree.fromstring(b"".join(export.chunks))
    etree.XMLSchema(etree.parse(str(SCHEMA))).assertValid(document)
    ns = {"x": NAMESPACE}
    references = {
        account.findtext("x:accID", namespaces=ns): account.findtext(
            "x:leadReference", namespaces=ns
        )
        for account in document.findall(".//x:ledgerAccount", ns)
    }
    assert references == {
        "8000": "WOmzNodOdh",
        "1500": "BSchBepBtwOla",
        "1510": "BSchBepBtwOlt",
        "1300": "BVorDebHad",
        "1100": "BLimBanRba",
    }
