import datetime
import sys

from django.core.management.base import BaseCommand, CommandError

from books.exports import Format, journal_export
from coworking.errors import ApplicationError
from coworking.models import Location


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Export a location's journal (FEC, CSV journal, DATEV) or its VAT summary."

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=Format.values)
        parser.add_argument("--location", required=True, help="the location's invoice prefix")
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--output", help="file to write (default: the export's own name; - for stdout)"
        )

    def handle(self, *args, **options):
        location = Location.objects.filter(invoice_prefix=options["location"]).first()
        if location is None:
            raise CommandError(f"No location has the invoice prefix {options['location']!r}.")
        try:
            export = journal_export(
                location=location,
                format=options["format"],
                start=_date(options["start"]),
                end=_date(options["end"]),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        output = options["output"] or export.filename
        if output == "-":
            for chunk in export.chunks:
                sys.stdout.buffer.write(chunk)
            return
        with open(output, "wb") as file:
            for chunk in export.chunks:
                file.write(chunk)
        self.stderr.write(f"Wrote {output}.")
