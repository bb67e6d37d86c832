"""PDF downloads through the API: only the owner (or staff) gets the bytes."""

import hashlib

import pytest
from django.core.files.base import ContentFile

from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.documents import INVOICE_DOCUMENT
from tests.factories import draft_invoice, issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PDF = b"%PDF-1.7\n% a stand-in document stored like a rendered one\n%%EOF\n"


@pytest.fixture
def note():
    member = portal_member()
    return invoice_cancel(invoice=issued_invoice(customer=member), actor=None, channel="system")


@pytest.fixture
def ready_note(note):
    """The credit note with a stored PDF, as the renderer leaves it."""
    note.pdf_file.save(f"test-{note.number}.pdf", ContentFile(PDF), save=False)
    CreditNote.objects.filter(pk=note.pk).update(
        pdf_status=CreditNote.PdfStatus.READY,
        pdf_file=note.pdf_file.name,
        pdf_sha256=hashlib.sha256(PDF).hexdigest(),
        pdf_size=len(PDF),
    )
    yield note
    note.pdf_file.storage.delete(note.pdf_file.name)


def pdf_url(note) -> str:
    return f"/api/v1/credit-notes/{note.pk}/pdf"


def test_owner_downloads_the_credit_note_pdf(api_client, ready_note):
    response = api_client(ready_note.customer.portal_user).get(pdf_url(ready_note))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{ready_note.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF


def test_accept_pdf_is_negotiated(api_client, ready_note):
    client = api_client(ready_note.customer.portal_user)
    response = client.get(pdf_url(ready_note), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF


def test_pending_pdf_is_409_not_ready(api_client, note):
    response = api_client(note.customer.portal_user).get(
        pdf_url(note), HTTP_ACCEPT="application/pdf"
    )
    assert_problem(response, 409, "pdf_not_ready")


def test_other_member_gets_404_and_anonymous_401(api_client, ready_note):
    other = portal_member(location=ready_note.location)
    assert_problem(api_client(other.portal_user).get(pdf_url(ready_note)), 404)
    assert_problem(api_client(None).get(pdf_url(ready_note)), 401)


def test_staff_downloads_any_credit_note_pdf(api_client, ready_note):
    response = api_client(staff_user(cancel=False)).get(pdf_url(ready_note))
    assert response.status_code == 200
    assert f'filename="{ready_note.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF  # the stored document, byte for byte


# --- invoice PDF (rendered once after issue, stored, served from storage) --------------------


def invoice_pdf_url(invoice) -> str:
    return f"/api/v1/invoices/{invoice.pk}/pdf"


def test_owner_downloads_the_stored_invoice_pdf(api_client):
    invoice = INVOICE_DOCUMENT.render_pdf(document=issued_invoice(customer=portal_member()))
    response = api_client(invoice.customer.portal_user).get(invoice_pdf_url(invoice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == invoice.pdf_sha256


def test_invoice_pdf_not_rendered_yet_is_409_not_ready(api_client):
    invoice = issued_invoice(customer=portal_member())  # the render is queued after commit
    response = api_client(invoice.customer.portal_user).get(invoice_pdf_url(invoice))
    assert_problem(response, 409, "pdf_not_ready")


def test_invoice_pdf_other_member_404_anonymous_401(api_client):
    invoice = issued_invoice(customer=portal_member())
    other = portal_member(location=invoice.location)
    assert_problem(api_client(other.portal_user).get(invoice_pdf_url(invoice)), 404)
    assert_problem(api_client(None).get(invoice_pdf_url(invoice)), 401)


def test_draft_has_no_pdf(api_client):
    draft = draft_invoice()
    response = api_client(staff_user()).get(invoice_pdf_url(draft))
    assert_problem(response, 409, "invoice_is_draft")
