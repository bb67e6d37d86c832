"""The API's JSON parser: every body it cannot take is a 400 ``parse_error`` problem.

Besides DRF's checks it refuses documents nested deeper than ``MAX_DEPTH`` (arrays and
objects): nothing the API accepts comes close, and a deeply nested body would otherwise
exhaust the interpreter's recursion limit while being parsed, hashed or validated (a 2 KB
body nested 1,000 deep would be a 500).
"""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def nesting_depth(value, *, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests arrays and objects, counted without recursion; stops
    counting past ``limit``."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = _("The JSON body is nested more than %(depth)d levels deep.") % {
            "depth": MAX_DEPTH
        }
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep) from None
        if nesting_depth(data) > MAX_DEPTH:
            raise ParseError(too_deep)
        return data
