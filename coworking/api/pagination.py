"""Page-number pagination: ``?page=N`` (from 1) and ``?page_size=N`` (default 50, at most
200). A page past the end is a 404 problem; a ``page_size`` that is not a whole number from 1
to 200 is a 422 (not silently replaced by the default). Responses carry ``count``, ``next``,
``previous`` and ``results``."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        field = serializers.IntegerField(min_value=1, max_value=self.max_page_size)
        try:
            return field.run_validation(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({self.page_size_query_param: error.detail}) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    **parameter["schema"],
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
                parameter["description"] = str(
                    _("Results per page, from 1 to %(max)s (default %(default)s).")
                    % {"max": self.max_page_size, "default": self.page_size}
                )
        return parameters
