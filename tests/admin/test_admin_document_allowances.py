"""Staff add a discount on the whole invoice in the draft's form (an inline saved with the
lines by the same service); a row that does not fit is an admin message with nothing
changed, and an issued invoice shows its rows read-only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing.document_allowances import AllowanceChargeInput
from tests.factories import draft_invoice, issued_invoice, staff_user

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """What the change form posts back as it was rendered (main form and every inline)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += list(formset.forms)
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            widget = form.fields[name].widget
            if hasattr(widget, "widgets"):  # a Money field: amount and currency
                parts = widget.decompress(value) if not isinstance(value, list) else value
                for index, part in enumerate(parts):
                    data[f"{form.add_prefix(name)}_{index}"] = "" if part is None else part
            elif value is not None and value is not False:
                data[form.add_prefix(name)] = value
    return data


def with_row(data: dict, **row) -> dict:
    prefix = "allowance_charges"
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in row.items():
        data[f"{prefix}-{index}-{name}"] = value
    return data


@pytest.fixture
def staff_client(client):
    client.force_login(staff_user(is_superuser=True))
    return client


def change(invoice):
    return reverse("admin:invoicing_invoice_change", args=[invoice.pk])


def test_staff_add_a_discount_to_a_draft(staff_client):
    invoice = draft_invoice(specs=[("Desk", "2", "150.00", "21")])
    data = form_data(staff_client.get(change(invoice)))

    response = staff_client.post(
        change(invoice),
        with_row(
            data,
            kind="allowance",
            amount_0="",
            amount_1="EUR",
            percent="20",
            reason="Start-up offer",
            reason_code="95",
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    invoice.refresh_from_db()
    row = invoice.allowance_charges.get()
    assert (row.amount.amount, row.reason, row.tax_rate) == (
        Decimal("60.00"),
        "Start-up offer",
        Decimal("21.00"),
    )
    assert invoice.net_total.amount == Decimal("240.00")


def test_a_row_that_does_not_fit_is_a_message_and_changes_nothing(staff_client):
    invoice = draft_invoice(specs=[("Desk", "2", "150.00", "21")])
    data = form_data(staff_client.get(change(invoice)))

    response = staff_client.post(
        change(invoice),
        with_row(data, kind="allowance", amount_0="400.00", amount_1="EUR", reason="Too much"),
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert any("exceeds the amount it reduces" in message for message in messages), messages
    invoice.refresh_from_db()
    assert not invoice.allowance_charges.exists()
    assert invoice.net_total.amount == Decimal("300.00")


def test_an_issued_invoice_shows_its_rows_read_only(staff_client):
    invoice = issued_invoice(
        specs=[("Desk", "1", "100.00", "21")],
        allowance_charges=[AllowanceChargeInput(amount=Decimal("5.00"), reason="Loyalty")],
    )

    html = staff_client.get(change(invoice)).content.decode()

    assert "Loyalty" in html and 'name="allowance_charges-0-reason"' not in html
