"""The API shows an invoice's and a credit note's document level discounts and charges
(read-only, in the OpenAPI schema), and refuses a partial credit of such an invoice with a
409 problem."""

from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.models import Channel
from tests.factories import issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

ROWS = [
    AllowanceChargeInput(percent=Decimal("10"), reason="Yearly contract", reason_code="102"),
    AllowanceChargeInput(kind="charge", amount=Decimal("12.00"), reason_code="CG"),
]


@pytest.fixture
def invoice():
    return issued_invoice(
        customer=portal_member(), specs=[("Desk", "1", "300.00", "21")], allowance_charges=ROWS
    )


def test_the_invoice_and_its_cancelling_note_show_them(api_client, invoice):
    member = api_client(invoice.customer.portal_user)

    body = member.get(f"/api/v1/invoices/{invoice.pk}").json()

    assert body["net_total"] == "282.00"
    assert [
        (row["kind"], row["amount"], row["base_amount"], row["reason"], row["reason_code"])
        for row in body["allowance_charges"]
    ] == [
        ("allowance", "30.00", "300.00", "Yearly contract", "102"),
        ("charge", "12.00", None, "Cleaning", "CG"),
    ]

    note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    body = member.get(f"/api/v1/credit-notes/{note.pk}").json()

    assert body["net_total"] == "-282.00"
    assert [row["amount"] for row in body["allowance_charges"]] == ["30.00", "12.00"]


def test_a_partial_credit_is_a_409_and_writes_nothing(api_client, invoice):
    staff = api_client(staff_user(credit=True))
    line = invoice.lines.get().pk

    response = staff.post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes",
        {"lines": [{"invoice_line": line, "quantity": "1"}]},
        format="json",
    )

    assert_problem(response, 409, "partial_credit_not_possible")
    assert not CreditNote.objects.exists()


def test_the_schema_describes_them():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    rows = schema["components"]["schemas"]["AllowanceCharge"]["properties"]
    assert {"kind", "amount", "base_amount", "percent", "vat_category", "reason_code"} <= set(rows)
