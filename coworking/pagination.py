"""The admin's paginator for tables that grow with the business (invoices, credit notes,
customers): it never counts a huge list row by row to draw the page links."""

import json
from typing import Any

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    """Counts exactly, except a list the planner expects to hold more than ``estimate_above``
    rows: there its estimate replaces a ``COUNT(*)`` that would read every row of the list
    (the unfiltered table: ``pg_class.reltuples``; a filtered or searched list: the row
    estimate of its plan). At a million invoices, counting the issued ones took about a
    second on every page of that filter; the estimate takes a plan.

    ``estimated`` says the count is the planner's, and the list says "about N"
    (``admin/pagination.html``): the page count may be slightly off. A list the planner
    expects to be small is counted exactly, so an estimate that is too low costs a count, never
    a wrong number under the threshold; on SQLite every list is counted. Pair it with
    ``show_full_result_count = False``, or the admin counts the table once more.
    """

    # Above this many rows, the page would pay more for its count than for its rows
    # (docs/benchmarks.md, "10k, 100k and 1M side by side").
    estimate_above = 10_000
    estimated = False

    @cached_property
    def count(self):
        estimate = self._planner_estimate()
        if estimate is not None and estimate > self.estimate_above:
            self.estimated = True
            return estimate
        return super().count

    def _planner_estimate(self) -> int | None:
        queryset: Any = self.object_list  # a QuerySet when it has a ``query``
        query = getattr(queryset, "query", None)
        if query is None or connection.vendor != "postgresql":
            return None
        if not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            return row[0] if row else None
        plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
