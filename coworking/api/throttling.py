"""Throttles. Counters live in the cache (Redis when ``REDIS_URL`` is set), so every web
process shares them. Rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at
request time; a scope without a rate is not throttled.

- ``ReadThrottle`` (scope ``read``, a default throttle): reads per user.
- ``DocumentDownloadThrottle`` (scope ``document_download``): PDF downloads per user, on
  top of the read throttle: a PDF costs far more than a page of JSON.
- ``ScopedThrottle``: the view's ``throttle_scope`` per user (e.g. ``invoice_cancel``).

A throttle only protects: when its cache is down or hung it lets the request through and
logs a warning (it fails open), so a sick Redis never turns a request the database could
serve into an error. The cache's socket timeouts (``CACHES`` in the settings) bound how
long a hung Redis can delay a request.
"""

import logging

from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)

# What a cache that is down, refusing or hung raises (redis-py; OSError for sockets).
CACHE_UNAVAILABLE = (RedisError, OSError)


class FailOpen:
    """Let the request through, with a warning, when the throttle's cache fails."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_UNAVAILABLE:
            logger.warning(
                "Throttle %r let a request through: its cache is unavailable.",
                self.scope,
                exc_info=True,
            )
            return True


class ScopedThrottle(FailOpen, ScopedRateThrottle):
    """The view's ``throttle_scope``, per user when authenticated, per address otherwise."""


class UserThrottle(FailOpen, SimpleRateThrottle):
    """A fixed ``scope``, per user when authenticated, per address otherwise."""

    def get_cache_key(self, request, view):
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ReadThrottle(UserThrottle):
    scope = "read"

    def allow_request(self, request, view):
        if request.method not in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class DocumentDownloadThrottle(UserThrottle):
    scope = "document_download"
