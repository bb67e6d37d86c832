"""Names, addresses, identifiers and references reach e-mail headers and printed documents:
a line break (or another control character) in them broke every e-mail of the location
(``BadHeaderError``) and was frozen into its documents. They are refused, with a clear error
and nothing changed, by the model, the admin, the API and the database itself."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from djmoney.money import Money

from coworking.models import Customer, Location
from coworking.text import is_single_line
from credits.errors import InvalidCreditNote
from credits.models import CreditNote
from credits.services import AmountCredit, credit_note_issue
from invoicing.models import Channel
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    UserFactory,
    issued_invoice,
    staff_user,
)
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

BROKEN = [
    "Canal House B.V.\r\nBcc: everyone@example.com",
    "Canal House\nB.V.",
    "Canal House\tB.V.",
    "Canal House\x0bB.V.",
    "Canal House\x85B.V.",
    "Canal House\u2028B.V.",
]


@pytest.mark.parametrize("text", BROKEN)
def test_a_control_character_is_not_one_line(text):
    assert not is_single_line(text)
    assert is_single_line("Canal House Coworking B.V. · Keizersgracht 1 – Amsterdam (NL) €")


@pytest.mark.parametrize("text", BROKEN)
def test_the_model_refuses_a_legal_name_on_two_lines(text):
    location = LocationFactory()
    location.legal_name = text
    with pytest.raises(ValidationError) as refused:
        location.full_clean()
    assert "legal_name" in refused.value.error_dict

    customer = CustomerFactory(location=location)
    customer.billing_name, customer.city = text, text
    with pytest.raises(ValidationError) as refused:
        customer.full_clean()
    assert {"billing_name", "city"} <= set(refused.value.error_dict)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("coworking_location", "legal_name"),
        ("coworking_location", "name"),
        ("coworking_location", "street_line1"),
        ("coworking_customer", "billing_name"),
        ("coworking_customer", "billing_email"),
        ("coworking_customer", "buyer_reference"),
    ],
)
def test_the_database_refuses_a_line_break_whoever_writes_it(table, column):
    customer = CustomerFactory()
    pk = customer.location_id if table == "coworking_location" else customer.pk
    for text in ("Canal House\r\nBcc: x@example.com", "a\tb"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [text, pk])
    assert not Location.objects.filter(legal_name__contains="\n").exists()
    assert not Customer.objects.filter(billing_name__contains="\n").exists()


def location_form_data(client, location, **changes):
    """The location's admin form as the page shows it (with its inlines' management forms:
    the bank accounts), with ``changes``."""
    page = client.get(reverse("admin:coworking_location_change", args=[location.pk]))
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update(
            {management.add_prefix(name): management[name].value() for name in management.fields}
        )
    data.update(changes)
    return data


def test_the_admin_shows_an_error_and_changes_nothing(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    location = LocationFactory(legal_name="Canal House Coworking B.V.", tax_id="NL004495445B01")
    url = reverse("admin:coworking_location_change", args=[location.pk])

    data = location_form_data(client, location, legal_name="Canal House\r\nBcc: x@example.com")
    page = client.post(url, data)

    assert page.status_code == 200
    assert "legal_name" in page.context["adminform"].form.errors
    assert "no line breaks" in page.content.decode()
    location.refresh_from_db()
    assert location.legal_name == "Canal House Coworking B.V."

    page = client.post(url, location_form_data(client, location, city="Amsterdam"))
    assert page.status_code == 302, page.context["adminform"].form.errors  # saves without it


def test_a_credited_amounts_description_is_one_line_in_the_api_and_the_service(api_client):
    invoice = issued_invoice(customer=CustomerFactory())
    client = api_client(staff_user(credit=True))
    rate = str(invoice.lines.first().tax_rate)

    response = client.post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes",
        {"amount": {"value": "5.00", "tax_rate": rate, "description": "Goodwill\r\nBcc: x"}},
        format="json",
    )
    assert_problem(response, 422)
    assert "description" in response.content.decode()

    with pytest.raises(InvalidCreditNote):
        credit_note_issue(
            invoice=invoice,
            amount=AmountCredit(Money("5.00", "EUR"), Decimal(rate), "Goodwill\nBcc: x"),
            actor=None,
            channel=Channel.CLI,
        )
    assert not CreditNote.objects.exists()


def test_the_schema_states_the_rule_as_a_pattern_valid_texts_match(api_client):
    schema = api_client(staff_user()).get("/api/v1/schema/", {"format": "json"}).json()
    description = schema["components"]["schemas"]["AmountCreditRequest"]["properties"][
        "description"
    ]
    patterns = {
        choice["pattern"]
        for choice in description.get("oneOf", [description])
        if "pattern" in choice
    }
    assert len(patterns) == 1  # an inverse match would have been stated as a required match
    python = re.compile(patterns.pop().replace("$", r"\Z"))
    assert python.search("Goodwill: one desk-day (€ 50)")
    assert not python.search("Goodwill\r\nBcc: x")
