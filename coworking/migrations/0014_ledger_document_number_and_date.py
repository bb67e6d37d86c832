"""Ledger entries keep the number of the invoice they concern and the date of their
document; the rule tying each kind to its sign stands alone. Which row each entry was
posted for is held by the apps above (each document points at its entry): their migrations
fill these fields on existing rows (the date below is only a placeholder for them)."""

import datetime

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0013_merge_single_line_texts'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerentry',
            name='document_number',
            field=models.CharField(blank=True, help_text='The number of the invoice the entry concerns, as posted (none for a refund of account credit).', max_length=32, verbose_name='document number'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='document_date',
            field=models.DateField(default=datetime.date(2000, 1, 1), help_text="The date of the entry's document: its issue, receipt or refund day.", verbose_name='document date'),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0), ('kind', 'invoice')) | models.Q(('amount__lt', 0), ('kind__in', ['payment', 'credit_note'])) | models.Q(('amount__gt', 0), ('kind__in', ['refund', 'settled_outside'])), name='ledger_kind_and_sign'),
        ),
    ]
