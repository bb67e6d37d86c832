"""gunicorn settings of the web processes; gunicorn reads this file from the working
directory (the image's default command, the smoke test and bench/api.py all use it).

Each worker process runs threads (``gthread``) so that idle keep-alive connections of portal
backends and load balancers cost a socket, not a process, and a client that keeps its
connection pays TCP set-up once. Each thread keeps its own PostgreSQL connection between
requests when ``DATABASE_CONN_MAX_AGE`` is set (the image sets 60 s).
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # per container; scale out with replicas
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than the idle timeout of common load balancers (60 s), so they close first.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = 60
graceful_timeout = 30
# Import the app in the master: a configuration error (no secret key) stops gunicorn at once
# with its sentence instead of workers failing to boot in a loop.
preload_app = True


def pre_fork(server, worker):
    """Freeze what the master imported (the whole app, ``preload_app``) before each fork: the
    cyclic garbage collector of a worker then never scans those objects again (what a full
    pass over them costs an API request is in docs/benchmarks.md), and the pages holding
    them stay shared between workers instead of being copied."""
    gc.freeze()


# Recycle workers now and then, staggered, so none grows without bound.
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The heartbeat files of the workers live in memory, not on the container's disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
