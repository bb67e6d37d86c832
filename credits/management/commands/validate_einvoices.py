from django.core.management.base import BaseCommand, CommandError

from coworking.einvoice.document import Syntax
from credits.einvoice import einvoices_check


class Command(BaseCommand):
    help = (
        "Build every issued invoice and every credit note as an e-invoice (CII and UBL) and "
        "check it against the EN 16931 rules; exit 1 when any has a fatal finding."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--syntax", choices=Syntax.values, action="append", help="Only this syntax."
        )

    def handle(self, *args, syntax=None, **options):
        checked = failed = warnings = 0
        for check in einvoices_check(syntaxes=syntax or Syntax.values):
            checked += 1
            warnings += len(check.report.warnings)
            if check.report.valid:
                continue
            failed += 1
            self.stdout.write(
                self.style.ERROR(f"FAIL  {check.kind} {check.number} ({check.syntax})")
            )
            for problem in check.report.problems():
                self.stdout.write(f"      - {problem}")
        summary = f"{checked} documents checked, {failed} with fatal findings, {warnings} warnings."
        if failed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
