"""Reading a large table in bounded memory without a server-side cursor.

``in_chunks`` pages by primary key (``WHERE id > last ORDER BY id LIMIT n``): each chunk is
one short query, so it works where server-side cursors do not (behind a transaction-pooling
PgBouncer, ``DISABLE_SERVER_SIDE_CURSORS``), holds no snapshot across chunks, and reads each
chunk through the primary key's index: linear in the table, whatever its size.
"""

from collections.abc import Iterator

from django.db.models import Max, Min, Model, Q, QuerySet

CHUNK_SIZE = 2000


def in_chunks(queryset: QuerySet, *, size: int = CHUNK_SIZE) -> Iterator[list]:
    """Lists of at most ``size`` rows of ``queryset`` (model instances, or ``values_list``
    tuples whose first item is the primary key), in primary-key order. Prefetches of
    ``queryset`` run per chunk."""
    queryset = queryset.order_by("pk")
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        rows = list(page[:size])
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1].pk if isinstance(rows[-1], Model) else rows[-1][0]


def each(queryset: QuerySet, *, size: int = CHUNK_SIZE) -> Iterator:
    """The rows of ``in_chunks``, one by one."""
    for rows in in_chunks(queryset, size=size):
        yield from rows


class Ids:
    """A set of primary keys a query is narrowed to, written as a filter on any path that
    leads to them (``"pk"``, ``"invoice_id"``, ``"credit_note__invoice_id"``): every id
    (``Ids.ALL``), none (``Ids.NONE``: the part of a check that reads them is skipped), a
    half-open range ``after < id <= upto``, or a list."""

    ALL: "Ids"
    NONE: "Ids"

    def __init__(self, *, after=None, upto=None, among=None, empty: bool = False):
        self.after, self.upto, self.among, self.empty = after, upto, among, empty

    def __bool__(self) -> bool:
        return not self.empty

    def __repr__(self) -> str:
        if self.empty:
            return "Ids.NONE"
        if self.among is not None:
            return f"Ids({len(self.among)} ids)"
        return f"Ids({self.after} < id <= {self.upto})"

    def q(self, path: str) -> Q:
        if self.empty:
            return Q(pk__in=[])
        if self.among is not None:
            return Q(**{f"{path}__in": self.among})
        bounds = {}
        if self.after is not None:
            bounds[f"{path}__gt"] = self.after
        if self.upto is not None:
            bounds[f"{path}__lte"] = self.upto
        return Q(**bounds)


Ids.ALL = Ids()
Ids.NONE = Ids(empty=True)


def windows(*, upto: int | None, start: int = 1, size: int = CHUNK_SIZE) -> Iterator[Ids]:
    """``Ids`` ranges of ``size`` ids covering ``start..upto`` (nothing when ``upto`` is
    None): a table's ids start where its sequence stood when the first row came, not at 1."""
    for after in range(start - 1, upto or 0, size):
        yield Ids(after=after, upto=after + size)


def batches(ids, *, size: int = CHUNK_SIZE) -> Iterator[Ids]:
    """``Ids`` lists of at most ``size`` of ``ids``, sorted."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield Ids(among=ordered[start : start + size])


def walked(ids: Ids, *, model: type[Model], size: int = CHUNK_SIZE) -> Iterator[Ids]:
    """``ids`` itself, or when it is ``Ids.ALL`` the ``windows`` of ``model``'s ids from its
    lowest to its highest: a check that holds something per id (per customer) holds one
    window's, whatever the table; rows added after the span was read are left to the next
    run."""
    if ids is not Ids.ALL:
        yield ids
        return
    span = model._default_manager.aggregate(low=Min("pk"), high=Max("pk"))
    yield from windows(start=span["low"] or 1, upto=span["high"], size=size)
