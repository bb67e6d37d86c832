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

On Redis each check is one round trip (``SlidingWindowThrottle``): DRF's own throttle reads
the user's request history and writes it back, two round trips and a pickled list, and two
concurrent requests can both read the same history and count once.
"""

import logging
import uuid

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)

# What a cache that is down, refusing or hung raises (redis-py; OSError for sockets).
CACHE_UNAVAILABLE = (RedisError, OSError)

# DRF's sliding window, atomically in Redis. KEYS[1]: the times of the requests let through
# (a sorted set); ARGV: now, the window (s), the limit, a member unique to this request.
# Returns {1, count} when let through (and recorded), {0, count, oldest time} when not.
_SLIDING_WINDOW = Script(
    None,
    b"""
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(window))
  return {1, count + 1}
end
return {0, count, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
""",
)


class SlidingWindowThrottle(SimpleRateThrottle):
    """DRF's throttle (at most ``num_requests`` in any ``duration`` seconds, refused requests
    not counted) in one Redis round trip; on another cache (the embedded mode's local
    memory) DRF's own get and set."""

    cache_format = "throttle_log_%(scope)s_%(ident)s"  # a sorted set, not DRF's pickled list

    def allow_request(self, request, view):
        backend = caches[DEFAULT_CACHE_ALIAS]
        if self.rate is None or not isinstance(backend, RedisCache):
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = backend.make_and_validate_key(self.key)
        self.now = self.timer()
        allowed, *self._count_and_oldest = _SLIDING_WINDOW(
            keys=[key],
            args=[self.now, self.duration, self.num_requests, uuid.uuid4().hex],
            client=backend._cache.get_client(key, write=True),
        )
        return bool(allowed)

    def wait(self):
        if not hasattr(self, "_count_and_oldest"):
            return super().wait()
        count, oldest = self._count_and_oldest
        available_requests = self.num_requests - count + 1
        if available_requests <= 0:
            return None
        return (self.duration - (self.now - float(oldest))) / available_requests


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


class ScopedThrottle(FailOpen, ScopedRateThrottle, SlidingWindowThrottle):
    """The view's ``throttle_scope``, per user when authenticated, per address otherwise."""


class UserThrottle(FailOpen, SlidingWindowThrottle):
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
