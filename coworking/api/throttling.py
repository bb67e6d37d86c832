"""Throttles. Counters live in the cache (Redis when ``REDIS_URL`` is set), so every web
process shares them.

A throttle only protects: when its cache is down or hung it lets the request through and
logs a warning (it fails open), so a sick Redis never turns a request the database could
serve into an error. The cache's socket timeouts (``CACHES`` in the settings) bound how
long a hung Redis can delay a request.
"""

import logging

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)

# What a cache that is down, refusing or hung raises (redis-py; OSError for sockets).
CACHE_UNAVAILABLE = (RedisError, OSError)


class ScopedThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` reading its rate from the settings at request time (so the
    rate follows ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` even when it is changed in
    tests), per user when authenticated, per address otherwise; fails open."""

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
