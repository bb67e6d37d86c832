from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from djmoney.money import Money

from coworking.decimals import clean_decimal
from coworking.errors import ApplicationError
from credits.models import ReasonCode
from credits.services.issue import credit_note_issue
from credits.services.requests import Allocation, AmountCredit, LineCredit
from invoicing.errors import InvoiceNotFound
from invoicing.models import Channel, Invoice


def _number(text: str, *, what: str) -> Decimal:
    return clean_decimal(text.strip(), field=f"{what} {text!r}", error=CommandError)


class Command(BaseCommand):
    help = (
        "Credit part of an issued invoice by its number: quantities of its lines (by position) "
        "and/or a net amount at one of its tax rates; issues a credit note."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", help="the invoice number, e.g. AMS-2026-000042")
        parser.add_argument(
            "--line",
            action="append",
            default=[],
            metavar="POSITION:QUANTITY",
            help="credit QUANTITY of the line at POSITION (repeat for several lines)",
        )
        parser.add_argument(
            "--amount",
            metavar="VALUE@RATE",
            help="credit a net amount at a tax rate of the invoice, e.g. 50.00@21",
        )
        parser.add_argument("--description", default="", help="the amount line's description")
        parser.add_argument("--reason", default="", help="why (printed on the note)")
        parser.add_argument("--code", default=ReasonCode.OTHER, choices=ReasonCode.values)
        parser.add_argument("--refund", help="of the credit beyond what is due, pay back this")
        parser.add_argument("--settled-outside", help="... and this was settled outside")
        parser.add_argument("--user", default=None, help="username recorded as the actor")

    def handle(self, *args, number: str, line: list[str], amount: str | None, **options):
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"There is no user named {options['user']!r}.")
        try:
            invoice = Invoice.objects.only("pk", "currency").get(number=number.strip())
        except Invoice.DoesNotExist:
            raise CommandError(f"{InvoiceNotFound.default_message} ({number})") from None
        positions = dict(invoice.lines.values_list("position", "pk"))
        lines = []
        for spec in line:
            position, _, quantity = spec.partition(":")
            if not position.strip().isdigit() or int(position) not in positions:
                raise CommandError(f"Invoice {number} has no line at position {position!r}.")
            lines.append(
                LineCredit(positions[int(position)], _number(quantity, what="The quantity"))
            )
        amount_credit = None
        if amount:
            value, _, rate = amount.partition("@")
            amount_credit = AmountCredit(
                Money(_number(value, what="The amount"), invoice.currency),
                _number(rate, what="The tax rate"),
                options["description"],
            )

        def money(text):
            return None if not text else Money(_number(text, what="The amount"), invoice.currency)

        try:
            credit_note = credit_note_issue(
                invoice=invoice.pk,
                lines=lines,
                amount=amount_credit,
                reason=options["reason"],
                reason_code=options["code"],
                actor=actor,
                channel=Channel.CLI,
                allocation=Allocation(
                    refund=money(options["refund"]),
                    settled_outside=money(options["settled_outside"]),
                ),
            )
        except ApplicationError as error:
            raise CommandError(f"{error.message} [{error.code}]") from None
        cancelled = " (the invoice is now credited in full: cancelled)"
        self.stdout.write(
            f"Credited {number}: credit note {credit_note.number} for {credit_note.total}"
            f"{cancelled if credit_note.cancels_invoice else ''}."
        )
