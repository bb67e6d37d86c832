"""Drafts carry the totals of their lines (invoice_create_draft and invoice_draft_set_lines
keep them): compute them for drafts made before."""

from decimal import Decimal

from django.db import migrations


def draft_totals(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    InvoiceLine = apps.get_model("invoicing", "InvoiceLine")
    for invoice in Invoice.objects.filter(state="draft").iterator():
        net = tax = Decimal("0.00")
        for line_net, line_tax in InvoiceLine.objects.filter(invoice=invoice).values_list(
            "net", "tax"
        ):
            net += line_net
            tax += line_tax
        Invoice.objects.filter(pk=invoice.pk).update(net_total=net, tax_total=tax, total=net + tax)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0006_amount_credited")]

    operations = [migrations.RunPython(draft_totals, migrations.RunPython.noop)]
