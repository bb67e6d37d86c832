"""Webhook endpoints in the admin: the secret shown once, unsafe URLs refused as form errors,
rotation, recent deliveries with Send again, and an automatically disabled endpoint."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from coworking.events import EventType
from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.factories import UserFactory, issued_invoice
from webhooks.delivery import Outcome, delivery_claim, delivery_record
from webhooks.models import Delivery, Endpoint, Event
from webhooks.outbox import event_dispatch
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks"


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="webhooks",
            codename__in=[
                "view_endpoint",
                "add_endpoint",
                "change_endpoint",
                "view_delivery",
                "change_delivery",
                "view_event",
            ],
        )
    )
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def production_rules(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    settings.WEBHOOKS_REQUIRE_HTTPS = True


def shown_secret(response) -> str:
    match = re.search(r'id="webhook-secret"[^>]*>(whsec_[^<]+)<', response.content.decode())
    assert match, "the secret is not on the page"
    return match.group(1)


def failed_delivery(endpoint, settings) -> Delivery:
    """A cancel whose delivery to ``endpoint`` failed for good, through the services."""
    invoice = issued_invoice()
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    event = Event.objects.get(invoice=invoice, type=EventType.INVOICE_CANCELLED)
    (delivery_id,) = event_dispatch(event_id=event.pk)
    settings.WEBHOOKS_RETRY_SCHEDULE = ()
    claim = delivery_claim(delivery_id=delivery_id)
    delivery_record(claim=claim, outcome=Outcome(500, 12, error="HTTP 500", excerpt="boom"))
    return Delivery.objects.get(pk=delivery_id)


def test_the_secret_is_shown_once_when_the_endpoint_is_added(staff):
    response = staff.post(
        reverse("admin:webhooks_endpoint_add"),
        {
            "url": PUBLIC_URL,
            "description": "Accounting connector",
            "event_types": ["invoice.cancelled", "credit_note.issued"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    secret = shown_secret(response)
    assert secret == endpoint.secret
    assert endpoint.event_types == ["credit_note.issued", "invoice.cancelled"]

    page = staff.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200
    assert secret not in page.content.decode()
    assert f"whsec_…{secret[-4:]}" in page.content.decode()


def test_an_unsafe_url_is_a_form_error_and_nothing_is_saved(staff):
    response = staff.post(
        reverse("admin:webhooks_endpoint_add"),
        {"url": "https://169.254.169.254/latest", "event_types": ["invoice.cancelled"]},
    )
    assert response.status_code == 200
    assert "a link-local address" in response.content.decode()
    response = staff.post(
        reverse("admin:webhooks_endpoint_add"),
        {"url": "http://93.184.216.34/", "event_types": ["invoice.cancelled"]},
    )
    assert "must start with https://" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing(staff):
    endpoint, old = endpoint_create(url=PUBLIC_URL, event_types=["invoice.cancelled"])
    url = reverse("admin:webhooks_endpoint_rotate_secret", args=[endpoint.pk])
    assert "24.0 hours" in staff.get(url).content.decode()

    response = staff.post(url)
    new = shown_secret(response)
    endpoint.refresh_from_db()
    assert endpoint.secret == new != old and endpoint.previous_secret == old
    remaining = endpoint.previous_secret_expires_at - timezone.now()
    assert datetime.timedelta(hours=23) < remaining <= datetime.timedelta(hours=24)


def test_recent_deliveries_and_send_again_one_or_all_failed(staff, settings):
    endpoint, _secret = endpoint_create(url=PUBLIC_URL, event_types=["invoice.cancelled"])
    first, second = failed_delivery(endpoint, settings), failed_delivery(endpoint, settings)
    change_url = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])

    page = staff.get(change_url).content.decode()
    assert f'data-delivery="{first.pk}"' in page and f'data-delivery="{second.pk}"' in page
    assert "Send again all 2 failed deliveries" in page

    send_again = reverse("admin:webhooks_endpoint_send_again", args=[endpoint.pk])
    response = staff.post(send_again, {"delivery": first.pk}, follow=True)
    assert "queued again" in response.content.decode()
    first.refresh_from_db()
    assert first.status == Delivery.Status.PENDING and first.round_offset == first.attempt_count

    response = staff.post(send_again, {"failed": "1"}, follow=True)
    assert "1 failed delivery queued again." in response.content.decode()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.PENDING}

    assert staff.post(send_again, {"delivery": "999999"}).status_code == 404


def test_an_automatically_disabled_endpoint_says_so_until_it_is_activated(staff, settings):
    endpoint, _secret = endpoint_create(url=PUBLIC_URL, event_types=["invoice.cancelled"])
    settings.WEBHOOKS_DISABLE_AFTER = 0
    failed_delivery(endpoint, settings)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None

    listing = staff.get(reverse("admin:webhooks_endpoint_changelist")).content.decode()
    assert "Disabled automatically on" in listing
    change_url = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    page = staff.get(change_url).content.decode()
    assert "Disabled automatically on" in page and "tick Active" in page

    staff.post(
        change_url,
        {"url": PUBLIC_URL, "event_types": ["invoice.cancelled"], "is_active": "on"},
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_at is None and endpoint.failing_since is None


def test_delivery_and_event_pages_are_read_only_and_show_the_attempts(staff, settings):
    endpoint, _secret = endpoint_create(url=PUBLIC_URL, event_types=["invoice.cancelled"])
    delivery = failed_delivery(endpoint, settings)
    page = staff.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "HTTP 500" in text and "boom" in text
    assert 'name="_save"' not in text
    assert staff.get(reverse("admin:webhooks_event_changelist")).status_code == 200
    response = staff.post(
        reverse("admin:webhooks_delivery_changelist"),
        {"action": "send_again", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery queued again." in response.content.decode()
