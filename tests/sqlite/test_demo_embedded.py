"""The first start of the embedded demo as a new user sees it: the seed shows its progress
and one line saying where to log in (not a thousand log lines), no broker warning appears
without a broker, every start repeats the login, stopping ``make run`` is not an error, and
``make demo-reset`` gives a fresh demo."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

from tests.embedded import ROOT, embedded_env, run_manage
from tests.faults import free_port

SEED_OUTPUT_LINES_MAX = 8


def test_the_seed_prints_its_progress_and_one_login_line_and_no_broker_warning(tmp_path):
    env = embedded_env(tmp_path)  # tasks in-process, as make run has them; logs at INFO
    run_manage("migrate", "--noinput", "-v0", env=env)
    seeded = run_manage("seed_demo", "--invoices", "12", env=env)
    output = (seeded.stdout + seeded.stderr).splitlines()
    assert len(output) <= SEED_OUTPUT_LINES_MAX, output
    assert "No hostname was supplied" not in seeded.stderr
    [summary] = [line for line in output if "Demo login:" in line]
    assert summary.startswith("Seeded 3 locations, 64 customers, 12 invoices")
    assert "user 'admin' password 'admin'" in summary
    assert [line for line in output if line.startswith("Seeding the demo:")]

    again = run_manage("seed_demo", env=env)  # every later start says it again
    assert "Demo data already present" in again.stdout and "Demo login:" in again.stdout


def numbers_and_states(home: Path) -> list[tuple[str, str]]:
    """Every invoice's number and state, read from the demo's SQLite file in this process:
    what ``Invoice.objects.values_list`` gives in a ``manage.py shell``, without starting one."""
    with closing(sqlite3.connect(home / "db.sqlite3")) as database:
        return sorted(database.execute("SELECT number, state FROM invoicing_invoice"))


def test_demo_reset_erases_the_demo_and_seeds_it_afresh(tmp_path):
    env = embedded_env(tmp_path, LOG_LEVEL="ERROR", CELERY_TASK_ALWAYS_EAGER="0")
    run_manage("migrate", "--noinput", "-v0", env=env)
    run_manage("seed_demo", "--invoices", "8", env=env)
    fresh = numbers_and_states(tmp_path)
    number = next(number for number, state in fresh if state == "paid")
    run_manage("cancel_invoice", number, "--reason", "Played with the demo", env=env)
    assert numbers_and_states(tmp_path) != fresh

    refused = run_manage("demo_reset", "--yes", env={**env, "DJANGO_DEBUG": "0"}, check=False)
    assert refused.returncode != 0  # never outside a local run
    run_manage("demo_reset", "--yes", env=env)
    run_manage("migrate", "--noinput", "-v0", env=env)
    run_manage("seed_demo", "--invoices", "8", env=env)
    assert numbers_and_states(tmp_path) == fresh

    # make demo-reset runs those three steps.
    planned = subprocess.run(
        ["make", "-n", "demo-reset", "YES=1", f"VENV={sys.prefix}", "-o", f"{sys.prefix}/.installed"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "manage.py demo_reset --yes" in planned and "manage.py seed_demo" in planned


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} never answered")


def test_make_run_repeats_the_login_and_stops_on_ctrl_c_without_an_error(tmp_path):
    env = embedded_env(tmp_path, LOG_LEVEL="ERROR", CELERY_TASK_ALWAYS_EAGER="0")
    run_manage("migrate", "--noinput", "-v0", env=env)
    run_manage("seed_demo", "--invoices", "3", env=env)
    port = free_port()
    make_env = {key: value for key, value in env.items() if key != "CELERY_TASK_ALWAYS_EAGER"}
    make_env.pop("LOG_LEVEL")
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"VENV={sys.prefix}", "-o", f"{sys.prefix}/.installed"],
        cwd=ROOT, env=make_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
        # A worker of a parallel test run ignores SIGINT, and children inherit that; the
        # make of a terminal does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "Demo data already present" in output and "Demo login:" in output
    assert "No hostname was supplied" not in output and "AXES: BEGIN" not in output
    assert "Stopped." in output and "make: ***" not in output, output
    # Make itself, interrupted, ends by the signal; the recipe behind it ended cleanly.
    assert process.returncode in (0, -signal.SIGINT), output
    assert Path(tmp_path / "db.sqlite3").exists()
