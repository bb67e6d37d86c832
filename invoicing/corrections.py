"""The notes that correct an invoice (credit notes), as invoicing shows them.

Invoicing never names the app that issues them: that app registers where an invoice's
notes are read from and how (``register_corrections``, from its ``AppConfig.ready()``); with
none registered an invoice has no corrections.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from djmoney.money import Money


@dataclass(frozen=True)
class Correction:
    """A note correcting an invoice, with the URL name of its API detail (``api_view``)."""

    id: int
    number: str
    issue_date: datetime.date
    total: Money
    cancels_invoice: bool
    reason_code: str
    reason_label: str
    api_view: str


@dataclass(frozen=True)
class _Source:
    prefetch: str
    read: Callable[[object], list[Correction]]


_sources: list[_Source] = []


def register_corrections(*, prefetch: str, read: Callable[[object], list[Correction]]) -> None:
    """``prefetch`` is the path that loads an invoice's notes with a list of invoices;
    ``read(invoice)`` gives them (from that prefetch), newest first."""
    source = _Source(prefetch=prefetch, read=read)
    if source not in _sources:
        _sources.append(source)


def corrections_prefetch() -> list[str]:
    return [source.prefetch for source in _sources]


def invoice_corrections(invoice) -> list[Correction]:
    return [note for source in _sources for note in source.read(invoice)]
