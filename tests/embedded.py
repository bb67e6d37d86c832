"""Running ``manage.py`` in a subprocess, and on the embedded default (SQLite in a test's
own folder, tasks in-process, no Redis) as ``make run`` does, for tests of that mode."""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A SQLite database migrated once per test run, shared by the pytest-xdist workers (the run's
# id names its folder; a lock makes the others wait for the first): ``migrate`` of a database
# file that does not exist yet copies it instead of running every migration again (the first
# one still runs them all, so the migrations are proven on SQLite in every run). The copy is
# what ``migrate`` would leave (its ``post_migrate`` handlers, permissions, content types and
# triggers, do not depend on the test's environment), so no command runs for it: each
# ``manage.py`` start loads the whole project. ``migrate`` of a database that exists
# runs, as asked.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
_MIGRATED = Path(tempfile.gettempdir()) / f"cw-embedded-{_RUN}" / "migrated.sqlite3"


def run_manage(
    *args: str, env: dict, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    """``manage.py *args`` from the repository root with exactly ``env``, output captured."""
    database = env.get("DATABASE_URL", "")
    if args[:1] == ("migrate",) and database.startswith("sqlite:///"):
        target = Path(database.removeprefix("sqlite:///"))
        if not target.exists():
            _migrate_once(args[1:], env)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_MIGRATED, target)
            return subprocess.CompletedProcess([sys.executable, "manage.py", *args], 0, "", "")
    return _run(list(args), env, check=check, timeout=timeout)


def _migrate_once(options: tuple[str, ...], env: dict) -> None:
    _MIGRATED.parent.mkdir(parents=True, exist_ok=True)
    with open(_MIGRATED.parent / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _MIGRATED.exists():
            partial = _MIGRATED.with_suffix(".partial")
            _run(["migrate", *options], {**env, "DATABASE_URL": f"sqlite:///{partial}"})
            partial.replace(_MIGRATED)


def _run(
    args: list[str], env: dict, *, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def embedded_env(home: Path, **extra_env: str) -> dict:
    """The test process's environment as ``make run`` sees it without DATABASE_URL and
    REDIS_URL: DEBUG on, SQLite, documents and e-mails under ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_TASK_ALWAYS_EAGER",
            "DJANGO_SECRET_KEY",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}",
        PRIVATE_DOCUMENTS_ROOT=str(home / "private"),
        DJANGO_EMAIL_FILE_PATH=str(home / "mail"),
        **extra_env,
    )
    return env


def embedded_manage(home: Path, **extra_env: str):
    """A ``manage(*args)`` on the embedded default in ``home``; it returns the command's
    standard output and raises if the command fails."""
    env = embedded_env(home, **extra_env)
    return lambda *args: run_manage(*args, env=env).stdout
