"""What the apps above ``coworking`` contribute to its reads and pages.

``coworking`` is the lowest app: it never names a higher one, in an import, a relation, a
look-up or a URL name. Where a page or a read of this app needs what a higher app knows
(which document a ledger entry was posted for, whether a location has numbered documents),
the higher app registers it here from its ``AppConfig.ready()``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LedgerSource:
    """How the app that posts entries of ``kinds`` reads the row each one was posted for.

    ``related`` are the ``select_related`` paths of that row from the entry (reverse
    relations of the app's own models); ``describe`` composes the entry's description in the
    active language; ``document`` gives the document shown for it on the customer page, with
    the name of its admin URL ("" when it has no page); ``number`` is the number of that
    document as the customer knows it (a payment's is its invoice's); ``about`` names the
    invoice a payment or a refund concerns ("" when none); ``api`` gives the values of the entry's API fields
    that name documents (``coworking.api.serializers.LEDGER_DOCUMENT_FIELDS``)."""

    kinds: tuple[str, ...]
    related: tuple[str, ...]
    describe: Callable[[Any], str]
    document: Callable[[Any], tuple[Any, str]]
    number: Callable[[Any], str]
    about: Callable[[Any], str]
    api: Callable[[Any], Mapping[str, Any]]


@dataclass
class _Registry:
    ledger_sources: dict[str, LedgerSource] = field(default_factory=dict)
    location_documents: list[Callable[[Any], bool]] = field(default_factory=list)
    customer_documents: list[Callable[[Any], bool]] = field(default_factory=list)


_registry = _Registry()


def register_ledger_source(source: LedgerSource) -> None:
    for kind in source.kinds:
        _registry.ledger_sources[kind] = source


def ledger_source(kind: str) -> LedgerSource | None:
    """The source registered for entries of ``kind`` (``None`` before the apps are ready)."""
    return _registry.ledger_sources.get(kind)


def ledger_related() -> list[str]:
    """Every registered source's ``select_related`` paths, each once."""
    paths = (path for source in _registry.ledger_sources.values() for path in source.related)
    return list(dict.fromkeys(paths))


def register_documents(
    *,
    of_location: Callable[[Any], bool],
    of_customer: Callable[[Any], bool],
) -> None:
    """Register an app's documents: whether a location has numbered ones (its prefixes are
    then printed and never change) and whether a customer has any (it is then kept)."""
    if of_location not in _registry.location_documents:
        _registry.location_documents.append(of_location)
    if of_customer not in _registry.customer_documents:
        _registry.customer_documents.append(of_customer)


def location_has_registered_documents(location) -> bool:
    return any(has(location) for has in _registry.location_documents)


def customer_has_registered_documents(customer) -> bool:
    return any(has(customer) for has in _registry.customer_documents)
