"""Throttles. Counters live in the cache (Redis when ``REDIS_URL`` is set), so every web
process shares them."""

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class ScopedThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` reading its rate from the settings at request time (so the
    rate follows ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` even when it is changed in
    tests), per user when authenticated, per address otherwise."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
