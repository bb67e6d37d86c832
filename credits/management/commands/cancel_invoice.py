from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coworking.errors import ApplicationError
from credits.services.issue import invoice_cancel
from invoicing.errors import InvoiceNotFound
from invoicing.models import Channel, Invoice


class Command(BaseCommand):
    help = "Cancel an issued invoice by its number: issues a credit note and credits the customer."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the invoice number, e.g. AMS-2026-000042")
        parser.add_argument(
            "--reason", default="", help="why it is cancelled (printed on the note)"
        )
        parser.add_argument("--user", default=None, help="username recorded as the actor")

    def handle(self, *args, number: str, reason: str, user: str | None, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"There is no user named {user!r}.")
        try:
            invoice_id = Invoice.objects.values_list("pk", flat=True).get(number=number.strip())
        except Invoice.DoesNotExist:
            raise CommandError(f"{InvoiceNotFound.default_message} ({number})") from None
        try:
            credit_note = invoice_cancel(
                invoice=invoice_id, actor=actor, reason=reason, channel=Channel.CLI
            )
        except ApplicationError as error:
            raise CommandError(f"{error.message} [{error.code}]") from None
        self.stdout.write(
            f"Cancelled {number}: credit note {credit_note.number} for {credit_note.total}."
        )
