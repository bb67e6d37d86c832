"""The API shows each invoice line's discount, read-only."""

import pytest

from tests.factories import issued_invoice, line, portal_member

pytestmark = pytest.mark.django_db


def test_an_invoice_line_shows_its_discount(api_client):
    member = portal_member()
    invoice = issued_invoice(
        customer=member,
        specs=[line("Desk", "1", "320.00", "21", allowance_percent="25", allowance_code="100")],
    )
    body = api_client(member.portal_user).get(f"/api/v1/invoices/{invoice.pk}").json()

    assert (
        body["lines"][0].items()
        >= {
            "net": "240.00",
            "allowance": "80.00",
            "allowance_percent": "25.00",
            "allowance_reason": "Special rebate",
            "allowance_reason_code": "100",
        }.items()
    )
