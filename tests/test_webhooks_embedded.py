"""The embedded demo (``make run`` without DATABASE_URL: SQLite, tasks in-process) records
and delivers webhooks too: the outbox's PostgreSQL statement has a portable twin."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json
from credits.services import invoice_cancel
from tests.factories import issued_invoice
from tests.webhook_receiver import Receiver
from webhooks.models import Event
from webhooks.services import endpoint_create

with Receiver() as receiver:
    endpoint, secret = endpoint_create(
        url=receiver.url + "/hooks", event_types=["invoice.cancelled", "credit_note.issued"]
    )
    receiver.secrets.append(secret)
    invoice = issued_invoice()
    invoice_cancel(invoice=invoice, actor=None, channel="cli")
    print("RESULT", json.dumps({
        "received": sorted((item.type, item.verified) for item in receiver.received),
        "sequences": sorted(Event.objects.filter(invoice=invoice).values_list("sequence", flat=True)),
    }))
"""


def test_the_embedded_demo_records_and_delivers_webhooks(tmp_path):
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
        WEBHOOKS_ALLOW_LOOPBACK="1",
        LOG_LEVEL="WARNING",
    )

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout

    manage("migrate", "--noinput", "-v0")
    output = manage("shell", "-c", SCRIPT)
    result = json.loads(output.split("RESULT ", 1)[1])
    assert result["received"] == [["credit_note.issued", True], ["invoice.cancelled", True]]
    assert result["sequences"][:3] == [1, 2, 3]  # issued, cancelled, credit note issued
