"""Where webhooks may go: public addresses only, over https in production.

An endpoint URL is checked when it is saved and again before every request, because the
name may resolve elsewhere by then (DNS rebinding): the request then goes to the address
that was checked, never to a second resolution. Loopback, private (RFC 1918, unique local),
link-local (cloud metadata services live there), shared, multicast, reserved and
unspecified addresses are refused; ``WEBHOOKS_ALLOW_LOOPBACK`` lets loopback through for
tests and the demo. ``WEBHOOKS_REQUIRE_HTTPS`` (on unless ``DEBUG``) refuses plain http.
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


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why this address may not receive webhooks, or ``None`` if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if settings.WEBHOOKS_ALLOW_LOOPBACK else _("loopback")
    if address.is_link_local:
        return _("link-local")
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return _("reserved")  # 0.0.0.0 reaches the local host on Linux
    if address.is_private:
        return _("private")
    if not address.is_global:
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
