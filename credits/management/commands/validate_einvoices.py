from django.core.management.base import BaseCommand, CommandError

from coworking.einvoice.document import Syntax
from credits.einvoice import einvoices_check


class Command(BaseCommand):
    help = (
        "Build every issued invoice and every credit note as an e-invoice (CII and UBL) and "
        "check it against the EN 16931 rules (with --peppol, the UBL of every document to "
        "a business with a Peppol address against the Peppol BIS Billing 3.0 rules too); "
        "exit 1 when any has a fatal finding."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--syntax", choices=Syntax.values, action="append", help="Only this syntax."
        )
        parser.add_argument(
            "--peppol",
            action="store_true",
            help="Also check business documents' UBL against the Peppol BIS Billing 3.0 rules.",
        )

    def handle(self, *args, syntax=None, peppol=False, **options):
        checked = failed = warnings = 0
        for check in einvoices_check(syntaxes=syntax or Syntax.values, peppol=peppol):
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
