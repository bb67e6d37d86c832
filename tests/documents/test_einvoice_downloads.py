"""E-invoice downloads: the API endpoints (same access rules as the PDFs) and the admin
links on the invoice and credit-note pages."""

import pytest
from django.contrib.auth.models import Permission

from coworking.einvoice.validation import validate
from credits.einvoice import credit_note_einvoice
from credits.services import invoice_cancel
from invoicing.einvoice import invoice_einvoice
from tests.factories import UserFactory, draft_invoice, issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture
def invoice():
    return issued_invoice(customer=portal_member())


@pytest.fixture
def note(invoice):
    return invoice_cancel(invoice=invoice, actor=None, channel="system")


def url(document, syntax="ubl") -> str:
    kind = "invoices" if document.__class__.__name__ == "Invoice" else "credit-notes"
    return f"/api/v1/{kind}/{document.pk}/einvoice?syntax={syntax}"


@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("kind", ["invoice", "note"])
def test_owner_downloads_the_einvoice(api_client, request, kind, syntax):
    document = request.getfixturevalue(kind)
    response = api_client(document.customer.portal_user).get(url(document, syntax))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml"
    assert f'filename="{document.number}-{syntax}.xml"' in response["Content-Disposition"]
    build = (
        invoice_einvoice(invoice=document, syntax=syntax)
        if kind == "invoice"
        else credit_note_einvoice(credit_note=document, syntax=syntax)
    )
    assert response.content == build
    assert validate(response.content).valid


def test_accept_xml_is_negotiated(api_client, invoice):
    response = api_client(invoice.customer.portal_user).get(
        url(invoice), HTTP_ACCEPT="application/xml"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response.content == invoice_einvoice(invoice=invoice, syntax="ubl")


@pytest.mark.parametrize("kind", ["invoice", "note"])
def test_other_member_404_anonymous_401_staff_200(api_client, request, kind):
    document = request.getfixturevalue(kind)
    other = portal_member(location=document.location)
    assert_problem(api_client(other.portal_user).get(url(document)), 404)
    assert_problem(api_client(None).get(url(document)), 401)
    response = api_client(staff_user(cancel=False)).get(url(document))
    assert response.status_code == 200
    assert f'filename="{document.number}-ubl.xml"' in response["Content-Disposition"]
    assert document.number.encode() in response.content


@pytest.mark.parametrize("syntax", ["pdf", "", "UBL"])
def test_an_unknown_syntax_is_a_422_problem(api_client, note, syntax):
    for document in (note.invoice, note):
        response = api_client(document.customer.portal_user).get(url(document, syntax))
        body = assert_problem(response, 422, "einvoice_syntax_unknown")
        assert "use cii or ubl" in body["detail"]


def test_a_draft_has_no_einvoice(api_client):
    response = api_client(staff_user()).get(url(draft_invoice()))
    assert_problem(response, 409, "invoice_is_draft")


# --- admin -------------------------------------------------------------------------------------


def admin_url(document, syntax) -> str:
    app = "invoicing/invoice" if document.__class__.__name__ == "Invoice" else "credits/creditnote"
    return f"/admin/{app}/{document.pk}/einvoice/{syntax}/"


def test_admin_pages_link_and_serve_both_syntaxes(client, note):
    client.force_login(staff_user(cancel=False))
    for document, page in (
        (note.invoice, f"/admin/invoicing/invoice/{note.invoice.pk}/change/"),
        (note, f"/admin/credits/creditnote/{note.pk}/change/"),
    ):
        html = client.get(page).content.decode()
        for syntax in ("ubl", "cii"):
            assert admin_url(document, syntax) in html
            response = client.get(admin_url(document, syntax))
            assert response.status_code == 200
            assert response["Content-Disposition"].endswith(f'"{document.number}-{syntax}.xml"')
            assert validate(response.content).valid


def test_admin_download_needs_the_view_permission(client, note):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(user)
    for document in (note, note.invoice):
        response = client.get(admin_url(document, "ubl"))
        assert response.status_code == 403
        assert document.number.encode() not in response.content  # nothing of it leaks
        assert b"<?xml" not in response.content and "Content-Disposition" not in response


def test_admin_draft_and_unknown_syntax_come_back_with_a_message(client):
    draft = draft_invoice()
    client.force_login(staff_user())
    response = client.get(admin_url(draft, "ubl"), follow=True)
    assert "has no e-invoice: issue it first" in response.content.decode()
    assert (
        admin_url(draft, "ubl")
        not in client.get(f"/admin/invoicing/invoice/{draft.pk}/change/").content.decode()
    )
    issued = issued_invoice()
    response = client.get(admin_url(issued, "pdf"), follow=True)
    assert "Unknown e-invoice syntax" in response.content.decode()
