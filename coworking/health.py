"""Health probes for load balancers and docker compose.

- ``GET /healthz``: the process answers (liveness); touches nothing else.
- ``GET /readyz``: the database, the Celery broker and the private document storage are
  reachable (readiness): 200, or 503 naming each failing part, e.g.
  ``{"database": "OK", "broker": "Unavailable: ...", "documents": "OK"}`` with
  ``Accept: application/json`` (plain text and HTML otherwise). The checks are
  django-health-check's; this module names them and picks the status code.

Both are answered by ``HealthProbeMiddleware``, first in ``MIDDLEWARE``: a probe reaches the
process by its address (not a name in ``ALLOWED_HOSTS``) and over plain HTTP (no redirect to
https), and needs no session, language or CSRF handling.
"""

import dataclasses
import datetime

from asgiref.sync import async_to_sync
from django.http import HttpResponse
from health_check import checks
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Database(checks.Database):
    """``SELECT 1`` on the default database."""

    def __repr__(self) -> str:
        return "database"


@dataclasses.dataclass
class Broker(HealthCheck):
    """A connection to the Celery broker, opened with the settings the cancel uses to queue
    its PDF (the same fail-fast timeouts)."""

    timeout = datetime.timedelta(seconds=3)

    def __repr__(self) -> str:
        return "broker"

    def run(self) -> None:
        from celery import current_app as app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as error:
            raise ServiceUnavailable(f"cannot connect ({type(error).__name__})") from error


@dataclasses.dataclass
class DocumentStorage(checks.Storage):
    """Write, read and delete a small file in the private ``documents`` storage (where the
    PDFs go)."""

    alias: str = "documents"

    def __repr__(self) -> str:
        return "documents"


class ReadinessView(HealthCheckView):
    checks = (Database, Broker, DocumentStorage)

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:  # django-health-check's "some check failed"
            response.status_code = 503
        return response


readiness = async_to_sync(ReadinessView.as_view())


def liveness(request) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


PROBES = {"/healthz": liveness, "/readyz": readiness}


class HealthProbeMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before any other middleware runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = probe(request)
        if hasattr(response, "render"):  # the HTML page (a browser's Accept): no handler here
            response.render()
        return response
