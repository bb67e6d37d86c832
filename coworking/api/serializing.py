"""The API's ``ModelSerializer``: DRF's, with its fields built from the model once per class.

DRF builds a ``ModelSerializer``'s fields on every instance: it introspects the model and
translates each field's verbose name and help text again: three quarters of serialising a
credit note with its lines, paid by every API cancel and credit-note request (measured in
docs/benchmarks.md, REST API). Here the fields built once (per class and
language: labels depend on it) are deep-copied for each instance, as DRF already copies the
declared ones, so every instance still binds fields of its own.
"""

import copy

from django.utils.translation import get_language
from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = {}
            type(self)._built_fields = built
        language = get_language()
        fields = built.get(language)
        if fields is None:
            fields = built[language] = super().get_fields()
        return copy.deepcopy(fields)


class StaffOnlyFieldsMixin:
    """Writes ``staff_only_fields`` (internal notes such as the free-text reason staff
    record on a credit note) as ``null`` for a requesting user without
    ``staff_permission``: a member reading their own documents gets the customer-facing
    fields only, in the same shape (declare those fields ``allow_null`` so the schema says
    so)."""

    staff_only_fields: tuple[str, ...] = ()
    staff_permission: str = ""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.has_perm(self.staff_permission):
            for name in self.staff_only_fields:
                if name in data:
                    data[name] = None
        return data
