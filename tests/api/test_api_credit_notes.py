"""POST /api/v1/invoices/{id}/credit-notes: who may, what it returns, bad input, idempotency;
GET /api/v1/invoices/{id} shows what was credited."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from coworking.models import LedgerEntry
from credits.api.serializers import CreditNoteDetailSerializer
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

SPECS = (("Day pass", "5", "25.00", "21"), ("Desk", "1", "300.00", "9"))


def url(invoice) -> str:
    return f"/api/v1/invoices/{invoice.pk}/credit-notes"


def post(client, invoice, body, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url(invoice), body, format="json", **extra)


@pytest.fixture
def invoice():
    return issued_invoice(customer=portal_member(), specs=SPECS)


@pytest.fixture
def staff(api_client):
    return api_client(staff_user(credit=True))


def passes(invoice):
    return invoice.lines.get(position=1).pk


def test_staff_credit_lines_and_an_amount_and_get_201_with_the_note(staff, invoice):
    body = {
        "lines": [{"invoice_line": passes(invoice), "quantity": "2"}],
        "amount": {"value": "10.00", "tax_rate": "9", "description": "Goodwill"},
        "reason": "Two passes unused",
        "reason_code": "service_not_used",
    }
    response = post(staff, invoice, body)

    assert response.status_code == 201, response.content
    note = response.json()
    assert (note["reason_code"], note["cancels_invoice"]) == ("service_not_used", False)
    assert note["total"] == "-71.40"  # -(50.00 + 10.50) - (10.00 + 0.90)
    assert [(ln["invoice_line"], ln["quantity"]) for ln in note["lines"]] == [
        (passes(invoice), "-2.000"),
        (None, "-1.000"),
    ]
    assert response["Location"] == note["url"]
    assert CreditNote.objects.get().channel == Channel.API

    detail = staff.get(f"/api/v1/invoices/{invoice.pk}").json()
    assert detail["credited_total"] == "71.40"
    assert [n["number"] for n in detail["credit_notes"]] == [note["number"]]
    assert [line["id"] for line in detail["lines"]] == list(
        invoice.lines.order_by("position").values_list("pk", flat=True)
    )
    assert detail["amount_due"] == str(invoice.total.amount - Decimal("71.40"))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        # a quantity or amount that is not positive: refused by the schema (and the service)
        ({"lines": [{"invoice_line": "PASSES", "quantity": "0"}]}, 422, "invalid_input"),
        ({"lines": [{"invoice_line": "PASSES", "quantity": "-1"}]}, 422, "invalid_input"),
        ({"amount": {"value": "0", "tax_rate": "21"}}, 422, "invalid_input"),
        ({"lines": [{"invoice_line": "PASSES", "quantity": "6"}]}, 422, "credit_exceeds_line"),
        (
            {"lines": [{"invoice_line": "OTHER", "quantity": "1"}]},
            422,
            "credit_line_not_on_invoice",
        ),
        ({"amount": {"value": "5", "tax_rate": "20"}}, 422, "tax_rate_not_on_invoice"),
        ({"amount": {"value": "5000", "tax_rate": "21"}}, 422, "credit_exceeds_rate"),
        ({}, 422, "credit_note_invalid"),
        ({"lines": [], "colour": "red"}, 422, "invalid_input"),
        ({"amount": {"value": "5", "tax_rate": "21"}, "reason_code": "whim"}, 422, "invalid_input"),
    ],
)
def test_bad_requests_are_problems_and_write_nothing(staff, invoice, body, status, code):
    other = issued_invoice(specs=SPECS)
    ids = {"PASSES": passes(invoice), "OTHER": passes(other)}
    for line in body.get("lines", []):
        line["invoice_line"] = ids.get(line["invoice_line"], line["invoice_line"])
    entries = LedgerEntry.objects.count()

    response = post(staff, invoice, body)

    assert_problem(response, status, code)
    assert not CreditNote.objects.exists()
    assert LedgerEntry.objects.count() == entries


def test_a_cancelled_invoice_has_nothing_left_to_credit(staff, invoice):
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    response = post(staff, invoice, {"lines": [{"invoice_line": passes(invoice), "quantity": "1"}]})
    assert_problem(response, 409, "nothing_left_to_credit")
    assert CreditNote.objects.filter(invoice=invoice).count() == 1  # the cancel's, no other


def test_staff_without_the_permission_and_members_may_not(api_client, invoice):
    body = {"lines": [{"invoice_line": passes(invoice), "quantity": "1"}]}
    cancel_only = api_client(staff_user())
    assert_problem(post(cancel_only, invoice, body), 403, "credit_not_allowed")
    member = api_client(invoice.customer.portal_user)
    assert_problem(post(member, invoice, body), 403, "credit_not_allowed")
    stranger = api_client(portal_member().portal_user)
    assert post(stranger, invoice, body).status_code == 404
    assert not CreditNote.objects.exists()


def test_a_retry_with_the_same_idempotency_key_replays_the_first_note(staff, invoice):
    body = {"lines": [{"invoice_line": passes(invoice), "quantity": "1"}]}
    first = post(staff, invoice, body, key="credit-1")
    again = post(staff, invoice, body, key="credit-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert CreditNote.objects.count() == 1
    assert Invoice.objects.get(pk=invoice.pk).amount_credited.amount == Decimal("30.25")


def test_serializers_build_their_model_fields_once_and_bind_copies():
    """``coworking.api.serializing.ModelSerializer``: built once per class (and language),
    every instance binds fields of its own, so concurrent requests never share one."""
    first, second = CreditNoteDetailSerializer(), CreditNoteDetailSerializer()
    assert list(first.fields) == list(second.fields)
    for name in ("number", "total", "lines"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    with translation.override("fr"):
        assert str(CreditNoteDetailSerializer().fields["issue_date"].label) != str(
            first.fields["issue_date"].label
        )


@pytest.mark.parametrize("quantity", ["1E+0", "2e0", "0.1E1", "\u0662", "\uff11", "NaN", "1_0"])
def test_quantities_written_with_an_exponent_or_other_digits_are_refused(staff, invoice, quantity):
    """ "1E+2" credited a hundred units; "٢" (Arabic-Indic two) is a two to ``Decimal``."""
    response = post(
        staff, invoice, {"lines": [{"invoice_line": passes(invoice), "quantity": quantity}]}
    )

    assert_problem(response, 422, "invalid_input")
    assert not CreditNote.objects.exists()


def test_amounts_written_with_an_exponent_are_refused_too(staff, invoice):
    response = post(staff, invoice, {"amount": {"value": "5E+0", "tax_rate": "21"}})

    assert_problem(response, 422, "invalid_input")
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize("quantity", ["1E+2", "\u0662", "1e0"])
def test_the_admin_credit_form_refuses_exponents_and_other_digits(quantity):
    from credits.admin.issue_credit_note import CreditLineForm, CreditNoteForm

    form = CreditLineForm(data={"invoice_line": "1", "quantity": quantity})
    assert not form.is_valid() and "quantity" in form.errors
    assert CreditLineForm(data={"invoice_line": "1", "quantity": "2.5"}).is_valid()
    amount = CreditNoteForm.base_fields["amount"]
    with pytest.raises(ValidationError):
        amount.clean(quantity)


@pytest.mark.parametrize("key", ["", " "])
def test_an_empty_idempotency_key_is_a_422_not_no_key(staff, invoice, key):
    response = staff.post(
        url(invoice),
        {"lines": [{"invoice_line": passes(invoice), "quantity": "1"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert_problem(response, 422, "idempotency_key_invalid")
    assert not CreditNote.objects.exists()
