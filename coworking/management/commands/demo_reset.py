"""Erase the local demo so that ``make demo-reset`` can seed it afresh (``migrate`` and
``seed_demo`` follow).

It erases everything: the database (the SQLite file; on PostgreSQL every table of the
``public`` schema, since issued documents and ledger entries refuse DELETE and TRUNCATE by
design) and the stored documents and e-mails. So it runs only with ``DEBUG`` on (``make``
sets it for local runs; production never has it) and, unless ``--yes`` is given, after
typing the database's name.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Erase the local demo's database and stored documents (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, yes: bool, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_reset erases the whole database: it runs on a local copy only, with "
                "DJANGO_DEBUG=1 (as make does)."
            )
        name = str(connection.settings_dict["NAME"])
        if not yes:
            answer = input(f"Erase the database {name} and its stored documents? Type its name: ")
            if answer.strip() != Path(name).name and answer.strip() != name:
                raise CommandError("Nothing erased: the name did not match.")
        if connection.vendor == "sqlite":
            connection.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(name + suffix).unlink(missing_ok=True)
        elif connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        else:
            raise CommandError(
                f"demo_reset does not know how to erase a {connection.vendor} database."
            )
        for directory in (settings.PRIVATE_DOCUMENTS_ROOT, settings.EMAIL_FILE_PATH):
            shutil.rmtree(directory, ignore_errors=True)
        self.stdout.write(f"Erased the demo ({name}); seeding it again.")
