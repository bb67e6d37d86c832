"""Credit-note PDFs: content in the customer's language, reproducible bytes, private storage,
the admin download and the admin action. The Celery paths are in ``test_pdf_tasks.py``."""

import datetime
import hashlib
import io
import re
from decimal import Decimal

import pytest
from babel.dates import format_date
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from coworking.documents.engine import LocalOnlyURLFetcher, reset_render_cache
from coworking.documents.rendering import PdfRenderError, render_pdf
from credits.documents import CREDIT_NOTE_DOCUMENT, credit_note_send_email
from credits.models import CreditNote
from credits.pdf import credit_note_pdf_bytes
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from invoicing.services import payment_record
from tests.conftest import pdf_text
from tests.factories import CustomerFactory, UserFactory, draft_invoice, issued_invoice, staff_user
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

LINES = (
    ("Dedicated desk", "1", "320.00", "21"),
    ("Meeting room (hours)", "3", "35.00", "9"),
    ("Private office", "2", "1250.00", "21"),
    ("Printing", "40", "0.10", "0"),
)


def amount(text: str) -> Decimal:
    """``"-2 500,00 €"`` or ``"-€2,500.00"`` → ``Decimal("-2500.00")``."""
    text = normalise(text).replace("€", "").replace(" ", "").strip()
    if re.search(r",\d{2}$", text):
        text = text.replace(".", "").replace(",", ".")
    return Decimal(text.replace(",", ""))


def cancelled(*, language="fr", reason="Erreur de facturation", specs=LINES, **customer):
    customer = CustomerFactory(
        **{
            "language": language,
            "tax_id": "FR40123456789",
            "billing_name": "Atelier Dupont SARL",
            "billing_email": "compta@dupont.example",
            **customer,
        }
    )
    invoice = issued_invoice(customer=customer, specs=specs, issue_date=datetime.date(2026, 3, 5))
    return invoice_cancel(invoice=invoice, actor=staff_user(), reason=reason, channel=Channel.ADMIN)


def test_pdf_has_number_reference_lines_and_totals_in_the_customers_language():
    note = cancelled(language="fr")

    text = normalise(pdf_text(credit_note_pdf_bytes(credit_note=note)))

    assert "Avoir" in text and "Credit note" not in text
    assert note.number in text
    assert f"Annule la facture {note.invoice_number} du 5 mars 2026" in text
    assert format_date(note.issue_date, format="long", locale="fr") in text
    assert note.location.legal_name in text and note.location.tax_id in text
    assert "Atelier Dupont SARL" in text and "N° de TVA : FR40123456789" in text
    rows = {
        "Dedicated desk": "-1 320,00 € 21% -320,00 € -67,20 € -387,20 €",
        "Meeting room (hours)": "-3 35,00 € 9% -105,00 € -9,45 € -114,45 €",
        "Private office": "-2 1 250,00 € 21% -2 500,00 € -525,00 € -3 025,00 €",
        "Printing": "-40 0,10 € 0% -4,00 € 0,00 € -4,00 €",
    }
    for description, figures in rows.items():
        assert f"{description} {figures}" in text
    assert "Total (EUR) -2 929,00 € -601,65 € -3 530,65 €" in text
    assert "Erreur de facturation" not in text and "Motif" not in text  # internal reason
    assert "Page 1 sur 1" in text


def test_pdf_in_english_for_an_english_customer():
    note = cancelled(language="en", reason="")

    text = normalise(pdf_text(credit_note_pdf_bytes(credit_note=note)))

    assert "Credit note" in text and note.number in text
    assert f"Cancels invoice {note.invoice_number} of 5 March 2026" in text
    assert "Total (EUR) -€2,929.00 -€601.65 -€3,530.65" in text
    assert "Reason" not in text  # no reason given, no reason section
    assert "Page 1 of 1" in text


