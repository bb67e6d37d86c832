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
