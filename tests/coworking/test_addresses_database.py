"""Structured addresses on the models: the printed rendering, the admin-side checks, and the
migration that splits free text on existing rows (next to the one giving existing lines their
VAT category under the issued-document triggers). The splitting itself: tests/unit."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import CustomerFactory, LocationFactory, french_location


@pytest.mark.django_db
def test_the_printed_address_follows_the_countrys_format():
    location = LocationFactory()
    assert location.address == "Herengracht 100\n1015 BS AMSTERDAM\nNETHERLANDS"
    customer = CustomerFactory(
        street_line1="12 Rivington Street", postcode="EC2A 3DU", city="London", country="GB"
    )
    assert customer.billing_address == "12 Rivington Street\nLONDON\nEC2A 3DU\nUNITED KINGDOM"
    assert CustomerFactory(street_line1="", postcode="", city="", country="BE").billing_address == (
        "BELGIUM"
    )


@pytest.mark.django_db
def test_admin_checks_vat_ids_postcodes_and_french_legal_details():
    location = LocationFactory.build(tax_id="NL123456789B01", postcode="ABC")
    with pytest.raises(ValidationError) as error:
        location.clean()
    assert set(error.value.message_dict) == {"tax_id", "postcode"}

    french = french_location()
    french.clean()  # complete
    french.siret, french.share_capital = "12345678200003", None
    with pytest.raises(ValidationError) as error:
        french.clean()
    assert set(error.value.message_dict) == {"siret", "share_capital"}

    member = CustomerFactory.build(country="", street_line1="", postcode="", city="")
    with pytest.raises(ValidationError) as error:
        member.clean()
    assert set(error.value.message_dict) == {"country"}
    member.country = "DE"
    member.clean()  # a member's minimum address is its country
    company = CustomerFactory.build(kind="company", country="DE", street_line1="", city="")
    with pytest.raises(ValidationError) as error:
        company.clean()
    assert {"street_line1", "city"} <= set(error.value.message_dict)


BEFORE = [("coworking", "0003_idempotency_key"), ("invoicing", "0002_document_base"),
          ("credits", "0003_document_base")]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_migrations_split_existing_addresses_and_categorise_issued_lines():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Location, Customer = (
        old.get_model("coworking", "Location"),
        old.get_model("coworking", "Customer"),
    )
    Invoice, Line = old.get_model("invoicing", "Invoice"), old.get_model("invoicing", "InvoiceLine")
    location = Location.objects.create(
        name="Old", legal_name="Old B.V.", address="Herengracht 100\n1015 BS Amsterdam\nNetherlands",
        tax_id="NL004495445B01", default_currency="EUR", invoice_prefix="OLD",
        credit_note_prefix="OLDCN",
    )  # fmt: skip
    member = Customer.objects.create(
        location=location, billing_name="M", billing_email="m@example.com",
        billing_address="Rue Neuve 12\n1000 Bruxelles", tax_id="BE0403170701",
    )  # fmt: skip
    bare = Customer.objects.create(location=location, billing_name="B", billing_email="b@x.eu")
    money = {"net_total": 121, "tax_total": 21, "total": 142, "amount_paid": 0}
    invoice = Invoice.objects.create(
        location=location, customer=member, currency="EUR",
        **money, **{f"{k}_currency": "EUR" for k in money},
    )  # fmt: skip
    for position, rate, tax in ((1, 21, 21), (2, 0, 0)):
        Line.objects.create(
            invoice=invoice, position=position, description="x", quantity=1,
            unit_price=100 if rate else 21, unit_price_currency="EUR", tax_rate=rate,
            net=100 if rate else 21, net_currency="EUR", tax=tax, tax_currency="EUR",
        )  # fmt: skip
    Invoice.objects.filter(pk=invoice.pk).update(
        state="issued", sequence_number=1, number="OLD-2026-000001", issue_date="2026-03-01",
        due_date="2026-03-15", issued_at="2026-03-01T10:00:00Z",
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    new = executor.loader.project_state(latest).apps
    location = new.get_model("coworking", "Location").objects.get(pk=location.pk)
    assert (location.street_line1, location.postcode, location.city, str(location.country)) == (
        "Herengracht 100", "1015 BS", "Amsterdam", "NL",
    )  # fmt: skip
    assert location.vat_currency == "EUR"
    customers = new.get_model("coworking", "Customer").objects
    member = customers.get(pk=member.pk)
    assert (member.street_line1, member.postcode, member.city, str(member.country)) == (
        "Rue Neuve 12", "1000", "Bruxelles", "BE",
    )  # fmt: skip
    assert str(customers.get(pk=bare.pk).country) == "NL"  # its location's country
    lines = new.get_model("invoicing", "InvoiceLine").objects.filter(invoice_id=invoice.pk)
    assert dict(lines.values_list("position", "vat_category")) == {1: "S", 2: "Z"}
