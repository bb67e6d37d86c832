from django.db import migrations

from coworking.triggers import location_prefix_fixed_once_used


class Migration(migrations.Migration):
    """A location's invoice prefix is fixed once an invoice is numbered with it."""

    dependencies = [
        ("invoicing", "0007_draft_totals"),
    ]

    operations = [
        location_prefix_fixed_once_used(prefix="invoice_prefix", table="invoicing_invoice"),
    ]
