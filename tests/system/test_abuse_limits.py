"""Brute force and heavy readers: admin logins lock out, passwords follow Django's full
validators, API reads and document downloads are throttled per user."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.factories import issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PASSWORD = "a long and unusual passphrase"


def log_in(client, username, password, address="127.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_the_admin_login_locks_out_after_five_failures(settings):
    user = staff_user()
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    for _attempt in range(4):
        assert log_in(client, user.username, "wrong").status_code == 200  # the form again
    assert log_in(client, user.username, "wrong").status_code == 429  # the fifth: locked
    locked = log_in(client, user.username, PASSWORD)
    assert locked.status_code == 429
    assert not logged_in(client)
    # Another address (a colleague's) is not locked out of that account.
    assert log_in(Client(), user.username, PASSWORD, address="10.0.0.7").status_code == 302


def test_a_success_before_the_limit_resets_the_count():
    user = staff_user()
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    for _attempt in range(4):
        log_in(client, user.username, "wrong")
    assert log_in(client, user.username, PASSWORD).status_code == 302
    assert logged_in(client)
    client.logout()
    for _attempt in range(4):
        log_in(client, user.username, "wrong")
    assert log_in(client, user.username, PASSWORD).status_code == 302
    assert logged_in(client)  # eight failures in all, never five in a row: not locked out


@pytest.mark.parametrize(
    "password",
    ["admin", "short", "password1234", "123456789012345", "jane.doe.1990"],
)
def test_weak_passwords_are_refused(password):
    user = get_user_model()(username="jane.doe", email="jane.doe.1990@example.com")
    with pytest.raises(ValidationError):
        validate_password(password, user=user)
    form = SetPasswordForm(user, {"new_password1": password, "new_password2": password})
    assert not form.is_valid()


def test_a_strong_password_is_accepted():
    validate_password(PASSWORD, user=get_user_model()(username="jane.doe"))


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


def test_reads_are_throttled_per_user(api_client, rates):
    rates(read="3/minute")
    first, second = api_client(portal_member().portal_user), api_client(staff_user())
    assert [first.get("/api/v1/invoices").status_code for _ in range(3)] == [200] * 3
    throttled = first.get("/api/v1/me")
    assert_problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    assert second.get("/api/v1/invoices").status_code == 200  # per user


def test_document_downloads_are_throttled_per_user(api_client, rates, private_documents):
    rates(read="100/minute", document_download="2/minute")
    member = portal_member()
    invoice = issued_invoice(customer=member)
    note = invoice_cancel(
        invoice=issued_invoice(customer=member), actor=staff_user(), channel=Channel.ADMIN
    )
    client = api_client(member.portal_user)
    assert client.get(f"/api/v1/invoices/{invoice.pk}/pdf").status_code in (200, 409)
    assert client.get(f"/api/v1/credit-notes/{note.pk}/pdf").status_code in (200, 409)
    assert_problem(client.get(f"/api/v1/invoices/{invoice.pk}/pdf"), 429, "throttled")
    response = client.get(f"/api/v1/invoices/{invoice.pk}")  # other reads go on
    assert response.status_code == 200 and response.json()["number"] == invoice.number


def through_proxy(client, username, password, forwarded_for):
    """A login as the documented TLS proxy forwards it: from the proxy's address, with the
    client's appended to whatever ``X-Forwarded-For`` the client sent."""
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_the_proxy_an_attacker_cannot_lock_the_user_out_from_other_addresses(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = staff_user()
    user.set_password(PASSWORD)
    user.save()
    attacker = Client()
    for attempt in range(5):
        through_proxy(attacker, user.username, "wrong", f"198.51.100.{attempt + 1}")

    # Five wrong passwords from five addresses: none of them reached the limit, and the
    # user, from their own address, logs in.
    user_client = Client()
    assert through_proxy(user_client, user.username, PASSWORD, "192.0.2.10").status_code == 302
    assert logged_in(user_client)


def test_behind_the_proxy_a_spoofed_forwarded_entry_does_not_help_the_attacker_evade(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = staff_user()
    user.set_password(PASSWORD)
    user.save()
    attacker = Client()
    statuses = [
        through_proxy(
            attacker, user.username, "wrong", f"192.0.2.{attempt}, 203.0.113.66"
        ).status_code
        for attempt in range(6)
    ]
    # The leftmost entry changes each time; the address the proxy saw does not: locked.
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert through_proxy(attacker, user.username, PASSWORD, "203.0.113.66").status_code == 429
    # The real user elsewhere is not.
    user_client = Client()
    assert through_proxy(user_client, user.username, PASSWORD, "192.0.2.10").status_code == 302


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    user = staff_user()
    user.set_password(PASSWORD)
    user.save()
    attacker = Client()
    statuses = [
        log_in_forwarded(attacker, user.username, f"198.51.100.{attempt}") for attempt in range(5)
    ]
    assert statuses[-1] == 429  # the same direct address each time, whatever it claims


def log_in_forwarded(client, username, forwarded_for):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": "wrong"},
        REMOTE_ADDR="203.0.113.66",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    ).status_code
