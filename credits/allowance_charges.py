"""The document level allowances and charges a credit note credits (EN 16931 BG-20/BG-21).

Registered from ``credits.models``, as ``invoicing.allowance_charges`` is from invoicing's:
a cancel's credit note mirrors its invoice's rows (``mirroring``), written with the note and
never after, in its currency (the triggers below).
"""

from typing import TYPE_CHECKING

import pgtrigger
from django.db import models
from django.utils.translation import gettext_lazy as _

from coworking.allowances import DocumentAllowanceFields, document_allowance_constraints
from coworking.triggers import REFUSED, GuardTrigger, append_only

if TYPE_CHECKING:
    from credits.models import CreditNote


class CreditNoteAllowanceCharge(DocumentAllowanceFields):
    """A document level allowance or charge of the credited invoice, credited with it:
    the same kind, reason, VAT and amount (positive, as on the invoice: the note's type says
    it is credited). Written with the note, never after; in the note's currency."""

    credit_note = models.ForeignKey(
        "credits.CreditNote",
        on_delete=models.PROTECT,
        related_name="allowance_charges",
        verbose_name=_("credit note"),
    )

    class Meta(DocumentAllowanceFields.Meta):
        verbose_name = _("document discount or charge credited")
        verbose_name_plural = _("document discounts and charges credited")
        constraints = [
            *document_allowance_constraints("credit_note_allowance"),
            models.UniqueConstraint(
                fields=["credit_note", "position"], name="credit_note_allowance_position"
            ),
        ]
        triggers = [
            *append_only("credit_note_allowance"),
            GuardTrigger(
                name="credit_note_allowance_at_issue",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                func=f"""
                    IF NOT EXISTS (
                        SELECT 1 FROM credits_creditnote note
                        WHERE note.id = NEW.credit_note_id
                            AND note.created_at = transaction_timestamp()
                            AND note.currency = NEW.amount_currency
                    ) THEN
                        RAISE EXCEPTION 'A credit note''s discounts and charges are written with it, in its currency'
                            USING ERRCODE = '{REFUSED}';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    @classmethod
    def mirroring(cls, credit_note: "CreditNote") -> list["CreditNoteAllowanceCharge"]:
        """The rows (unsaved) that credit those of ``credit_note``'s invoice: a note on an
        invoice with document level discounts or charges cancels it (partial credits of
        such invoices are refused), so it credits every one of them as it was."""
        return [
            cls(
                credit_note=credit_note,
                **{name: getattr(row, name) for name in MIRRORED_ALLOWANCE_FIELDS},
            )
            for row in credit_note.invoice.allowance_charges.all()
        ]


MIRRORED_ALLOWANCE_FIELDS = (
    "position", "kind", "amount", "base_amount", "percent", "vat_category", "tax_rate",
    "reason", "reason_code",
)  # fmt: skip
