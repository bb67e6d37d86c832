"""Stored PDFs that go missing or get damaged: never a 500, a new render instead, and
``reconcile`` says which ones. Rendering is reproducible, so the new file has the bytes
the recorded SHA-256 promises."""

import datetime
import hashlib

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from coworking.documents.rendering import PdfRenderError
from coworking.documents.storage import document_render_pdf
from credits.documents import CREDIT_NOTE_DOCUMENT, credit_note_send_email
from credits.models import CreditNote
from credits.reconciliation import CHECKS
from credits.services import invoice_cancel
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.models import Invoice
from tests.conftest import wait_until
from tests.factories import CustomerFactory, issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = pytest.mark.usefixtures("fast_password_hasher")


def lose(document, private_documents, how: str) -> None:
    path = private_documents / document.pdf_file.name
    if how == "deleted":
        path.unlink()
    else:  # damaged: same name, other bytes
        path.write_bytes(path.read_bytes()[:-100] + b"%%EOF\n")


def rendered_note(**customer):
    customer = portal_member(**customer) if not customer else CustomerFactory(**customer)
    note = invoice_cancel(invoice=issued_invoice(customer=customer), actor=None, channel="system")
    return CREDIT_NOTE_DOCUMENT.render_pdf(document=note)


def api_url(document) -> str:
    kind = "invoices" if isinstance(document, Invoice) else "credit-notes"
    return f"/api/v1/{kind}/{document.pk}/pdf"


@pytest.mark.parametrize("how", ["deleted", "damaged"])
@pytest.mark.parametrize("kind", ["invoice", "credit note"])
def test_a_lost_file_is_a_503_problem_then_the_worker_renders_the_same_bytes_again(
    celery_worker, private_documents, api_client, kind, how
):
    if kind == "invoice":
        document = INVOICE_DOCUMENT.render_pdf(document=issued_invoice(customer=portal_member()))
    else:
        document = rendered_note()
    model, recorded = type(document), document.pdf_sha256
    client = api_client(document.customer.portal_user)
    lose(document, private_documents, how)

    body = assert_problem(client.get(api_url(document)), 503, "pdf_unavailable")

    assert "Try again in a minute" in body["detail"]
    # The worker renders it again (queued by the download) into the very same bytes.
    wait_until(lambda: model.objects.get(pk=document.pk).pdf_status == model.PdfStatus.READY)
    again = model.objects.get(pk=document.pk)
    assert (again.pdf_sha256, again.pdf_file.name, again.pdf_error) == (
        recorded,
        document.pdf_file.name,
        "",
    )
    response = client.get(api_url(document))
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == recorded


@pytest.mark.django_db
def test_a_lost_file_goes_back_to_pending_so_the_sweep_renders_it_without_the_queue(
    private_documents, api_client, settings
):
    """The download marks the document pending: even if its queued render never arrives
    (no worker here), the sweep renders it."""
    note = rendered_note()
    invoice = INVOICE_DOCUMENT.render_pdf(document=note.invoice)
    for document in (note, invoice):
        lose(document, private_documents, "deleted")
        assert_problem(api_client(staff_user()).get(api_url(document)), 503, "pdf_unavailable")
        document.refresh_from_db()
        assert document.pdf_status == document.PdfStatus.PENDING
        assert "missing or damaged" in document.pdf_error

    assert CREDIT_NOTE_DOCUMENT.render_missing(older_than=datetime.timedelta(0)).rendered == [
        note.number
    ]
    assert INVOICE_DOCUMENT.render_missing(older_than=datetime.timedelta(0)).rendered == [
        invoice.number
    ]
    for document in (note, invoice):
        recorded = document.pdf_sha256
        document.refresh_from_db()
        assert document.pdf_status == document.PdfStatus.READY
        path = private_documents / document.pdf_file.name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded == document.pdf_sha256


