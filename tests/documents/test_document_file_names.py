"""What staff download is recognisable: a statement is named after its customer (never the
internal id), safely for the header; a PDF's running footer stays on one line, also on an
unnumbered preview."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import pdf_text
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Canal House Coworking B.V.", "canal-house-coworking-bv"),
        ('Société "Générale"; Paris', "societe-generale-paris"),
        ("東京オフィス", None),  # nothing a file name can keep: the customer's id instead
    ],
)
def test_a_statement_is_named_after_its_customer(client, name, slug):
    customer = CustomerFactory(billing_name=name)
    issued_invoice(customer=customer)
    client.force_login(staff_user())
    today = timezone.localdate().isoformat()

    response = client.get(
        reverse("admin:coworking_customer_statement", args=[customer.pk]),
        {"start": "2026-01-01", "end": today},
    )

    assert response.status_code == 200
    expected = f"statement-{slug or f'customer-{customer.pk}'}-2026-01-01-{today}.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    if slug:
        assert f"statement-{customer.pk}-" not in response["Content-Disposition"]


def test_the_preview_pdfs_footer_stays_on_one_line(client):
    location = LocationFactory(
        legal_name="Canal House Coworking Amsterdam Centrum B.V.", language="nl"
    )
    invoice = issued_invoice(customer=CustomerFactory(location=location, language="nl"))
    client.force_login(staff_user(cancel=True, credit=True))

    response = client.get(
        reverse("admin:invoicing_invoice_credit_note_preview", args=[invoice.pk]) + "?cancel=1"
    )

    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "VOORBEELD – niet uitgereikt" in text and "PREVIEW" not in text  # in its language
    footer = [line for line in text.splitlines() if "·" in line]
    assert footer, "no footer"
    assert "Canal House Coworking Amsterdam Centrum B.V. · Creditnota" in footer[0]
    assert not footer[0].rstrip().endswith("Creditnota ")
