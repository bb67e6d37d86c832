"""The admin's "Issue credit note" workflow (``credits.admin.issue_credit_note``), through Django's test
client: the button, the form, the confirmation (nothing written), issuing, bad input (form
errors, nothing written), the excess allocation, permissions, and the preview PDF."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from coworking.models import LedgerEntry
from credits.models import CreditNote, Refund
from credits.services import LineCredit, credit_note_issue
from invoicing.models import Invoice
from invoicing.services import payment_record
from tests.conftest import hidden_inputs, money_amounts, pdf_text
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

SPECS = (("Day pass", "5", "20.00", "21"), ("Meeting room (hours)", "3", "35.00", "9"))


def eur(value):
    return Money(Decimal(value), "EUR")


def form_url(invoice):
    return reverse("admin:invoicing_invoice_issue_credit_note", args=[invoice.pk])


def preview_url(invoice):
    return reverse("admin:invoicing_invoice_credit_note_preview", args=[invoice.pk])


@pytest.fixture
def staff(client):
    user = staff_user(cancel=True, credit=True)
    client.force_login(user)
    return user


@pytest.fixture
def invoice():
    location = LocationFactory(invoice_prefix="AMS", credit_note_prefix="AMSC")
    return issued_invoice(customer=CustomerFactory(location=location), specs=SPECS)


def form_data(invoice, quantities=(), **fields):
    """The form as posted: one row per invoice line, ``quantities`` by position."""
    lines = list(invoice.lines.order_by("position"))
    data = {
        "form-TOTAL_FORMS": str(len(lines)),
        "form-INITIAL_FORMS": str(len(lines)),
        "reason_code": "service_not_used",
        "reason": "Desk booked twice (internal)",
        "excess": "account_credit",
        "amount": "",
        "tax_rate": "",
        "description": "",
    }
    quantities = dict(quantities)
    for index, line in enumerate(lines):
        data[f"form-{index}-invoice_line"] = str(line.pk)
        data[f"form-{index}-quantity"] = quantities.get(line.position, "")
    data.update(fields)
    return data


def confirmed(client, invoice, data):
    """``data`` as Continue posts it: with the figures its confirmation page carries."""
    page = client.post(form_url(invoice), data)
    return {**data, "post": "yes", "confirmation": page.context["confirmation"]}


def test_the_invoice_page_offers_the_button_to_staff_who_may_credit(client, staff, invoice):
    page = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert form_url(invoice).encode() in page.content

    client.force_login(staff_user(cancel=True, credit=False))
    page = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert form_url(invoice).encode() not in page.content
    assert client.get(form_url(invoice)).status_code == 403
    assert client.post(form_url(invoice), form_data(invoice, {1: "2"})).status_code == 403
    assert client.get(preview_url(invoice) + "?form-TOTAL_FORMS=0").status_code == 403
    assert not CreditNote.objects.exists()


def test_the_form_lists_each_line_with_what_it_has_left(client, staff, invoice):
    page = client.get(form_url(invoice))
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [(line.description, line.remaining_quantity) for _, line in rows] == [
        ("Day pass", Decimal("5")),
        ("Meeting room (hours)", Decimal("3")),
    ]
    assert [choice for choice, _ in page.context["form"].fields["tax_rate"].choices] == [
        "9.00",
        "21.00",
    ]


def test_continue_shows_the_note_then_continue_issues_it(client, staff, invoice):
    confirmation = client.post(form_url(invoice), form_data(invoice, {1: "2"}))
    assert confirmation.status_code == 200
    preview = confirmation.context["preview"]
    assert preview is not None and not CreditNote.objects.exists()
    assert preview.credit_note.total == eur("-48.40")
    assert preview.rates == [(Decimal("21.00"), eur("40.00"), eur("8.40"))]
    assert preview.credit_note.amount_off_due == eur("48.40")
    assert b'id="preview-total"' in confirmation.content
    assert b"credit-note-preview-link" in confirmation.content

    # The confirmation carries the form's values; posting it with post=yes issues.
    data = confirmed(client, invoice, form_data(invoice, {1: "2"}))
    issued = client.post(form_url(invoice), data)
    assert issued.status_code == 302
    assert issued.url == reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    note = CreditNote.objects.get()
    assert note.total == eur("-48.40")
    assert note.reason_code == "service_not_used"
    assert note.channel == "admin" and note.created_by == staff
    assert [(line.quantity, line.net) for line in note.lines.all()] == [
        (Decimal("-2.000"), eur("-40.00"))
    ]
    invoice.refresh_from_db()
    assert invoice.amount_credited == eur("48.40") and invoice.state == Invoice.State.ISSUED

    page = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert note.number.encode() in page.content
    assert page.context["creditable"] == invoice.total - eur("48.40")


def test_an_amount_line_at_one_of_the_invoice_rates(client, staff, invoice):
    data = form_data(invoice, amount="10.00", tax_rate="9.00", description="Goodwill")
    confirmation = client.post(form_url(invoice), data)
    lines = confirmation.context["preview"].lines
    assert [(line.description, line.net, line.tax) for line in lines] == [
        ("Goodwill", eur("-10.00"), eur("-0.90"))
    ]
    client.post(form_url(invoice), confirmed(client, invoice, data))
    assert CreditNote.objects.get().total == eur("-10.90")


@pytest.mark.parametrize(
    ("quantities", "fields", "error"),
    [
        ({}, {}, "Choose at least one line to credit, or an amount."),
        ({1: "6"}, {}, "has 5 left to credit, not 6"),
        ({1: "-1"}, {}, "greater than or equal to 0"),
        ({1: "abc"}, {}, "Enter a number."),
        ({}, {"amount": "10.00"}, "Choose the tax rate of the amount."),
        ({}, {"amount": "10.00", "tax_rate": "7.00"}, "Select a valid choice."),
        ({}, {"amount": "9999.00", "tax_rate": "9.00"}, "net is left to credit"),
        ({1: "1"}, {"reason_code": "nonsense"}, "Select a valid choice."),
    ],
)
def test_bad_input_comes_back_as_errors_and_writes_nothing(
    client, staff, invoice, quantities, fields, error
):
    for extra in ({}, {"post": "yes"}):
        page = client.post(form_url(invoice), {**form_data(invoice, quantities, **fields), **extra})
        assert page.status_code == 200
        assert page.context["preview"] is None
        assert error in page.content.decode()
    assert not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_credited == eur("0")


def test_a_line_of_another_invoice_is_refused(client, staff, invoice):
    other = issued_invoice(customer=invoice.customer, specs=SPECS)
    data = form_data(invoice, {1: "1"})
    data["form-0-invoice_line"] = str(other.lines.get(position=1).pk)
    page = client.post(form_url(invoice), {**data, "post": "yes"})
    assert "is not a line of invoice" in page.content.decode()
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize(
    ("excess", "account_credit", "refund", "settled"),
    [
        ("account_credit", "48.40", "0", "0"),
        ("refund", "0", "48.40", "0"),
        ("settled_outside", "0", "0", "48.40"),
    ],
)
def test_on_a_paid_invoice_the_excess_goes_where_staff_chose(
    client, staff, excess, account_credit, refund, settled
):
    invoice = issued_invoice(specs=SPECS, paid="all")
    data = form_data(invoice, {1: "2"}, excess=excess)
    note = client.post(form_url(invoice), data).context["preview"].credit_note
    assert (note.amount_off_due, note.account_credit_amount) == (eur("0"), eur(account_credit))
    assert (note.refund_amount, note.settled_outside_amount) == (eur(refund), eur(settled))

    client.post(form_url(invoice), confirmed(client, invoice, data))
    note = CreditNote.objects.get()
    assert note.account_credit_amount == eur(account_credit)
    assert note.refund_amount == eur(refund) and note.settled_outside_amount == eur(settled)
    assert Refund.objects.filter(credit_note=note).count() == (excess != "account_credit")
    assert LedgerEntry.objects.filter(credit_note=note).get().amount == eur("-48.40")


def test_crediting_everything_left_cancels_and_the_button_goes(client, staff, invoice):
    data = form_data(invoice, {1: "5", 2: "3"})
    confirmation = client.post(form_url(invoice), data)
    assert b'id="cancels-warning"' in confirmation.content
    client.post(form_url(invoice), confirmed(client, invoice, data))
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    page = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert form_url(invoice).encode() not in page.content
    again = client.get(form_url(invoice))
    assert again.status_code == 302
    assert CreditNote.objects.count() == 1


def test_the_preview_pdf_is_marked_and_writes_nothing(client, staff, invoice):
    query = client.post(form_url(invoice), form_data(invoice, {1: "2"})).context["preview_pdf_url"]
    response = client.get(query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "PREVIEW – not issued" in text
    assert "Day pass" in text and "Meeting room" not in text
    cancel = client.get(preview_url(invoice) + "?cancel=1")
    assert cancel.status_code == 200
    assert "Meeting room" in pdf_text(cancel.content)
    assert not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_credited == eur("0") and invoice.state == Invoice.State.ISSUED


def test_a_bad_preview_query_is_a_message_not_a_500(client, staff, invoice):
    response = client.get(preview_url(invoice) + "?form-TOTAL_FORMS=1&form-0-quantity=x")
    assert response.status_code == 302
    response = client.get(preview_url(invoice) + "?form-TOTAL_FORMS=0", follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert messages and not CreditNote.objects.exists()


# --- the Cancel invoice confirmation after a partial credit note -------------------------------


def test_cancel_confirmations_show_the_remainder_after_a_partial_note(client, staff, invoice):
    day_pass = invoice.lines.get(position=1)
    credit_note_issue(
        invoice=invoice, lines=[LineCredit(invoice_line=day_pass.pk, quantity=Decimal("2"))],
        actor=None, channel="cli",
    )  # fmt: skip
    payment_record(invoice=Invoice.objects.get(pk=invoice.pk), amount=eur("100.00"))
    invoice.refresh_from_db()
    assert invoice.total == eur("235.45") and invoice.amount_due == eur("87.05")

    row_page = client.get(reverse("admin:invoicing_invoice_cancel", args=[invoice.pk]))
    bulk_page = client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "cancel_selected", "index": "0", "_selected_action": [str(invoice.pk)]},
    )
    for page in (row_page, bulk_page):
        html = page.content.decode()
        row = html[html.index(f'data-invoice="{invoice.pk}"') :]
        assert money_amounts(row)[:6] == [
            ("EUR", "€235.45"),  # total
            ("EUR", "€48.40"),  # already credited
            ("EUR", "€187.05"),  # to credit: the remainder
            ("EUR", "€100.00"),  # paid so far
            ("EUR", "€100.00"),  # of which becomes account credit
            ("EUR", "€87.05"),  # due
        ]
        assert money_amounts(html[html.index('id="totals"') :])[0] == ("EUR", "€187.05")
        warning = html[html.index('id="paid-warning"') :]
        assert money_amounts(warning)[:2] == [("EUR", "€100.00"), ("EUR", "€100.00")]
        preview_link = f"/admin/invoicing/invoice/{invoice.pk}/credit-note-preview/?cancel=1"
        assert preview_link in html

    preview = client.get(
        reverse("admin:invoicing_invoice_credit_note_preview", args=[invoice.pk]) + "?cancel=1"
    )
    text = pdf_text(preview.content)
    assert "PREVIEW – not issued" in text and "187.05" in text
    assert CreditNote.objects.count() == 1

    cancel_url = reverse("admin:invoicing_invoice_cancel", args=[invoice.pk])
    client.post(cancel_url, hidden_inputs(client.get(cancel_url).content.decode()))
    note = CreditNote.objects.get(cancels_invoice=True)
    assert note.total == eur("-187.05")
    assert (note.amount_off_due, note.account_credit_amount) == (eur("87.05"), eur("100.00"))


@pytest.mark.reconciled
def test_a_double_submit_of_the_confirmation_issues_one_note(client, staff, invoice):
    data = confirmed(client, invoice, form_data(invoice, {1: "2"}))
    assert client.post(form_url(invoice), data).status_code == 302
    again = client.post(form_url(invoice), data)
    assert again.status_code == 200
    messages = " ".join(str(m) for m in again.context["messages"])
    assert "changed since this confirmation was shown" in messages
    assert "credited before €0.00 → €48.40" in messages
    assert again.context["preview"] is not None  # the note as it would be now, to confirm
    assert CreditNote.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_credited == eur("48.40")


@pytest.mark.parametrize("confirmation", [None, "", "abc", "e30:forged:signature"])
def test_issuing_without_the_confirmations_figures_is_refused(client, staff, invoice, confirmation):
    data = confirmed(client, invoice, form_data(invoice, {1: "2"}))
    if confirmation is None:
        del data["confirmation"]
    else:
        data["confirmation"] = confirmation
    page = client.post(form_url(invoice), data)
    assert "This confirmation page is out of date" in page.content.decode()
    assert page.context["preview"] is not None
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize("total_forms", ["0", "1", "9", None])  # the invoice has 2 lines
def test_a_form_posted_for_other_lines_than_the_invoice_has_is_a_message_not_a_500(
    client, staff, invoice, total_forms
):
    data = form_data(invoice, {1: "1"})
    if total_forms is None:
        del data["form-TOTAL_FORMS"]
    else:
        data["form-TOTAL_FORMS"] = total_forms

    response = client.post(form_url(invoice), data)

    assert response.status_code == 200
    assert "did not match the lines" in response.content.decode()
    assert not invoice.credit_notes.exists()
