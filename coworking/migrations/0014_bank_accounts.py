# Bank accounts of the locations (one per currency) and the customers' IBAN for refunds.

import coworking.banking.models
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0013_merge_single_line_texts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BankAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('currency', models.CharField(choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], max_length=3, verbose_name='currency')),
                ('account_holder', models.CharField(help_text="The name the account is held in, usually the location's legal name.", max_length=70, validators=[django.core.validators.RegexValidator('^[^\\x01-\\x1f\\x7f-\\x9f\\u2028\\u2029]*\\Z', code='not_single_line', message='Enter one line: no line breaks, tabs or other control characters.')], verbose_name='account holder')),
                ('iban', models.CharField(max_length=34, validators=[coworking.banking.models.validate_iban], verbose_name='IBAN')),
                ('bic', models.CharField(help_text="The bank's SWIFT code, 8 or 11 characters.", max_length=11, validators=[coworking.banking.models.validate_bic], verbose_name='BIC')),
            ],
            options={
                'verbose_name': 'bank account',
                'verbose_name_plural': 'bank accounts',
                'ordering': ['location', 'currency'],
            },
        ),
        migrations.AddField(
            model_name='customer',
            name='iban',
            field=models.CharField(blank=True, help_text="The customer's account: a credit note that refunds says it goes there.", max_length=34, validators=[coworking.banking.models.validate_iban], verbose_name='IBAN for refunds'),
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.CheckConstraint(condition=models.Q(('iban', ''), ('iban__regex', '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'), _connector='OR'), name='customer_iban_shape'),
        ),
        migrations.AddField(
            model_name='bankaccount',
            name='location',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='bank_accounts', to='coworking.location', verbose_name='location'),
        ),
        migrations.AddConstraint(
            model_name='bankaccount',
            constraint=models.UniqueConstraint(fields=('location', 'currency'), name='bank_account_one_per_location_currency', violation_error_message='The location already has a bank account in this currency.'),
        ),
        migrations.AddConstraint(
            model_name='bankaccount',
            constraint=models.CheckConstraint(condition=models.Q(('iban', ''), ('iban__regex', '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'), _connector='OR'), name='bank_account_iban_shape'),
        ),
        migrations.AddConstraint(
            model_name='bankaccount',
            constraint=models.CheckConstraint(condition=models.Q(('iban', ''), _negated=True), name='bank_account_iban_required'),
        ),
        migrations.AddConstraint(
            model_name='bankaccount',
            constraint=models.CheckConstraint(condition=models.Q(('bic__regex', '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$')), name='bank_account_bic_shape'),
        ),
        migrations.AddConstraint(
            model_name='bankaccount',
            constraint=models.CheckConstraint(condition=models.Q(('account_holder', ''), _negated=True), name='bank_account_holder_required'),
        ),
    ]
