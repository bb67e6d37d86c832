"""Where webhooks may go: public addresses only, over https in production.

An endpoint URL is checked when it is saved and again before every request, because the
name may resolve elsewhere by then (DNS rebinding): the request then goes to the address
that was checked, never to a second resolution. Only globally routable unicast addresses
pass: loopback, private (RFC 1918, unique local), link-local (cloud metadata services live
there), shared (100.64.0.0/10), IETF protocol assignments (192.0.0.0/24), benchmarking
(198.18.0.0/15), documentation, multicast, reserved and unspecified addresses are refused,
and so is every IPv6 address outside global unicast (2000::/3). Addresses that carry another
address inside them — 6to4 (2002::/16), Teredo (2001::/32) and NAT64 (64:ff9b::/96,
64:ff9b:1::/48) — are refused whatever they carry: a relay or translator on the way would
deliver to the embedded address, which may be this host. Python's own ``is_global`` misses
several of these (6to4 and 192.0.0.8 pass it on 3.11), hence the explicit lists, taken from
the IANA special-purpose address registries. ``WEBHOOKS_ALLOW_LOOPBACK`` lets loopback
through for tests and the demo. ``WEBHOOKS_REQUIRE_HTTPS`` (on unless ``DEBUG``) refuses
plain http.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from webhooks.errors import UnsafeEndpointUrl


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``address``, speak to ``host``."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


_TUNNELS = tuple(
    ipaddress.ip_network(network)
    for network in ("2002::/16", "2001::/32", "64:ff9b::/96", "64:ff9b:1::/48")
)
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
    )
)
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why this address may not receive webhooks, or ``None`` if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            address = address.ipv4_mapped
        elif any(address in network for network in _TUNNELS):
            return _("tunnelled")
    if address.is_loopback:
        return None if settings.WEBHOOKS_ALLOW_LOOPBACK else _("loopback")
    if address.is_link_local:
        return _("link-local")
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return _("reserved")  # 0.0.0.0 reaches the local host on Linux
    if address.is_private:
        return _("private")
    if isinstance(address, ipaddress.IPv6Address) and address not in _IPV6_GLOBAL_UNICAST:
        return _("non-public")
    if not address.is_global or any(address in network for network in _NOT_GLOBAL):
        return _("non-public")
    return None


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeEndpointUrl(_("This URL is not valid: %(error)s.") % {"error": error}) from None
    schemes = {"https"} if settings.WEBHOOKS_REQUIRE_HTTPS else {"https", "http"}
    if parts.scheme not in schemes:
        raise UnsafeEndpointUrl(
            _("The URL must start with https://.")
            if settings.WEBHOOKS_REQUIRE_HTTPS
            else _("The URL must start with https:// or http://.")
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpointUrl(_("The URL must not contain a user name or password."))
    if not parts.hostname:
        raise UnsafeEndpointUrl(_("The URL has no host."))
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port, path


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeEndpointUrl(
            _("%(host)s could not be resolved (%(error)s).") % {"host": host, "error": error}
        ) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        refusal = _refusal(ipaddress.ip_address(address.split("%")[0]))
        if refusal:
            raise UnsafeEndpointUrl(
                _(
                    "%(host)s resolves to %(address)s, a %(kind)s address: webhooks are only "
                    "sent to public addresses."
                )
                % {"host": host, "address": address, "kind": refusal}
            )
    return addresses


def endpoint_url_check(*, url: str) -> Target:
    """Check that ``url`` may receive webhooks now and return where to send them.

    Every address the host resolves to must be allowed (a name with one public and one
    private address is refused: the resolver could hand out either). Raises
    ``UnsafeEndpointUrl`` with the reason.
    """
    scheme, host, port, path = _split(url)
    addresses = _addresses(host, port)
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
