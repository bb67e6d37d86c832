"""The document level allowances and charges of an invoice (EN 16931 BG-20/BG-21).

Registered from ``invoicing.models``. Written with the draft's lines by
``invoicing.services.drafts`` (``invoicing.document_allowances`` cleans them), frozen with
the invoice when it is issued: a trigger refuses any change to the rows of an issued
invoice and any row in another currency than its invoice's.
"""

import pgtrigger
from django.db import models
from django.utils.translation import gettext_lazy as _

from coworking.allowances import DocumentAllowanceFields, document_allowance_constraints
from coworking.triggers import REFUSED, GuardTrigger, no_truncate


class InvoiceAllowanceCharge(DocumentAllowanceFields):
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.CASCADE,
        related_name="allowance_charges",
        verbose_name=_("invoice"),
    )

    class Meta(DocumentAllowanceFields.Meta):
        verbose_name = _("document discount or charge")
        verbose_name_plural = _("document discounts and charges")
        constraints = [
            *document_allowance_constraints("invoice_allowance"),
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoice_allowance_position"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="allowance_frozen_after_issue",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.Before,
                func=pgtrigger.Func(
                    f"""
                    IF EXISTS (
                        SELECT 1 FROM invoicing_invoice
                        WHERE state <> 'draft' AND id IN (
                            CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.invoice_id END,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.invoice_id END
                        )
                    ) THEN
                        RAISE EXCEPTION 'Discounts and charges of an issued invoice cannot be changed'
                            USING ERRCODE = '{REFUSED}';
                    END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    IF NOT EXISTS (
                        SELECT 1 FROM invoicing_invoice
                        WHERE id = NEW.invoice_id AND currency = NEW.amount_currency
                    ) THEN
                        RAISE EXCEPTION 'A discount or charge is in its invoice''s currency'
                            USING ERRCODE = '{REFUSED}';
                    END IF;
                    RETURN NEW;
                    """
                ),
            ),
            no_truncate("invoice_allowance"),
        ]
