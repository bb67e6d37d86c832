"""``enqueue``, the one way code outside a task hands work to the queue.

It publishes through the project's Celery app (``config.celery``, the current app once Django
is set up), so the domain apps never import the project configuration."""

import logging
import threading
import time
from typing import Any

from celery import Task
from celery import current_app as app
from django.conf import settings
from kombu.connection import ConnectionPool

logger = logging.getLogger(__name__)


# Per process and broker URL: the connections publishing uses (with short timeouts), and
# until when (monotonic) the broker is taken for down after a failed publish, so that a
# sick broker costs one short timeout, not one per task.
_publish_pools: dict[str, ConnectionPool] = {}
_broker_down_until: dict[str, float] = {}
_lock = threading.Lock()


def _publish_pool(url: str) -> ConnectionPool:
    with _lock:
        if url not in _publish_pools:
            connection = app.connection_for_write(
                url, transport_options=settings.CELERY_PUBLISH_TRANSPORT_OPTIONS
            )
            _publish_pools[url] = connection.Pool(limit=settings.CELERY_PUBLISH_POOL_LIMIT)
        return _publish_pools[url]


def enqueue(task: Task[Any, Any], *args: Any, if_down: str = "", countdown: float | None = None) -> bool:
    """Send ``task(*args)`` to the queue (to run ``countdown`` seconds from now, if given);
    ``False`` (and a warning) if the broker is down.

    Work is always queued after the change it follows has committed, so a broker outage
    never undoes the change: it only delays the work until whatever catches up (a sweep,
    a person) runs it. ``if_down`` says what that is, for the log line.

    It never makes a request wait long on a sick broker: publishing uses its own short
    timeouts and no retries (``CELERY_PUBLISH_TRANSPORT_OPTIONS``), and after a failure the
    broker is skipped for ``CELERY_PUBLISH_BACKOFF`` seconds (every publish in that time
    returns ``False`` at once), so a bulk of N cancels waits one timeout, not N.
    """
    url = app.conf.broker_write_url or app.conf.broker_url
    if not app.conf.task_always_eager and time.monotonic() < _broker_down_until.get(url, 0):
        logger.warning(
            "Not queueing %s%r: the broker failed moments ago. %s", task.name, tuple(args), if_down
        )
        return False
    try:
        with _publish_pool(url).acquire(block=True, timeout=1) as connection:
            # The pooled connection (short timeouts) is handed on to the producer.
            options: dict[str, Any] = {"connection": connection, "retry": False}
            if countdown is not None:
                options["countdown"] = countdown
            task.apply_async(args, **options)
    except Exception:
        with _lock:
            _broker_down_until[url] = time.monotonic() + settings.CELERY_PUBLISH_BACKOFF
        logger.warning("Could not queue %s%r. %s", task.name, tuple(args), if_down, exc_info=True)
        return False
    return True
