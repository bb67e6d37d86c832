"""The client's address behind ``TRUSTED_PROXY_COUNT`` proxies.

Each proxy appends the address it received the request from to ``X-Forwarded-For``; the
nearest one is ``REMOTE_ADDR``. Behind N proxies the client is therefore the N-th entry from
the right: what the outermost proxy saw. Everything to its left came from the client and is
ignored, so a spoofed leftmost entry changes nothing. With no proxy (the default) the header
is ignored entirely. A request carrying fewer entries than there are proxies did not come
through all of them (or the setting is wrong): its ``REMOTE_ADDR`` is used, never a value the
client wrote.

django-axes keys its lockouts on this address (``AXES_CLIENT_IP_CALLABLE``) and DRF its
anonymous throttles (``NUM_PROXIES``, the same rule).
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The address of whoever sent ``request``, as the trusted proxies saw it."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
