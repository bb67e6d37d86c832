"""Django's ``compilemessages`` for this project: only the project's catalogs (locale/), not
the ones installed packages ship in the virtualenv."""

from django.core.management.commands import compilemessages

from coworking.management.commands.makemessages import SKIPPED


class Command(compilemessages.Command):
    def handle(self, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *SKIPPED, ".venv"]
        return super().handle(**options)