def test_a_partial_note_shows_only_its_lines_and_corrects_the_invoice():
    customer = CustomerFactory(language="en", tax_id="FR40123456789")
    invoice = issued_invoice(customer=customer, specs=LINES, issue_date=datetime.date(2026, 3, 5))
    office = invoice.lines.get(position=3)
    note = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(office.pk, Decimal("1"))],
        reason="One office unused",
        actor=None,
        channel=Channel.ADMIN,
    )

    text = normalise(pdf_text(credit_note_pdf_bytes(credit_note=note)))

    assert f"Corrects invoice {invoice.number} of 5 March 2026" in text
    assert "Cancels invoice" not in text
    assert "Private office -1 €1,250.00 21% -€1,250.00 -€262.50 -€1,512.50" in text
    assert "Dedicated desk" not in text and "Printing" not in text
    assert "Total (EUR) -€1,250.00 -€262.50 -€1,512.50" in text
    # The cancel that follows credits what is left: it corrects too (it is not the whole).
    last = invoice_cancel(invoice=invoice, actor=None, channel=Channel.ADMIN)
    text = normalise(pdf_text(credit_note_pdf_bytes(credit_note=last)))
    assert f"Corrects invoice {invoice.number}" in text and "Dedicated desk" in text


def test_tax_table_sums_to_the_grand_total():
    note = cancelled(language="fr")

    lines = normalise(pdf_text(credit_note_pdf_bytes(credit_note=note))).splitlines()

    def figures(text):
        return [amount(part) for part in text.split("€") if part.strip()]

    tax_lines = [  # "TVA 0 % – Taux zéro": the category's name goes
        re.sub(r" – [^\d-]+", " ", line.strip())
        for line in lines
        if line.strip().startswith("TVA ")
    ]
    rates = [line.split("%", 1)[0] for line in tax_lines]
    tax_rows = [figures(line.split("%", 1)[1]) for line in tax_lines]  # net, tax, gross
    assert rates == ["TVA 21", "TVA 9", "TVA 0"]
    (total_line,) = [line.strip() for line in lines if line.strip().startswith("Total (EUR)")]
    net, tax, gross = figures(total_line.removeprefix("Total (EUR)"))
    assert [sum(column) for column in zip(*tax_rows, strict=True)] == [net, tax, gross]
    assert all(row[0] + row[1] == row[2] for row in tax_rows)
    assert (net, tax, gross) == (note.net_total.amount, note.tax_total.amount, note.total.amount)


def test_same_note_renders_to_the_same_bytes_with_dates_from_the_note():
    note = cancelled()

    reset_render_cache()
    first = credit_note_pdf_bytes(credit_note=note)  # parses the stylesheet and fonts
    second = credit_note_pdf_bytes(credit_note=CreditNote.objects.get(pk=note.pk))  # cached

    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert first == second
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata.creation_date.date() == note.issue_date
    assert reader.metadata.modification_date.date() == note.issue_date
    assert reader.metadata.title == f"Avoir {note.number}"
    assert (
        reader.trailer["/ID"][0] == hashlib.md5(f"credit-note/{note.number}".encode()).hexdigest()
    )


def test_render_service_stores_the_pdf_privately_and_is_idempotent(
    client, private_documents, settings
):
    note = cancelled()
    assert note.pdf_status == CreditNote.PdfStatus.PENDING

    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=note)

    assert note.pdf_status == CreditNote.PdfStatus.READY and note.pdf_error == ""
    stored = (private_documents / note.pdf_file.name).read_bytes()
    assert stored.startswith(b"%PDF-")
    assert hashlib.sha256(stored).hexdigest() == note.pdf_sha256 and note.pdf_size == len(stored)
    assert note.pdf_sha256[:16] in note.pdf_file.name and note.number in note.pdf_file.name
    assert not str(private_documents).startswith(str(settings.MEDIA_ROOT))
    assert client.get(note.pdf_file.url).status_code == 404  # nothing serves the storage
    rendered_at = note.pdf_rendered_at

    again = CREDIT_NOTE_DOCUMENT.render_pdf(document=note.pk)  # a second run does nothing
    assert again.pdf_rendered_at == rendered_at

    forced = CREDIT_NOTE_DOCUMENT.render_pdf(document=note.pk, force=True)
    assert forced.pdf_rendered_at > rendered_at
    assert (forced.pdf_sha256, forced.pdf_file.name) == (note.pdf_sha256, note.pdf_file.name)
    assert len(list(private_documents.rglob("*.pdf"))) == 1


