"""Where webhooks may go: refused when saved (with a clear reason, nothing written) and
checked again before each request; https only when required."""

import socket

import pytest

from coworking.events import EventType
from webhooks import delivery
from webhooks.admin import EndpointForm
from webhooks.delivery import Claim, send
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


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:7f00:1::]/hooks",  # 6to4 around 127.0.0.1
        "https://[2002:5db8:d822::1]/hooks",  # 6to4 around a public address
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",  # Teredo
        "https://[64:ff9b::7f00:1]/hooks",  # NAT64 around 127.0.0.1
        "https://[64:ff9b::5db8:d822]/hooks",  # NAT64 around a public address
        "https://[64:ff9b:1::a00:1]/hooks",  # local-use NAT64
        "https://192.0.0.8/hooks",
        "https://192.0.0.9/hooks",
        "https://192.0.0.170/hooks",
        "https://198.18.0.1/hooks",
        "https://198.19.255.254/hooks",
        "https://100.127.255.254/hooks",
        "https://192.88.99.1/hooks",
        "https://[2001:db8::1]/hooks",
        "https://[3fff::1]/hooks",
        "https://[fec0::1]/hooks",  # site-local, deprecated
        "https://[100::1]/hooks",
        "https://[::127.0.0.1]/hooks",  # IPv4-compatible, deprecated
        "https://[::ffff:192.0.0.8]/hooks",
    ],
)
def test_addresses_that_are_not_globally_routable_or_wrap_another_are_refused_at_save(url):
    """The kind named in the refusal follows Python's own classification where it has one;
    the refusal itself does not depend on it."""
    with pytest.raises(UnsafeEndpointUrl) as refused:
        endpoint_create(url=url, event_types=[EventType.INVOICE_CANCELLED])
    assert "only sent to public addresses" in refused.value.message
    if url.startswith(("https://[2002:", "https://[2001:0:", "https://[64:ff9b:")):
        assert "a tunnelled address" in refused.value.message
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:7f00:1::]/hooks",
        "https://[64:ff9b::7f00:1]/hooks",
        "https://[2001::7f00:1]/hooks",
        "https://192.0.0.8/hooks",
    ],
)
def test_a_wrapped_loopback_is_refused_even_where_loopback_is_allowed(settings, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with pytest.raises(UnsafeEndpointUrl):
        endpoint_url_check(url=url)


def test_the_admin_form_refuses_a_6to4_address_and_saves_nothing():
    form = EndpointForm(
        data={"url": "https://[2002:7f00:1::]/hooks", "event_types": ["invoice.cancelled"]}
    )
    assert not form.is_valid()
    assert "tunnelled" in str(form.errors)
    assert not Endpoint.objects.exists()


def test_an_endpoint_stored_with_a_tunnelled_address_is_refused_at_send_time(monkeypatch):
    """An endpoint written before the rule existed (or by raw SQL) is not sent to: the
    check before each request refuses it before any connection is attempted."""
    endpoint = Endpoint.objects.create(
        url="https://[2002:7f00:1::]/hooks", secret="whsec_dGVzdA==", event_types=["x"]
    )
    posted = []
    monkeypatch.setattr(delivery, "_post", lambda **kwargs: posted.append(kwargs) or (200, b""))
    claim = Claim(
        delivery_id=0,
        attempt_id=0,
        number=1,
        event_id="evt",
        body="{}",
        url=endpoint.url,
        secrets=("whsec_dGVzdA==",),
    )
    outcome = send(claim=claim)
    assert outcome.status_code is None and "tunnelled" in outcome.error
    assert posted == []


def test_the_request_goes_to_the_address_that_was_checked_without_resolving_again(
    settings, receiver, monkeypatch
):
    """A rebinding name answers the check with the receiver's address and anything after
    with another: the sender resolves the name once and connects to what it checked."""
    resolved = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.rebind.test":
            resolved.append(host)
            address = "127.0.0.1" if len(resolved) == 1 else "192.0.2.1"
            return real_getaddrinfo(address, port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    receiver.secrets.append("whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=")
    url = receiver.url.replace("127.0.0.1", "hooks.rebind.test") + "/hooks"
    claim = Claim(
        delivery_id=0,
        attempt_id=0,
        number=1,
        event_id="msg_rebind",
        body='{"type": "invoice.cancelled"}',
        url=url,
        secrets=("whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",),
    )
    outcome = send(claim=claim)
    assert outcome.succeeded, outcome.error
    assert resolved == ["hooks.rebind.test"]
    [received] = receiver.received
    headers = {name.lower(): value for name, value in received.headers.items()}
    assert headers["host"].startswith("hooks.rebind.test:"), headers
