"""The Celery app (tasks are discovered in each app's ``tasks.py``) and ``enqueue``, the one
way code outside a task hands work to the queue."""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")

app = Celery("coworking")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue(task, *args, if_down: str = "", countdown: float | None = None) -> bool:
    """Send ``task(*args)`` to the queue (to run ``countdown`` seconds from now, if given);
    ``False`` (and a warning) if the broker is down.

    Work is always queued after the change it follows has committed, so a broker outage
    never undoes the change: it only delays the work until whatever catches up (a sweep,
    a person) runs it. ``if_down`` says what that is, for the log line.
    """
    try:
        task.apply_async(args, countdown=countdown)
    except Exception:
        logger.warning("Could not queue %s%r. %s", task.name, tuple(args), if_down, exc_info=True)
        return False
    return True
