"""Running ``manage.py`` in a subprocess, and on the embedded default (SQLite in a test's
own folder, tasks in-process, no Redis) as ``make run`` does, for tests of that mode."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A SQLite database migrated once per test process: ``migrate`` of a database file that does
# not exist yet copies it instead of running every migration again (the first one still runs
# them all, so the migrations are proven on SQLite in every run).
_MIGRATED = Path(tempfile.mkdtemp(prefix="cw-embedded-")) / "migrated.sqlite3"


def run_manage(
    *args: str, env: dict, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    """``manage.py *args`` from the repository root with exactly ``env``, output captured."""
    database = env.get("DATABASE_URL", "")
    if args[:1] == ("migrate",) and database.startswith("sqlite:///"):
        target = Path(database.removeprefix("sqlite:///"))
        if not target.exists():
            if not _MIGRATED.exists():
                _run(["migrate", *args[1:]], {**env, "DATABASE_URL": f"sqlite:///{_MIGRATED}"})
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_MIGRATED, target)
    return _run(list(args), env, check=check, timeout=timeout)


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
