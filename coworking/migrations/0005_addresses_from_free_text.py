# Split the free-text addresses of locations and customers into street lines, postcode,
# city and country (coworking.addresses.parse_free_text keeps every word: what it cannot
# recognise stays in the street lines). The country comes from the address's last line,
# else from the VAT id's prefix, else (customers) from their location. A location's VAT
# currency starts as its default currency. Reversing writes the rendering back.

from django.db import migrations

from coworking.addresses import country_of_vat_id, parse_free_text, render_address

FIELDS = ("street_line1", "street_line2", "street_line3", "postcode", "city", "country")


def split_addresses(apps, schema_editor):
    Location = apps.get_model("coworking", "Location")
    Customer = apps.get_model("coworking", "Customer")
    countries = {}
    for location in Location.objects.all():
        parts = parse_free_text(location.address, fallback_country=country_of_vat_id(location.tax_id))
        for name, value in parts.items():
            setattr(location, name, value)
        location.vat_currency = location.default_currency
        location.save(update_fields=[*FIELDS, "vat_currency"])
        countries[location.pk] = location.country
    for customer in Customer.objects.all().iterator(chunk_size=2000):
        fallback = country_of_vat_id(customer.tax_id) or countries.get(customer.location_id, "")
        parts = parse_free_text(customer.billing_address, fallback_country=fallback)
        for name, value in parts.items():
            setattr(customer, name, value)
        customer.save(update_fields=list(FIELDS))


def join_addresses(apps, schema_editor):
    def rendering(party):
        return render_address(
            street_lines=[party.street_line1, party.street_line2, party.street_line3],
            postcode=party.postcode,
            city=party.city,
            country=party.country,
        )

    for location in apps.get_model("coworking", "Location").objects.all():
        location.address = rendering(location)
        location.save(update_fields=["address"])
    for customer in apps.get_model("coworking", "Customer").objects.all().iterator(chunk_size=2000):
        customer.billing_address = rendering(customer)
        customer.save(update_fields=["billing_address"])


class Migration(migrations.Migration):

    dependencies = [
        ("coworking", "0004_postal_addresses_vat_ids"),
    ]

    operations = [migrations.RunPython(split_addresses, join_addresses)]
