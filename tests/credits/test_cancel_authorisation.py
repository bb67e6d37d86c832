"""Who may cancel, checked by ``invoice_cancel`` itself on the locked invoice, whatever the
surface: the rule holds for the command line and direct calls as for the API and admin."""

import pytest
from django.core.management import CommandError, call_command
from djmoney.money import Money

from credits.errors import CancelNotAllowed, InvoiceAlreadyCancelled, InvoiceIsDraft, InvoicePaid
from credits.models import CreditNote
from credits.policies import CANCELLABLE_STATES, cancel_refusal
from credits.services import invoice_cancel, invoices_cancel_each
from invoicing.errors import InvoiceNotFound
from invoicing.models import Channel, Invoice
from invoicing.services import payment_record
from tests.factories import UserFactory, issued_invoice, portal_member, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def assert_unchanged(invoice):
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED
    assert not CreditNote.objects.filter(invoice=invoice).exists()


@pytest.mark.parametrize("channel", [Channel.ADMIN, Channel.ADMIN_BULK, Channel.CLI, Channel.API])
def test_a_user_without_the_permission_is_refused_on_every_channel(channel):
    invoice = issued_invoice()
    for user in (UserFactory(), staff_user(cancel=False)):
        with pytest.raises(CancelNotAllowed):
            invoice_cancel(invoice=invoice, actor=user, channel=channel)
    assert_unchanged(invoice)


def test_staff_with_the_permission_and_the_system_may_cancel_on_any_channel():
    for channel in Channel.values:
        invoice_cancel(invoice=issued_invoice(), actor=staff_user(), channel=channel)
        invoice_cancel(invoice=issued_invoice(), actor=None, channel=channel)
    assert CreditNote.objects.count() == 2 * len(Channel.values)


def test_members_cancel_only_through_the_api_where_their_location_allows():
    member = portal_member(members_may_cancel=True)
    invoice = issued_invoice(customer=member)
    with pytest.raises(CancelNotAllowed):
        invoice_cancel(invoice=invoice, actor=member.portal_user, channel=Channel.CLI)
    other = portal_member(location=member.location)
    with pytest.raises(CancelNotAllowed):  # not their invoice
        invoice_cancel(invoice=invoice, actor=other.portal_user, channel=Channel.API)
    assert_unchanged(invoice)

    note = invoice_cancel(invoice=invoice, actor=member.portal_user, channel=Channel.API)
    assert note.created_by == member.portal_user and note.channel == "api"

    strict = portal_member(members_may_cancel=False)
    elsewhere = issued_invoice(customer=strict)
    with pytest.raises(CancelNotAllowed, match="only be cancelled by its staff"):
        invoice_cancel(invoice=elsewhere, actor=strict.portal_user, channel=Channel.API)
    assert_unchanged(elsewhere)


def test_the_unpaid_rule_reads_the_locked_row_not_the_callers_copy():
    member = portal_member(members_may_cancel=True)
    stale = issued_invoice(customer=member)
    fresh = Invoice.objects.get(pk=stale.pk)
    payment_record(invoice=fresh, amount=Money("1.00", fresh.currency))
    assert stale.amount_paid.amount == 0  # the caller's copy still says "nothing paid"

    with pytest.raises(InvoicePaid):
        invoice_cancel(invoice=stale, actor=member.portal_user, channel=Channel.API)
    assert not CreditNote.objects.filter(invoice=stale).exists()


def test_the_command_line_checks_the_user_it_records():
    invoice = issued_invoice()
    clerk = UserFactory()
    with pytest.raises(CommandError, match=r"not allowed.*\[cancel_not_allowed\]"):
        call_command("cancel_invoice", invoice.number, "--user", clerk.username)
    assert_unchanged(invoice)

    staff = staff_user()
    call_command("cancel_invoice", invoice.number, "--user", staff.username)
    assert Invoice.objects.get(pk=invoice.pk).cancelled_by == staff


def test_a_bulk_run_reports_refusals_of_the_actor_as_failures_not_skips():
    invoice = issued_invoice()
    (result,) = invoices_cancel_each(
        invoice_ids=[invoice.pk], actor=UserFactory(), channel=Channel.ADMIN_BULK
    )
    assert result.outcome == "failed" and "not allowed" in result.message
    assert_unchanged(invoice)


# --- The one rule of what can be cancelled ------------------------------------------------------


def test_every_state_is_cancellable_or_has_its_refusal_with_a_skip_text():
    for state in Invoice.State.values:
        refusal = cancel_refusal(invoice=Invoice(pk=7, state=state, number="X-1"))
        assert (refusal is None) == (state in CANCELLABLE_STATES)
        if refusal is not None:
            assert refusal.code and refusal.message and refusal.skip_reason
    assert set(CANCELLABLE_STATES) == {"issued", "partially_paid", "paid"}
    assert isinstance(cancel_refusal(invoice=Invoice(state="draft")), InvoiceIsDraft)
    assert isinstance(cancel_refusal(invoice=Invoice(state="cancelled")), InvoiceAlreadyCancelled)
    assert InvoiceNotFound.skip_reason  # a vanished invoice is skipped too
