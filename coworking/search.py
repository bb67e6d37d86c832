"""Indexes behind the admin's searches and filters on tables that grow with the business.

The admin searches with ``icontains`` (``UPPER(column::text) LIKE UPPER('%term%')``): staff
type part of a name ("Vries" for "de Vries") or the tail of a number ("2025-000123"), which
a prefix search would miss. A trigram index (PostgreSQL's ``pg_trgm``, GIN) on exactly that
expression answers such a ``LIKE`` without reading the table. SQLite (the embedded default)
has neither: the migrations add these indexes on PostgreSQL only
(``coworking.migration_ops.PostgresOnlyAddIndex``).
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db.models import F
from django.db.models.functions import Upper


def trigram_index(field: str, *, name: str) -> GinIndex:
    """A trigram index on ``UPPER(field::text)``, the expression ``icontains`` compares."""
    # ``UPPER(varchar)`` casts to text implicitly; PostgreSQL matches it to the query's
    # explicit ``::text`` (casts between the two are the same expression to the planner).
    return GinIndex(OpClass(Upper(F(field)), name="gin_trgm_ops"), name=name)