@pytest.mark.django_db
def test_the_admin_download_of_a_lost_file_says_so_instead_of_failing(client, private_documents):
    note = rendered_note()
    lose(note, private_documents, "deleted")
    client.force_login(staff_user(cancel=False))

    response = client.get(reverse("admin:credits_creditnote_pdf", args=[note.pk]), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(
        "admin:credits_creditnote_change", args=[note.pk]
    )
    assert "being rendered again" in response.content.decode()
    assert CreditNote.objects.get(pk=note.pk).pdf_status == CreditNote.PdfStatus.PENDING


@pytest.mark.django_db
def test_the_email_of_a_lost_file_waits_for_the_new_render(private_documents):
    note = rendered_note(location__email_documents=True)
    lose(note, private_documents, "damaged")

    assert credit_note_send_email(credit_note=note) is False

    assert mail.outbox == []
    assert CreditNote.objects.get(pk=note.pk).pdf_status == CreditNote.PdfStatus.PENDING
    CREDIT_NOTE_DOCUMENT.render_missing(older_than=datetime.timedelta(0))
    assert credit_note_send_email(credit_note=note) is True
    ((_name, content, _type),) = mail.outbox[0].attachments
    assert hashlib.sha256(content).hexdigest() == note.pdf_sha256


@pytest.mark.django_db
def test_reconcile_reports_missing_and_damaged_files(private_documents, capsys):
    missing, damaged = rendered_note(), rendered_note()
    invoice = INVOICE_DOCUMENT.render_pdf(document=damaged.invoice)
    call_command("reconcile")
    assert "ok    stored PDFs match their SHA-256" in capsys.readouterr().out

    lose(missing, private_documents, "deleted")
    lose(damaged, private_documents, "damaged")
    lose(invoice, private_documents, "damaged")
    with pytest.raises(CommandError, match=f"1 of {len(CHECKS)} invariants are broken"):
        call_command("reconcile")

    out = capsys.readouterr().out
    assert "FAIL  stored PDFs match their SHA-256 (3 breaches)" in out
    assert f"credit-note {missing.number} ({missing.pdf_file.name}) is missing from storage" in out
    assert (
        f"credit-note {damaged.number} ({damaged.pdf_file.name}) does not match its SHA-256" in out
    )
    assert f"invoice {invoice.number} ({invoice.pdf_file.name}) does not match its SHA-256" in out


@pytest.mark.django_db
def test_the_admin_renders_failed_invoice_pdfs_again_and_shows_the_reason(
    client, private_documents
):
    failed, ready = issued_invoice(), INVOICE_DOCUMENT.render_pdf(document=issued_invoice())
    INVOICE_DOCUMENT.pdf_failed(document=failed.pk, error="OSError: disk full", final=True)
    client.force_login(staff_user(cancel=False))

    page = client.get(reverse("admin:invoicing_invoice_change", args=[failed.pk])).content
    assert "OSError: disk full" in page.decode()
    response = client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "render_pdf_again", "_selected_action": [failed.pk, ready.pk]},
        follow=True,
    )

    assert "Rendered the PDF of 1 invoice." in response.content.decode()
    failed.refresh_from_db()
    assert failed.pdf_status == Invoice.PdfStatus.READY and failed.pdf_error == ""
    assert Invoice.objects.get(pk=ready.pk).pdf_rendered_at == ready.pdf_rendered_at


@pytest.mark.django_db
def test_a_recorded_pdf_is_never_replaced_by_a_render_with_other_bytes(private_documents):
    """The recorded PDF is the document the customer received: a forced re-render that
    comes out different is refused before anything is stored (the database refuses the
    change too, ``test_database_guards.py``)."""
    note = rendered_note(billing_email="a@example.com")
    with pytest.raises(PdfRenderError, match="differs from the PDF recorded"):
        document_render_pdf(
            model=CreditNote, document=note.pk, render=lambda _: b"%PDF-1.7 other", force=True
        )
    again = CreditNote.objects.get(pk=note.pk)
    assert (again.pdf_file.name, again.pdf_sha256) == (note.pdf_file.name, note.pdf_sha256)
    assert [path.name for path in private_documents.rglob("*.pdf")] == [
        note.pdf_file.name.rsplit("/", 1)[-1]
    ]


@pytest.mark.django_db
def test_a_pdf_unavailable_503_says_when_to_retry(private_documents, api_client):
    document = INVOICE_DOCUMENT.render_pdf(document=issued_invoice(customer=portal_member()))
    lose(document, private_documents, "deleted")

    response = api_client(document.customer.portal_user).get(api_url(document))

    assert_problem(response, 503, "pdf_unavailable")
    assert response["Retry-After"] == "60"  # "try again in a minute"
