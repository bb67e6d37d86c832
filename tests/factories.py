"""factory_boy factories; documents are made through the services, never by hand."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from djmoney.money import Money

from coworking.models import Customer, Location
from invoicing.services import LineInput, invoice_create_draft, invoice_issue, payment_record


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def staff_user(*, cancel: bool = True, credit: bool = False, **kwargs):
    """A staff user with the admin permissions on invoices, and ``cancel_invoice`` and
    ``issue_credit_note`` if asked."""
    user = UserFactory(is_staff=True, **kwargs)
    codenames = [
        "view_invoice",
        "change_invoice",
        "view_invoiceline",
        "view_payment",
        "view_creditnote",
        "view_customer",
    ]
    if cancel:
        codenames.append("cancel_invoice")
    if credit:
        codenames.append("issue_credit_note")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Space {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} Coworking B.V.")
    address = "Herengracht 100\n1015 BS Amsterdam"
    tax_id = factory.Sequence(lambda n: f"NL{n:09d}B01")
    default_currency = "EUR"
    default_tax_rate = Decimal("21.00")
    invoice_prefix = factory.Sequence(lambda n: f"I{n}")
    credit_note_prefix = factory.Sequence(lambda n: f"C{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    location = factory.SubFactory(LocationFactory)
    billing_name = factory.Sequence(lambda n: f"Member {n}")
    billing_email = factory.LazyAttribute(lambda o: f"member{o.billing_name[7:]}@example.com")
    billing_address = "1 Example Street"


def portal_member(*, location=None, members_may_cancel: bool | None = None, **kwargs):
    """A customer with a portal user (``customer.portal_user``); optionally sets the
    location's ``members_may_cancel`` policy."""
    location = location or LocationFactory()
    if members_may_cancel is not None and location.members_may_cancel != members_may_cancel:
        location.members_may_cancel = members_may_cancel
        location.save(update_fields=["members_may_cancel"])
    return CustomerFactory(location=location, portal_user=UserFactory(), **kwargs)


def lines(*specs, currency: str = "EUR") -> list[LineInput]:
    """``lines(("Desk", "1", "190.00", "21"), ...)`` → LineInputs with Decimals and Money."""
    return [
        LineInput(
            description=description,
            quantity=Decimal(quantity),
            unit_price=Money(Decimal(price), currency),
            tax_rate=Decimal(rate),
        )
        for description, quantity, price, rate in specs
    ]


DEFAULT_LINES = (
    ("Dedicated desk", "1", "320.00", "21"),
    ("Meeting room (hours)", "3", "35.00", "9"),
)


def draft_invoice(*, customer=None, specs=DEFAULT_LINES, currency=None):
    customer = customer or CustomerFactory()
    currency = currency or customer.location.default_currency
    return invoice_create_draft(
        customer=customer, lines=lines(*specs, currency=currency), currency=currency
    )


def issued_invoice(*, customer=None, specs=DEFAULT_LINES, currency=None, paid=None, **kwargs):
    """An issued invoice; ``paid`` ("all" or a Decimal string) records a payment too."""
    invoice = invoice_issue(
        invoice=draft_invoice(customer=customer, specs=specs, currency=currency), **kwargs
    )
    if paid:
        amount = invoice.amount_due if paid == "all" else Money(Decimal(paid), invoice.currency)
        payment_record(invoice=invoice, amount=amount)
        invoice.refresh_from_db()
    return invoice
