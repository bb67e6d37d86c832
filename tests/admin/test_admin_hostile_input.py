"""Malformed input to the admin: an error message or a 400, never a 500."""

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages

from invoicing.models import Invoice
from tests.factories import issued_invoice, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(staff_user(is_superuser=True))  # every action, delete_selected too
    return client


@pytest.mark.parametrize(
    "query",
    [
        "state__exact=%00",
        "currency__exact=%00",
        "q=%00",
    ],
)
def test_a_nul_character_in_a_list_filter_is_a_400(staff_client, query):
    invoice = issued_invoice()
    response = staff_client.get(f"/admin/invoicing/invoice/?{query}")
    assert response.status_code == 400
    assert invoice.number.encode() not in response.content  # the bad request lists nothing
    assert b"Traceback" not in response.content


def test_a_nul_character_in_an_autocomplete_term_is_a_400(staff_client):
    response = staff_client.get(
        "/admin/autocomplete/?term=%00&app_label=invoicing&model_name=invoice&field_name=customer"
    )
    assert response.status_code == 400
    assert b"results" not in response.content  # no autocomplete answer, not even an empty one


@pytest.mark.parametrize("action", ["cancel_selected", "delete_selected"])
def test_an_action_on_ids_that_are_not_ids_does_nothing_and_says_so(staff_client, action):
    invoice = issued_invoice()
    response = staff_client.post(
        "/admin/invoicing/invoice/",
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(invoice.pk), "abc"], "index": 0},
    )
    assert response.status_code == 302
    assert "not valid" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED
