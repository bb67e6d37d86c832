from django.db import migrations

from coworking.triggers import location_prefix_fixed_once_used


class Migration(migrations.Migration):
    """A location's credit-note prefix is fixed once a credit note is numbered with it."""

    dependencies = [
        ("credits", "0008_credit_within_invoice"),
    ]

    operations = [
        location_prefix_fixed_once_used(prefix="credit_note_prefix", table="credits_creditnote"),
    ]
