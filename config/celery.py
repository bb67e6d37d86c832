"""The Celery app: its settings come from Django's (``CELERY_*``) and its tasks are discovered
in each app's ``tasks.py``. Code outside a task hands work to it through
``coworking.queue.enqueue``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("coworking")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The app of every thread too (Celery's current app is per thread): ``enqueue`` and the
# health probe use ``celery.current_app`` so that no domain app imports this package.
app.set_default()
app.autodiscover_tasks()
