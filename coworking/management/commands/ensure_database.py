"""Make sure the configured database exists before ``migrate`` (``make run`` calls it).

On PostgreSQL a database that does not exist yet is created when the server lets this user
create one; otherwise the command stops with one sentence saying how. SQLite creates its
file by itself."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Create the PostgreSQL database of DATABASE_URL if it does not exist yet."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            return
        import psycopg2
        from psycopg2 import sql

        settings = connection.settings_dict
        where = f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}"
        params = {
            "user": settings["USER"] or None,
            "password": settings["PASSWORD"] or None,
            "host": settings["HOST"] or None,
            "port": settings["PORT"] or None,
            "connect_timeout": 5,
        }
        name = settings["NAME"]
        try:
            psycopg2.connect(dbname=name, **params).close()
            return
        except psycopg2.OperationalError as error:
            if f'database "{name}" does not exist' not in str(error):
                reason = " ".join(str(error).split())
                raise CommandError(
                    f"PostgreSQL at {where} refused the connection ({reason}): start it or fix "
                    "DATABASE_URL."
                ) from None
        try:
            admin = psycopg2.connect(dbname="postgres", **params)
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            admin.close()
        except psycopg2.Error as error:
            reason = " ".join(str(error).split())
            raise CommandError(
                f"The database {name!r} does not exist on {where} and could not be created "
                f"({reason}): create it with `createdb {name}` (or ask your database "
                "administrator), then run this again."
            ) from None
        self.stdout.write(f"Created the PostgreSQL database {name!r} on {where}.")
