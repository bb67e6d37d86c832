"""The API's two paginations.

``StandardPagination``, page numbers: ``?page=N`` (from 1) and ``?page_size=N`` (default 50,
at most 200). A page past the end is a 404 problem; a ``page_size`` that is not a whole number
from 1 to 200 is a 422 (not silently replaced by the default). Responses carry ``count``,
``next``, ``previous`` and ``results``. Its cost grows with the page number (an ``OFFSET``)
and each page counts every row: kept for lists bounded by one customer's history.

``KeysetPagination``, cursors, for the lists that grow with the whole business (invoices,
credit notes): ``?cursor=…`` (opaque, from a response's ``next`` / ``previous`` link) and
``?page_size=N``. A page is the rows after (or before) the position of the previous page's
last (or first) row in the list's order, which ends on the unique id: read through an index
on that order, it costs the same on page 1 and on page 1,000, and a row inserted between
two requests is neither shown twice nor skipped (a new row lands before the first page).
Responses carry ``next``, ``previous`` and ``results``, no ``count``. A cursor that does
not decode is a 422 on ``cursor``.

Clients of the page-number version keep working for now: a request to a keyset list with
``page`` gets the page-number response (with ``count``) and a ``Deprecation`` header.
"""

import base64
import binascii
import datetime
import json

from django.core.exceptions import ValidationError as FieldValueError
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _page_size(request, *, param: str, default: int, maximum: int) -> int:
    value = request.query_params.get(param)
    if value is None:
        return default
    field = serializers.IntegerField(min_value=1, max_value=maximum)
    try:
        return field.run_validation(value)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({param: error.detail}) from None


def _page_size_parameter(parameter: dict) -> dict:
    return {
        **parameter,
        "schema": {**parameter["schema"], "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "description": str(
            _("Results per page, from 1 to %(max)s (default %(default)s).")
            % {"max": MAX_PAGE_SIZE, "default": PAGE_SIZE}
        ),
    }


class StandardPagination(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _page_size(
            request,
            param=self.page_size_query_param,
            default=self.page_size,
            maximum=self.max_page_size,
        )

    def get_schema_operation_parameters(self, view):
        return [
            _page_size_parameter(parameter)
            if parameter["name"] == self.page_size_query_param
            else parameter
            for parameter in super().get_schema_operation_parameters(view)
        ]


class KeysetPagination(BasePagination):
    """Cursor pagination over ``view.keyset_ordering``: field names, each descending (the
    lists are newest first), the last one the unique ``id``. Only the first may be null
    (a draft's issue date); its nulls come first, as PostgreSQL's descending indexes hold
    them. The position compares as a row value, ``(issue_date, id) < (%s, %s)``, which
    PostgreSQL answers as one index range (Django's tuple lookups, the ones composite
    primary keys use, write it)."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    legacy_page_query_param = "page"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.legacy = None
        if self.legacy_page_query_param in request.query_params:
            self.legacy = StandardPagination()
            return self.legacy.paginate_queryset(queryset, request, view)
        fields = list(view.keyset_ordering)
        size = _page_size(
            request, param=self.page_size_query_param, default=self.page_size, maximum=MAX_PAGE_SIZE
        )
        cursor = self._decode(request.query_params.get(self.cursor_query_param), queryset, fields)
        backwards = cursor is not None and cursor["backwards"]
        if cursor is not None:
            queryset = queryset.filter(self._beyond(fields, cursor["position"], backwards))
        rows = list(queryset.order_by(*self._ordering(fields, backwards))[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        self.fields = fields
        self.has_next = bool(rows) and (backwards or more)
        self.has_previous = bool(rows) and (more if backwards else cursor is not None)
        self.rows = rows
        return rows

    @staticmethod
    def _ordering(fields, backwards):
        first, *rest = fields
        if backwards:
            return [F(first).asc(nulls_last=True), *(F(name).asc() for name in rest)]
        return [F(first).desc(nulls_first=True), *(F(name).desc() for name in rest)]

    @staticmethod
    def _beyond(fields, position, backwards) -> Q:
        """The rows after ``position`` in the list's order (before it, ``backwards``)."""
        first, *rest = fields
        compare = TupleGreaterThan if backwards else TupleLessThan
        if position[0] is None:  # in the leading nulls: compare the rest among them
            among_nulls = Q(
                compare([F(name) for name in rest], position[1:]), **{f"{first}__isnull": True}
            )
            return among_nulls if backwards else among_nulls | Q(**{f"{first}__isnull": False})
        after = Q(compare([F(name) for name in fields], position))
        return after | Q(**{f"{first}__isnull": True}) if backwards else after

    def _decode(self, value, queryset, fields):
        if value is None:
            return None
        try:
            padded = value + "=" * (-len(value) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            model = queryset.model
            position = [
                None
                if raw is None and index == 0
                else model._meta.get_field(name).clean(raw, None)  # in the column's range too
                for index, (name, raw) in enumerate(zip(fields, data["p"], strict=True))
            ]
            if any(item is None for item in position[1:]) or not isinstance(data["b"], bool):
                raise ValueError
        except (
            ValueError,
            TypeError,
            KeyError,
            UnicodeError,
            binascii.Error,
            FieldValueError,
        ) as error:
            raise serializers.ValidationError(
                {self.cursor_query_param: [_("This cursor is not valid: start from a link.")]}
            ) from error
        return {"position": position, "backwards": data["b"]}

    def _link(self, row, *, backwards: bool) -> str:
        position = []
        for name in self.fields:
            value = getattr(row, name)
            if isinstance(value, datetime.date | datetime.datetime):
                value = value.isoformat()
            position.append(value)
        token = base64.urlsafe_b64encode(
            json.dumps({"p": position, "b": backwards}, separators=(",", ":")).encode()
        ).rstrip(b"=")
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token.decode("ascii"))

    def get_next_link(self):
        return self._link(self.rows[-1], backwards=False) if self.has_next else None

    def get_previous_link(self):
        return self._link(self.rows[0], backwards=True) if self.has_previous else None

    def get_paginated_response(self, data):
        if self.legacy is not None:
            response = self.legacy.get_paginated_response(data)
            response["Deprecation"] = "true"
            return response
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": str(_("Only with the deprecated `page` parameter.")),
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _("Where the page starts: the value in a response's `next` or `previous` link.")
                ),
                "schema": {"type": "string"},
            },
            _page_size_parameter(
                {
                    "name": self.page_size_query_param,
                    "required": False,
                    "in": "query",
                    "schema": {"type": "integer"},
                }
            ),
            {
                "name": self.legacy_page_query_param,
                "required": False,
                "in": "query",
                "deprecated": True,
                "description": str(
                    _(
                        "Page number (from 1) of the former page-number pagination; the response "
                        "then has `count`. Follow `next` links instead."
                    )
                ),
                "schema": {"type": "integer"},
            },
        ]
