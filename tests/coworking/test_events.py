"""The after-commit seam: in-transaction subscribers share the change's fate, the others run
only after a commit and cannot undo it."""

import pytest
from django.db import transaction

from coworking import events
from coworking.events import EventType


@pytest.fixture
def recorder(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", events.defaultdict(list))
    seen: list[tuple[str, str]] = []

    @events.subscribe(EventType.INVOICE_CANCELLED, in_transaction=True)
    def in_tx(event):
        seen.append(("in_transaction", event.instance))

    @events.subscribe(EventType.INVOICE_CANCELLED)
    def after(event):
        seen.append(("after_commit", event.instance))

    return seen


@pytest.mark.django_db(transaction=True)
def test_after_commit_subscribers_run_only_when_the_change_commits(recorder):
    with transaction.atomic():
        events.announce(type=EventType.INVOICE_CANCELLED, instance="A")
        assert recorder == [("in_transaction", "A")]
    assert recorder == [("in_transaction", "A"), ("after_commit", "A")]

    with pytest.raises(RuntimeError), transaction.atomic():
        events.announce(type=EventType.INVOICE_CANCELLED, instance="B")
        raise RuntimeError("rolled back")
    assert ("after_commit", "B") not in recorder


@pytest.mark.django_db(transaction=True)
def test_a_failing_after_commit_subscriber_neither_undoes_nor_stops_the_others(
    recorder, monkeypatch
):
    @events.subscribe(EventType.INVOICE_CANCELLED)
    def broken(event):
        raise ConnectionError("broker down")

    @events.subscribe(EventType.INVOICE_CANCELLED)
    def last(event):
        recorder.append(("last", event.instance))

    with transaction.atomic():
        events.announce(type=EventType.INVOICE_CANCELLED, instance="C")
    assert ("last", "C") in recorder


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError):
        events.announce(type="invoice.exploded", instance=None)
    with pytest.raises(ValueError):
        events.subscribe("invoice.exploded")


# --- What the services announce -------------------------------------------------------------


@pytest.fixture
def announced(monkeypatch):
    """Every event announced, as (type, instance, whether its change is already written in
    the announcing transaction); the apps' own subscribers stay registered."""
    copy = events.defaultdict(list, {k: list(v) for k, v in events._subscribers.items()})
    monkeypatch.setattr(events, "_subscribers", copy)
    seen = []

    @events.subscribe(*EventType.values, in_transaction=True)
    def record(event):
        instance = event.instance
        written = type(instance).objects.filter(pk=instance.pk).exists()
        seen.append((event.type, instance, written, transaction.get_connection().in_atomic_block))

    return seen


@pytest.mark.django_db
def test_issuing_and_paying_announce_inside_their_transaction(announced):
    from djmoney.money import Money

    from invoicing.models import Invoice, Payment
    from invoicing.services import invoice_issue, payment_record
    from tests.factories import draft_invoice

    invoice = invoice_issue(invoice=draft_invoice())
    payment = payment_record(invoice=invoice, amount=Money("10.00", invoice.currency))

    assert [(t, written, atomic) for t, _i, written, atomic in announced] == [
        (EventType.INVOICE_ISSUED, True, True),
        (EventType.PAYMENT_RECORDED, True, True),
    ]
    issued, paid = announced[0][1], announced[1][1]
    assert isinstance(issued, Invoice) and issued.number == invoice.number
    assert isinstance(paid, Payment) and paid.pk == payment.pk


@pytest.mark.django_db
def test_cancelling_announces_the_cancelled_invoice_and_the_new_credit_note(announced):
    from credits.models import CreditNote
    from credits.services import invoice_cancel
    from invoicing.models import Channel, Invoice
    from tests.factories import issued_invoice, staff_user

    invoice = issued_invoice()
    staff = staff_user()
    announced.clear()

    note = invoice_cancel(invoice=invoice, actor=staff, channel=Channel.ADMIN)

    assert [(t, written, atomic) for t, _i, written, atomic in announced] == [
        (EventType.INVOICE_CANCELLED, True, True),
        (EventType.CREDIT_NOTE_ISSUED, True, True),
    ]
    cancelled, issued = announced[0][1], announced[1][1]
    assert isinstance(cancelled, Invoice) and cancelled.pk == invoice.pk
    assert cancelled.state == Invoice.State.CANCELLED and cancelled.cancelled_by == staff
    assert isinstance(issued, CreditNote) and issued.pk == note.pk and issued.number


@pytest.mark.django_db
def test_a_refused_operation_announces_nothing(announced):
    from credits.errors import InvoiceIsDraft
    from credits.services import invoice_cancel
    from invoicing.models import Channel
    from tests.factories import draft_invoice

    draft = draft_invoice()
    with pytest.raises(InvoiceIsDraft):
        invoice_cancel(invoice=draft, actor=None, channel=Channel.CLI)
    assert announced == []


@pytest.mark.django_db
def test_storing_a_pdf_announces_it_ready(announced):
    from credits.documents import CREDIT_NOTE_DOCUMENT
    from credits.models import CreditNote
    from credits.services import invoice_cancel
    from invoicing.models import Channel
    from tests.factories import issued_invoice

    note = invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.CLI)
    announced.clear()

    CREDIT_NOTE_DOCUMENT.render_pdf(document=note)

    assert [(t, written) for t, _i, written, _a in announced] == [
        (EventType.CREDIT_NOTE_PDF_READY, True)
    ]
    ready = announced[0][1]
    assert isinstance(ready, CreditNote) and ready.pdf_status == CreditNote.PdfStatus.READY


@pytest.fixture
def queued(monkeypatch):
    """The names of the tasks handed to the queue (eagerly or to the broker), in order;
    none of them runs."""
    from celery.app.task import Task

    names: list[tuple[str, tuple]] = []

    def record(task, args=(), *rest, **options):
        names.append((task.name, tuple(args)))

    monkeypatch.setattr(Task, "apply", record)
    monkeypatch.setattr(Task, "apply_async", record)
    return names


def _pdf_tasks(queued):
    return [(name, args) for name, args in queued if name.endswith("_pdf")]


@pytest.mark.django_db(transaction=True)
def test_issuing_queues_exactly_one_pdf_task_after_commit(queued):
    """The issue queues its invoice's PDF itself, once, after commit and not before."""
    from invoicing.services import invoice_issue
    from tests.factories import draft_invoice

    draft = draft_invoice()
    with transaction.atomic():
        invoice = invoice_issue(invoice=draft)
        assert _pdf_tasks(queued) == []
    assert _pdf_tasks(queued) == [("invoicing.render_invoice_pdf", (invoice.pk,))]


@pytest.mark.django_db(transaction=True)
def test_cancelling_queues_exactly_one_pdf_task_after_commit(queued):
    """The cancel queues its credit note's PDF itself, once, after commit and not before;
    the cancelled invoice's PDF (rendered as issued) is not queued again."""
    from credits.services import invoice_cancel
    from invoicing.models import Channel
    from tests.factories import issued_invoice

    invoice = issued_invoice()
    queued.clear()
    with transaction.atomic():
        note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
        assert _pdf_tasks(queued) == []
    assert _pdf_tasks(queued) == [("credits.render_credit_note_pdf", (note.pk,))]
