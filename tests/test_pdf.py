import pytest

from credits.pdf import credit_note_pdf_bytes
from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.conftest import pdf_text
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db


def test_scratch():
    customer = CustomerFactory(language="fr", tax_id="FR12345678901", location__email_documents=True)
    invoice = issued_invoice(customer=customer)
    note = invoice_cancel(invoice=invoice, actor=staff_user(), reason="Erreur de facturation", channel=Channel.ADMIN)
    data = credit_note_pdf_bytes(credit_note=note)
    open("/tmp/pdfout/cn.pdf", "wb").write(data)
    print(pdf_text(data))
