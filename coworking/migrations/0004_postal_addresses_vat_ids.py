# Structured postal addresses, VAT and registration ids, e-invoicing addresses and exchange
# rates. The free-text addresses are split into the new fields by 0005 and dropped by 0006.

import django_countries.fields
from django.db import migrations, models

class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0003_idempotency_key'),
    ]

    operations = [
        migrations.CreateModel(
            name='ExchangeRate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('currency', models.CharField(choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], max_length=3, verbose_name='from currency')),
                ('vat_currency', models.CharField(choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], max_length=3, verbose_name='to currency')),
                ('date', models.DateField(verbose_name='date')),
                ('rate', models.DecimalField(decimal_places=8, help_text='Units of the “to” currency for one unit of the “from” currency.', max_digits=18, verbose_name='rate')),
                ('source', models.CharField(blank=True, help_text='E.g. ECB.', max_length=100, verbose_name='source')),
            ],
            options={
                'verbose_name': 'exchange rate',
                'ordering': ['-date', 'currency', 'vat_currency'],
            },
        ),
        migrations.AddField(
            model_name='customer',
            name='buyer_reference',
            field=models.CharField(blank=True, help_text='Quoted on every invoice unless the invoice has its own (e.g. a PO).', max_length=100, verbose_name='buyer reference'),
        ),
        migrations.AddField(
            model_name='customer',
            name='city',
            field=models.CharField(blank=True, max_length=100, verbose_name='city'),
        ),
        migrations.AddField(
            model_name='customer',
            name='country',
            field=django_countries.fields.CountryField(default='', max_length=2, verbose_name='country'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='customer',
            name='electronic_address',
            field=models.CharField(blank=True, help_text='The Peppol participant identifier, without its scheme.', max_length=100, verbose_name='e-invoicing address'),
        ),
        migrations.AddField(
            model_name='customer',
            name='electronic_address_scheme',
            field=models.CharField(blank=True, choices=[('0002', '0002 FR SIRENE'), ('0009', '0009 FR SIRET'), ('0088', '0088 GLN'), ('0106', '0106 NL KvK'), ('0190', '0190 NL OIN'), ('0192', '0192 NO Enhetsregisteret'), ('0208', '0208 BE enterprise number'), ('0225', '0225 FR SIREN (Peppol)'), ('9906', '9906 IT VAT'), ('9914', '9914 AT VAT'), ('9920', '9920 ES VAT'), ('9925', '9925 BE VAT'), ('9930', '9930 DE VAT'), ('9932', '9932 GB VAT'), ('9938', '9938 LU VAT'), ('9944', '9944 NL VAT'), ('9957', '9957 FR VAT'), ('EM', 'EM e-mail address')], help_text='The Peppol EAS code of the address, e.g. 0208 (BE), 0106 (NL KvK).', max_length=4, verbose_name='e-invoicing address scheme'),
        ),
        migrations.AddField(
            model_name='customer',
            name='postcode',
            field=models.CharField(blank=True, max_length=16, verbose_name='postcode'),
        ),
        migrations.AddField(
            model_name='customer',
            name='registration_id',
            field=models.CharField(blank=True, help_text='Company register number (SIREN for a French company).', max_length=40, verbose_name='legal registration id'),
        ),
        migrations.AddField(
            model_name='customer',
            name='street_line1',
            field=models.CharField(blank=True, max_length=255, verbose_name='street'),
        ),
        migrations.AddField(
            model_name='customer',
            name='street_line2',
            field=models.CharField(blank=True, max_length=255, verbose_name='street (line 2)'),
        ),
        migrations.AddField(
            model_name='customer',
            name='street_line3',
            field=models.CharField(blank=True, max_length=255, verbose_name='street (line 3)'),
        ),
        migrations.AddField(
            model_name='location',
            name='city',
            field=models.CharField(blank=True, max_length=100, verbose_name='city'),
        ),
        migrations.AddField(
            model_name='location',
            name='country',
            field=django_countries.fields.CountryField(default='', max_length=2, verbose_name='country'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='location',
            name='electronic_address',
            field=models.CharField(blank=True, help_text='The Peppol participant identifier, without its scheme.', max_length=100, verbose_name='e-invoicing address'),
        ),
        migrations.AddField(
            model_name='location',
            name='electronic_address_scheme',
            field=models.CharField(blank=True, choices=[('0002', '0002 FR SIRENE'), ('0009', '0009 FR SIRET'), ('0088', '0088 GLN'), ('0106', '0106 NL KvK'), ('0190', '0190 NL OIN'), ('0192', '0192 NO Enhetsregisteret'), ('0208', '0208 BE enterprise number'), ('0225', '0225 FR SIREN (Peppol)'), ('9906', '9906 IT VAT'), ('9914', '9914 AT VAT'), ('9920', '9920 ES VAT'), ('9925', '9925 BE VAT'), ('9930', '9930 DE VAT'), ('9932', '9932 GB VAT'), ('9938', '9938 LU VAT'), ('9944', '9944 NL VAT'), ('9957', '9957 FR VAT'), ('EM', 'EM e-mail address')], help_text='The Peppol EAS code of the address, e.g. 0208 (BE), 0106 (NL KvK).', max_length=4, verbose_name='e-invoicing address scheme'),
        ),
        migrations.AddField(
            model_name='location',
            name='legal_form',
            field=models.CharField(blank=True, help_text='E.g. SAS, B.V., Ltd.', max_length=60, verbose_name='legal form'),
        ),
        migrations.AddField(
            model_name='location',
            name='postcode',
            field=models.CharField(blank=True, max_length=16, verbose_name='postcode'),
        ),
        migrations.AddField(
            model_name='location',
            name='rcs_city',
            field=models.CharField(blank=True, help_text='France: the city of the trade register (RCS) the company is entered in.', max_length=60, verbose_name='RCS city'),
        ),
        migrations.AddField(
            model_name='location',
            name='registration_id',
            field=models.CharField(blank=True, help_text='Company register number (KvK, Companies House, SIREN in France…).', max_length=40, verbose_name='legal registration id'),
        ),
        migrations.AddField(
            model_name='location',
            name='share_capital',
            field=models.DecimalField(blank=True, decimal_places=2, help_text="In the location's VAT currency; printed on French documents.", max_digits=14, null=True, verbose_name='share capital'),
        ),
        migrations.AddField(
            model_name='location',
            name='siret',
            field=models.CharField(blank=True, help_text="France: the establishment's SIRET.", max_length=14, verbose_name='SIRET'),
        ),
        migrations.AddField(
            model_name='location',
            name='street_line1',
            field=models.CharField(blank=True, max_length=255, verbose_name='street'),
        ),
        migrations.AddField(
            model_name='location',
            name='street_line2',
            field=models.CharField(blank=True, max_length=255, verbose_name='street (line 2)'),
        ),
        migrations.AddField(
            model_name='location',
            name='street_line3',
            field=models.CharField(blank=True, max_length=255, verbose_name='street (line 3)'),
        ),
        migrations.AddField(
            model_name='location',
            name='vat_currency',
            field=models.CharField(choices=[('EUR', 'EUR'), ('GBP', 'GBP'), ('USD', 'USD'), ('CHF', 'CHF')], default='', help_text='The currency of the VAT returns; invoices in another one also state their VAT in it, at the exchange rate of their issue date.', max_length=3, verbose_name='VAT currency'),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='customer',
            name='tax_id',
            field=models.CharField(blank=True, max_length=40, verbose_name='VAT id'),
        ),
        migrations.AlterField(
            model_name='location',
            name='tax_id',
            field=models.CharField(max_length=40, verbose_name='VAT id'),
        ),
        migrations.AddConstraint(
            model_name='exchangerate',
            constraint=models.UniqueConstraint(fields=('currency', 'vat_currency', 'date'), name='exchange_rate_once_a_day'),
        ),
        migrations.AddConstraint(
            model_name='exchangerate',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('currency', models.F('vat_currency')), _negated=True), ('rate__gt', 0)), name='exchange_rate_between_currencies'),
        ),
    ]