def test_a_long_note_runs_over_pages_with_page_numbers():
    specs = [(f"Day pass #{n}", "1", "25.00", "21") for n in range(1, 101)]
    note = cancelled(language="en", specs=specs)

    data = credit_note_pdf_bytes(credit_note=note)

    pages = len(PdfReader(io.BytesIO(data)).pages)
    text = normalise(pdf_text(data))
    assert pages >= 3
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert all(f"Day pass #{n} " in text for n in range(1, 101))
    assert text.count("Description Quantity Unit price") == pages  # header repeated per page


def test_rendering_never_fetches_a_remote_or_outside_file():
    fetcher = LocalOnlyURLFetcher()
    assert fetcher.local_path("http://127.0.0.1:9/print.css") is None
    assert fetcher.local_path("file:///etc/passwd") is None
    assert fetcher.local_path("file:///work/../etc/hostname") is None
    assert fetcher.local_path("data:text/css,p{}") is None
    assert fetcher.local_path((fetcher.root / "documents" / "print.css").as_uri()) is not None
    for html in (
        '<img src="http://127.0.0.1:9/logo.png">',
        '<link rel="stylesheet" href="https://example.com/x.css">',
        '<img src="file:///etc/passwd">',
    ):
        with pytest.raises(PdfRenderError, match="Refused to fetch"):
            render_pdf(html=html, identifier="test")


def test_customer_text_cannot_inject_markup_into_the_pdf():
    note = cancelled(language="en", billing_name='<img src="http://127.0.0.1:9/x">&co')

    text = normalise(pdf_text(credit_note_pdf_bytes(credit_note=note)))

    assert '<img src="http://127.0.0.1:9/x">&co' in text


def test_invoice_pdf_shares_the_layout_and_shows_the_invoice_as_issued():
    customer = CustomerFactory(language="fr")
    earlier = issued_invoice(
        customer=customer, specs=[("Day pass", "1", "1000.00", "0")], paid="all"
    )
    invoice_cancel(invoice=earlier, actor=None, channel=Channel.SYSTEM)  # 1,000 € of credit
    invoice = issued_invoice(customer=customer, specs=LINES)

    data = invoice_pdf_bytes(invoice=invoice)
    text = normalise(pdf_text(data))

    assert "Facture" in text and invoice.number in text
    assert "Private office -2" not in text and "Private office 2 1 250,00 € 21%" in text
    assert "Total (EUR) 2 929,00 € 601,65 € 3 530,65 €" in text
    # Credit held from the cancelled (paid) invoice was applied when this one was issued.
    assert "Crédit sur compte imputé -1 000,00 €" in text
    assert "Montant dû 2 530,65 €" in text
    # Paying or cancelling later changes the invoice, not the document that was issued.
    payment_record(invoice=invoice, amount=invoice.amount_due)
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    invoice.refresh_from_db()
    assert invoice_pdf_bytes(invoice=invoice) == data


def test_a_draft_invoice_has_no_pdf():
    with pytest.raises(InvoiceIsDraft):
        invoice_pdf_bytes(invoice=draft_invoice())


