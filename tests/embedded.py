"""Running ``manage.py`` on the embedded default (SQLite in a test's own folder, tasks
in-process, no Redis), as ``make run`` does, for tests of that mode."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def embedded_manage(tmp_path: Path, **extra_env: str):
    """A ``manage(*args)`` running in a subprocess on ``tmp_path``'s SQLite database; it
    returns the command's standard output and raises if it fails."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_DEBUG="1",
        PRIVATE_DOCUMENTS_ROOT=str(tmp_path / "private"),
        DJANGO_EMAIL_FILE_PATH=str(tmp_path / "mail"),
        **extra_env,
    )

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout

    return manage
