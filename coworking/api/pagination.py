"""Page-number pagination: ``?page=N`` (from 1) and ``?page_size=N`` (default 50, at most
200). A page past the end is a 404 problem. Responses carry ``count``, ``next``,
``previous`` and ``results``."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
