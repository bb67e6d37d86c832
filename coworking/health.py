"""Health probes for load balancers and docker compose.

- ``GET /healthz``: the process answers (liveness); touches nothing else.
- ``GET /readyz``: the database, the Celery broker and the private document storage are
  reachable (readiness): 200, or 503 naming each failing part, e.g.
  ``{"database": "OK", "broker": "Unavailable: ...", "documents": "OK"}`` with
  ``Accept: application/json`` (plain text and HTML otherwise). The checks are
  django-health-check's; this module names them and picks the status code. The storage
  check writes, reads and deletes a file in every folder PDFs are written to (a folder that
  became read-only fails rendering while the storage's root is still writable).

``/readyz`` costs a database round trip, a broker connection and file writes, so it is not
for everyone: it answers requests that reach the process directly (no ``X-Forwarded-For``:
behind the proxy every client would otherwise come from the proxy's address) from
``READYZ_ALLOWED_NETWORKS``, or that carry ``Authorization: Bearer <READYZ_TOKEN>``; others
get a 403. One result serves all probes of a process for ``READYZ_CACHE_SECONDS``, and
probes wait for the one running check instead of running their own: readiness is a
property of the process (its connections), so the result is kept in the process.

Both are answered by ``HealthProbeMiddleware``, first in ``MIDDLEWARE``: a probe reaches the
process by its address (not a name in ``ALLOWED_HOSTS``) and over plain HTTP (no redirect to
https), and needs no session, language or CSRF handling.
"""

import contextlib
import dataclasses
import datetime
import hmac
import ipaddress
import threading
import time
import uuid

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
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
    """Write, read and delete a small file in each folder of the private ``documents``
    storage that PDFs are written to."""

    alias: str = "documents"

    def __repr__(self) -> str:
        return "documents"

    def run(self) -> None:
        from coworking.documents.models import pdf_folders

        for folder in pdf_folders():
            name = f"{folder}/.readyz-{uuid.uuid4().hex}"
            try:
                name = self.check_save(name, self.get_file_content())
                self.check_delete(name)
            except ServiceUnavailable as error:
                raise ServiceUnavailable(f"{folder}/: {error}") from error
            except Exception as error:
                raise ServiceUnavailable(f"{folder}/: {type(error).__name__}") from error
            finally:
                with contextlib.suppress(Exception):  # the failure above is the one to report
                    self.storage.delete(name)


class _Known:
    """A check result kept from an earlier probe, served as if just computed."""

    def __init__(self, result):
        self.result = result

    async def get_result(self, executor=None):
        return self.result


class _Cache:
    results: list | None = None
    expires: float = 0.0
    lock = threading.Lock()


class ReadinessView(HealthCheckView):
    checks = (Database, Broker, DocumentStorage)

    def get_checks(self):
        if _Cache.results is not None and time.monotonic() < _Cache.expires:
            self.from_cache = True
            return [_Known(result) for result in _Cache.results]
        self.from_cache = False
        return super().get_checks()

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if not self.from_cache:
            _Cache.results = list(self.results)
            _Cache.expires = time.monotonic() + settings.READYZ_CACHE_SECONDS
        if response.status_code == 500:  # django-health-check's "some check failed"
            response.status_code = 503
        return response


_readiness_view = async_to_sync(ReadinessView.as_view())


def readiness_allowed(request) -> bool:
    """A token from the environment, or a direct request from an allowed network."""
    token = settings.READYZ_TOKEN
    presented = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.READYZ_ALLOWED_NETWORKS)


def readiness(request) -> HttpResponse:
    if not readiness_allowed(request):
        return HttpResponseForbidden(
            "/readyz answers the configured addresses or a token.\n", content_type="text/plain"
        )
    with _Cache.lock:  # concurrent probes wait for one check rather than each running one
        return _readiness_view(request)


def readiness_cache_clear() -> None:
    """Forget the kept result (tests, and a process that wants a fresh answer)."""
    _Cache.results, _Cache.expires = None, 0.0


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
