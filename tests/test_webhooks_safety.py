"""Where webhooks may go: refused when saved (with a clear reason, nothing written) and
checked again before each request; https only when required."""

import pytest

from coworking.events import EventType
from webhooks.errors import InvalidEndpoint, UnsafeEndpointUrl
from webhooks.models import Endpoint
from webhooks.safety import endpoint_url_check
from webhooks.services import endpoint_create, endpoint_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production_rules(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    settings.WEBHOOKS_REQUIRE_HTTPS = True


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://127.8.9.10/hooks", "loopback"),
        ("https://localhost:8443/hooks", "loopback"),
        ("https://[::1]/hooks", "loopback"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://172.16.0.1/hooks", "private"),
        ("https://192.168.1.20/hooks", "private"),
        ("https://[fd00::1]/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/hooks", "link-local"),
        ("https://100.64.0.1/hooks", "non-public"),
        ("https://0.0.0.0/hooks", "reserved"),
        ("https://224.0.0.1/hooks", "reserved"),
    ],
)
def test_private_addresses_are_refused_with_the_reason(url, kind):
    with pytest.raises(UnsafeEndpointUrl) as refused:
        endpoint_create(url=url, event_types=[EventType.INVOICE_CANCELLED])
    assert f"a {kind} address" in refused.value.message
    assert refused.value.code == "webhook_url_not_allowed"
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.216.34/hooks", "must start with https://"),
        ("ftp://93.184.216.34/hooks", "must start with https://"),
        ("https://user:pw@93.184.216.34/hooks", "user name or password"),
        ("https:///hooks", "has no host"),
        ("https://93.184.216.34:99999/hooks", "not valid"),
        ("https://no-such-host.invalid/hooks", "could not be resolved"),
    ],
)
def test_malformed_or_insecure_urls_are_refused(url, message):
    with pytest.raises(UnsafeEndpointUrl) as refused:
        endpoint_create(url=url, event_types=[EventType.INVOICE_CANCELLED])
    assert message in refused.value.message
    assert not Endpoint.objects.exists()


def test_a_public_https_url_is_accepted_and_checked_to_its_address():
    endpoint, secret = endpoint_create(
        url="https://93.184.216.34:8443/hooks?tenant=7",
        description="Accounting connector",
        event_types=[EventType.CREDIT_NOTE_ISSUED, EventType.INVOICE_CANCELLED],
    )
    assert secret.startswith("whsec_") and endpoint.secret == secret
    assert endpoint.event_types == ["credit_note.issued", "invoice.cancelled"]
    target = endpoint_url_check(url=endpoint.url)
    assert (target.address, target.port, target.path) == ("93.184.216.34", 8443, "/hooks?tenant=7")
    assert target.host_header == "93.184.216.34:8443"


def test_loopback_only_when_the_setting_allows_it_and_plain_http_outside_production(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    endpoint_url_check(url="http://127.0.0.1:9/hooks")
    with pytest.raises(UnsafeEndpointUrl, match="private"):
        endpoint_url_check(url="http://10.0.0.1/hooks")  # the setting is about loopback only


def test_event_types_must_be_known_and_not_empty():
    with pytest.raises(InvalidEndpoint, match="at least one"):
        endpoint_create(url="https://93.184.216.34/", event_types=[])
    with pytest.raises(InvalidEndpoint, match=r"invoice\.exploded"):
        endpoint_create(url="https://93.184.216.34/", event_types=["invoice.exploded"])
    endpoint, _secret = endpoint_create(
        url="https://93.184.216.34/", event_types=["invoice.issued"]
    )
    with pytest.raises(UnsafeEndpointUrl):
        endpoint_update(
            endpoint=endpoint,
            url="https://10.0.0.1/",
            description="",
            event_types=["invoice.issued"],
            is_active=True,
        )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://93.184.216.34/"
