"""``enqueue`` in a forked process (a prefork worker, a job's process) publishes through a
pool of its own: the parent's, which kombu closes in the child, refused every publish."""

import multiprocessing

from config.celery import app
from coworking import queue

TASK = "invoicing.purge_prepared_statements"  # any registered task: nothing consumes it here


def publish_in_child(results) -> None:
    results.put(queue.enqueue(TASK, if_down="(test)"))


def test_a_forked_child_publishes_after_its_parent_did():
    app.control.purge()
    assert queue.enqueue(TASK, if_down="(test)") is True  # the parent's pool exists now
    results = multiprocessing.get_context("fork").SimpleQueue()
    child = multiprocessing.get_context("fork").Process(target=publish_in_child, args=(results,))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    assert results.get() is True
    with app.connection_for_write() as connection:
        waiting = connection.default_channel.queue_declare(queue="celery", passive=True)
    assert waiting.message_count == 2  # the parent's and the child's
    app.control.purge()
