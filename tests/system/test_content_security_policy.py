"""A Content-Security-Policy on every page: scripts from this site or with the request's
nonce, nothing framed, no plugins. (In a browser: ``test_admin_browser.py``.)"""

import re

import pytest
from django.test import Client

from credits.services import bulk_cancellation_start
from tests.factories import issued_invoice, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize(
    "page", ["/admin/login/", "/admin/", "/api/v1/docs/", "/api/v1/redoc/", "/api/v1/me"]
)
def test_every_page_carries_the_policy(page):
    client = Client()
    client.force_login(staff_user())
    directives = policy(client.get(page))

    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_an_inline_script_runs_only_with_the_nonce_of_its_response():
    client = Client()
    client.force_login(staff_user(cancel=True))
    bulk = bulk_cancellation_start(invoice_ids=[issued_invoice().pk], actor=None, reason="Closing")

    response = client.get(f"/admin/invoicing/invoice/bulk-cancellations/{bulk.pk}/")

    nonce = next(
        value[len("'nonce-") : -1]
        for value in policy(response)["script-src"]
        if value.startswith("'nonce-")
    )
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    inline = [attributes for attributes in scripts if "src=" not in attributes]
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)


def test_the_swagger_page_has_no_inline_script():
    client = Client()
    client.force_login(staff_user())
    page = client.get("/api/v1/docs/").content.decode()

    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert client.get("/api/v1/docs/?script").status_code == 200
