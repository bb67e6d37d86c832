"""Django's ``makemessages`` for this project: strings marked with ``_lazy`` (the name some
modules give ``gettext_lazy`` beside ``_`` for ``gettext``) are collected too, and the
folders that hold no translatable source (the virtualenv, var/, tests, benchmarks, docs)
are skipped, so ``manage.py makemessages -l fr -l nl`` is the whole command. Entries carry
no source locations (``--no-location``): a catalog changes only where a text does, which
keeps the catalogs of parallel branches mergeable."""

from django.core.management.commands import makemessages

SKIPPED = [".venv", "var", "tests", "bench", "docs", "build", "static", "*.egg-info"]


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *SKIPPED]
        options["no_location"] = True
        return super().handle(*args, **options)
