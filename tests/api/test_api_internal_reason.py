"""The free-text reason staff record when they credit or cancel is internal: a member reading
their credit notes and invoices through the API sees the reason code and its label, never
that text; staff see both."""

from decimal import Decimal

import pytest

from credits.models import ReasonCode
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.models import Channel
from tests.factories import issued_invoice, portal_member, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

INTERNAL = "Demo: booking cancelled, customer was rude on the phone"


@pytest.fixture
def member():
    return portal_member()


@pytest.fixture
def cancelled(member):
    invoice = issued_invoice(customer=member)
    return invoice, invoice_cancel(
        invoice=invoice, actor=None, reason=INTERNAL, channel=Channel.CLI
    )


@pytest.fixture
def partial(member):
    invoice = issued_invoice(customer=member)
    note = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=invoice.lines.get(position=1).pk, quantity=Decimal("1"))],
        reason=INTERNAL,
        reason_code=ReasonCode.SERVICE_NOT_USED,
        actor=None,
        channel=Channel.CLI,
    )
    return invoice, note


def test_a_member_reads_the_reason_codes_label_not_the_internal_reason(api_client, member, partial):
    _invoice, note = partial
    client = api_client(member.portal_user)

    for url in (f"/api/v1/credit-notes/{note.pk}", "/api/v1/credit-notes"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert INTERNAL not in response.content.decode()
    body = client.get(f"/api/v1/credit-notes/{note.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["reason"] is None
    assert (body["reason_code"], body["reason_label"]) == ("service_not_used", "Service not used")


def test_a_member_reads_why_their_invoice_was_cancelled_without_the_internal_reason(
    api_client, member, cancelled
):
    invoice, note = cancelled
    client = api_client(member.portal_user)

    response = client.get(f"/api/v1/invoices/{invoice.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert INTERNAL not in response.content.decode()
    cancellation = response.json()["cancellation"]
    assert cancellation["reason"] is None
    assert cancellation["reason_code"] == note.reason_code
    assert cancellation["reason_label"] == str(ReasonCode(note.reason_code).label)
    assert INTERNAL not in client.get("/api/v1/invoices").content.decode()


def test_staff_read_the_internal_reason_and_the_label(api_client, cancelled, partial):
    client = api_client(staff_user())
    invoice, cancel_note = cancelled
    _other, note = partial

    body = client.get(f"/api/v1/credit-notes/{note.pk}", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["reason"] == INTERNAL
    assert (body["reason_code"], body["reason_label"]) == (
        "service_not_used",
        "Service non utilisé",
    )

    cancellation = client.get(f"/api/v1/invoices/{invoice.pk}").json()["cancellation"]
    assert cancellation["reason"] == INTERNAL
    assert cancellation["reason_code"] == cancel_note.reason_code


def test_the_schema_documents_the_reason_as_internal_whoever_reads_it(api_client, member):
    client = api_client(member.portal_user)
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    properties = schema["components"]["schemas"]["CreditNote"]["properties"]
    assert "null unless you are staff" in properties["reason"]["description"]
    assert properties["reason"]["nullable"] is True
    assert "reason_label" in properties
