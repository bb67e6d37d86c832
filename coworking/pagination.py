"""The admin's paginator for tables that grow with the business (invoices, credit notes,
customers): it never counts a whole huge table to draw the page links."""

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    """Counts exactly, except the unfiltered list of a huge table: there the planner's row
    estimate (``pg_class.reltuples``) replaces a full ``COUNT(*)`` that would scan it all.

    The page count may then be slightly off; filtered lists (search, filters) count exactly,
    and so does every list on SQLite or under ``estimate_above`` rows. Pair it with
    ``show_full_result_count = False``, or the admin counts the table once more.
    """

    estimate_above = 100_000

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.estimate_above:
                return row[0]
        return super().count
