"""Safe defaults: DEBUG off unless asked, no start without a secret key, `check --deploy`
clean with the production environment docs/operations.md documents."""

import os
import re
import secrets
import subprocess
from pathlib import Path

from tests.embedded import run_manage

ROOT = Path(__file__).resolve().parents[2]
MISSING_KEY = "DJANGO_SECRET_KEY is not set: set it to a long random string"


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return run_manage(*args, env=env, check=False, timeout=120)


def bare_environment(**extra: str) -> dict:
    """The test process's environment without any DJANGO_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return {**env, **extra}


def readme_production_environment() -> dict:
    """The variables of the documented production environment block."""
    readme = (ROOT / "docs" / "operations.md").read_text()
    block = re.search(r"<!-- production-env -->\s*```sh\n(.*?)```", readme, re.S)
    assert block, "docs/operations.md has no production environment block"
    return dict(re.findall(r"^([A-Z_]+)=(\S*)", block.group(1), re.M))


def test_without_a_secret_key_and_debug_off_the_process_refuses_to_start_with_a_sentence():
    result = manage("check", env=bare_environment())

    assert result.returncode != 0
    assert result.stderr.strip().startswith(MISSING_KEY)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_is_off_unless_asked():
    code = "from django.conf import settings; print(settings.DEBUG)"
    key = secrets.token_urlsafe(50)
    off = manage("shell", "--no-imports", "-c", code, env=bare_environment(DJANGO_SECRET_KEY=key))
    on = manage("shell", "--no-imports", "-c", code, env=bare_environment(DJANGO_DEBUG="1"))

    assert off.stdout.strip() == "False", off.stderr
    assert on.stdout.strip() == "True", on.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment():
    documented = readme_production_environment()
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_HTTPS"} <= documented.keys()
    env = bare_environment(
        **{
            **documented,
            # Placeholders in the documentation: a real key, and this test run's services.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "REDIS_URL": os.environ["REDIS_URL"],
            "PRIVATE_DOCUMENTS_ROOT": str(ROOT / "var" / "private"),
        }
    )

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_https_settings_check_deploy_names_what_is_missing():
    env = bare_environment(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=os.environ["DATABASE_URL"],
    )

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr
