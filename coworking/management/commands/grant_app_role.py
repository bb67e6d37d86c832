"""Give the application's database role its privileges (``coworking.database_roles``).

Run as the owner role, after ``migrate``; the role is named on the command line or by
``DATABASE_APP_ROLE``. With ``--create`` a missing role is created with the password in
``DATABASE_APP_PASSWORD`` (never on the command line, where other users can read it).
"""

import os

from django.core.management.base import BaseCommand, CommandError

from coworking.database_roles import RoleRefused, app_role_grant


class Command(BaseCommand):
    help = (
        "Grant the application's role (ROLE or DATABASE_APP_ROLE) SELECT, INSERT, UPDATE and "
        "DELETE on the tables and USAGE on the sequences; run it as the owner after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", nargs="?", default=os.environ.get("DATABASE_APP_ROLE", ""))
        parser.add_argument(
            "--create",
            action="store_true",
            help="Create the role when it does not exist, with DATABASE_APP_PASSWORD.",
        )

    def handle(self, *args, role: str, create: bool, **options):
        if not role:
            raise CommandError("Name the application's role: an argument or DATABASE_APP_ROLE.")
        password = os.environ.get("DATABASE_APP_PASSWORD", "") if create else ""
        if create and not password:
            raise CommandError("--create needs the new role's password in DATABASE_APP_PASSWORD.")
        try:
            done = app_role_grant(role=role, password=password or None)
        except RoleRefused as error:
            raise CommandError(str(error)) from None
        for sentence in done:
            self.stdout.write(sentence)
