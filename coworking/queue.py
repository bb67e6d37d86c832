"""``enqueue``, the one way code outside a task hands work to the queue.

It publishes through the project's Celery app (``config.celery``, the current app once Django
is set up), so the domain apps never import the project configuration. Tasks are named
(``"credits.render_credit_note_pdf"``), so services and documents never import their app's
``tasks`` module: tasks are the thin edge that calls them, never the other way round."""

import logging
import os
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


def _forget_the_parents_pools() -> None:
    """A forked child (a worker of a prefork pool, a process a job forks) starts with pools
    of its own: kombu closes the parent's in the child, and a closed pool refuses every
    publish ("Acquire on closed pool"), which read as a broker down for the child's life."""
    global _lock
    _publish_pools.clear()
    _broker_down_until.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_the_parents_pools)


def _publish_pool(url: str) -> ConnectionPool:
    with _lock:
        if url not in _publish_pools:
            connection = app.connection_for_write(
                url, transport_options=settings.CELERY_PUBLISH_TRANSPORT_OPTIONS
            )
            _publish_pools[url] = connection.Pool(limit=settings.CELERY_PUBLISH_POOL_LIMIT)
        return _publish_pools[url]


def _run_in_thread(task: Task[Any, Any], args: tuple[Any, ...]) -> None:
    try:
        task.apply(args)
    finally:
        # The thread's own database connection, opened by the task.
        from django.db import connections

        connections.close_all()


def task_named(name: str) -> Task[Any, Any]:
    """The registered task called ``name``; the apps' ``tasks`` modules are imported
    (Celery's autodiscovery) the first time one is missing."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def enqueue(
    task: Task[Any, Any] | str,
    *args: Any,
    if_down: str = "",
    countdown: float | None = None,
    long_running: bool = False,
) -> bool:
    """Send ``task(*args)`` (a task or its name) to the queue (to run ``countdown`` seconds from now, if given);
    ``False`` (and a warning) if the broker is down.

    Work is always queued after the change it follows has committed, so a broker outage
    never undoes the change: it only delays the work until whatever catches up (a sweep,
    a person) runs it. ``if_down`` says what that is, for the log line.

    It never makes a request wait long on a sick broker: publishing uses its own short
    timeouts and no retries (``CELERY_PUBLISH_TRANSPORT_OPTIONS``), and after a failure the
    broker is skipped for ``CELERY_PUBLISH_BACKOFF`` seconds (every publish in that time
    returns ``False`` at once), so a bulk of N cancels waits one timeout, not N.

    Without a broker (the embedded default: tasks run in-process) a task runs at once, in
    the caller's thread; a ``long_running`` one (a bulk cancellation) runs in a thread of
    this process instead, so the request that started it answers at once, as it does with
    a worker. Its state lives in the database, so a page follows it the same way; a thread
    stopped with the server leaves its work resumable, as a lost worker's is.
    """
    if isinstance(task, str):
        task = task_named(task)
    if app.conf.task_always_eager:
        # No broker to talk to (``apply_async`` would open a connection to one all the same).
        if long_running:
            threading.Thread(
                target=_run_in_thread, args=(task, args), name=task.name, daemon=True
            ).start()
        else:
            task.apply(args)
        return True
    url = app.conf.broker_write_url or app.conf.broker_url
    if time.monotonic() < _broker_down_until.get(url, 0):
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
