# The free-text addresses are now renderings of the structured fields (0005 split them).

import django.db.models.functions.comparison
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0005_addresses_from_free_text'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='customer',
            name='billing_address',
        ),
        migrations.RemoveField(
            model_name='location',
            name='address',
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.CheckConstraint(condition=models.Q(('country', ''), django.db.models.lookups.Regex(django.db.models.functions.comparison.Cast('country', output_field=models.CharField(max_length=2)), '^[A-Z]{2}$'), _connector='OR'), name='customer_country_code'),
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('electronic_address', ''), ('electronic_address_scheme', '')), models.Q(models.Q(('electronic_address_scheme', ''), _negated=True), models.Q(('electronic_address', ''), _negated=True)), _connector='OR'), name='customer_electronic_address_with_scheme'),
        ),
        migrations.AddConstraint(
            model_name='location',
            constraint=models.CheckConstraint(condition=models.Q(('country', ''), django.db.models.lookups.Regex(django.db.models.functions.comparison.Cast('country', output_field=models.CharField(max_length=2)), '^[A-Z]{2}$'), _connector='OR'), name='location_country_code'),
        ),
        migrations.AddConstraint(
            model_name='location',
            constraint=models.CheckConstraint(condition=models.Q(('share_capital__isnull', True), ('share_capital__gte', 0), _connector='OR'), name='location_share_capital_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='location',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('electronic_address', ''), ('electronic_address_scheme', '')), models.Q(models.Q(('electronic_address_scheme', ''), _negated=True), models.Q(('electronic_address', ''), _negated=True)), _connector='OR'), name='location_electronic_address_with_scheme'),
        ),
    ]