def test_email_is_sent_once_with_the_pdf_in_the_customers_language(private_documents):
    note = cancelled(location__email_documents=True)
    assert credit_note_send_email(credit_note=note) is False  # PDF not ready yet
    CREDIT_NOTE_DOCUMENT.render_pdf(document=note)

    assert credit_note_send_email(credit_note=note) is True
    assert credit_note_send_email(credit_note=note) is False

    (message,) = mail.outbox
    assert message.to == [note.customer.billing_email]
    assert message.subject == f"Avoir {note.number} de {note.location.legal_name}"
    assert f"l'avoir {note.number}" in message.body
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"{note.number}.pdf", "application/pdf")
    note.refresh_from_db()
    assert hashlib.sha256(content).hexdigest() == note.pdf_sha256
    assert note.emailed_at is not None


def test_no_email_when_the_location_does_not_send_documents(private_documents):
    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=cancelled(location__email_documents=False))

    assert credit_note_send_email(credit_note=note) is False
    assert mail.outbox == []


# --- Admin ------------------------------------------------------------------------------------


def pdf_url(note):
    return reverse("admin:credits_creditnote_pdf", args=[note.pk])


def test_staff_downloads_the_pdf_from_the_admin(client, private_documents):
    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=cancelled())
    client.force_login(staff_user(cancel=False))

    change_page = client.get(reverse("admin:credits_creditnote_change", args=[note.pk]))
    assert pdf_url(note) in change_page.content.decode()
    response = client.get(pdf_url(note))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{note.number}.pdf"'
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == note.pdf_sha256


@pytest.mark.parametrize(
    ("who", "status"),
    [("staff_without_permission", 403), ("member", 302), ("anonymous", 302)],
)
def test_unauthorised_download_is_refused_without_bytes(client, private_documents, who, status):
    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=cancelled())
    if who == "staff_without_permission":
        client.force_login(UserFactory(is_staff=True))
    elif who == "member":
        client.force_login(UserFactory(is_staff=False))

    response = client.get(pdf_url(note))

    assert response.status_code == status
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"%PDF" not in body
    assert "Content-Disposition" not in response
    if status == 302:
        assert response["Location"].startswith(reverse("admin:login"))


def test_download_of_a_pending_pdf_returns_to_the_note_with_a_message(client, private_documents):
    note = cancelled()
    client.force_login(staff_user(cancel=False))

    response = client.get(pdf_url(note), follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "admin:credits_creditnote_change", args=[note.pk]
    )
    assert b"%PDF" not in response.content
    assert "not ready yet" in response.content.decode()


def test_failed_pdf_shows_its_reason_and_the_admin_action_renders_it(client, private_documents):
    failed = cancelled()
    CREDIT_NOTE_DOCUMENT.pdf_failed(document=failed, error="OSError: disk full", final=True)
    ready = CREDIT_NOTE_DOCUMENT.render_pdf(document=cancelled())
    client.force_login(staff_user(cancel=False))

    page = client.get(reverse("admin:credits_creditnote_change", args=[failed.pk])).content
    assert "OSError: disk full" in page.decode()
    assert "PDF failed" in page.decode()
    changelist = reverse("admin:credits_creditnote_changelist")
    response = client.post(
        changelist,
        {"action": "render_missing_pdfs", "_selected_action": [failed.pk, ready.pk]},
        follow=True,
    )

    assert "Rendered the PDF of 1 credit note." in response.content.decode()
    failed.refresh_from_db()
    assert failed.pdf_status == CreditNote.PdfStatus.READY and failed.pdf_error == ""
    assert CreditNote.objects.get(pk=ready.pk).pdf_rendered_at == ready.pdf_rendered_at


def test_admin_lists_filters_and_searches_credit_notes(client, private_documents):
    note = cancelled()
    other = cancelled()
    CREDIT_NOTE_DOCUMENT.pdf_failed(document=other, error="boom", final=True)
    client.force_login(staff_user(cancel=False))
    changelist = reverse("admin:credits_creditnote_changelist")

    by_invoice = client.get(changelist, {"q": note.invoice_number}).content.decode()
    failed_only = client.get(changelist, {"pdf_status__exact": "failed"}).content.decode()

    assert note.number in by_invoice and other.number not in by_invoice
    assert other.number in failed_only and note.number not in failed_only
