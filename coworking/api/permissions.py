"""Who may read the API's description."""

from django.conf import settings
from rest_framework.permissions import BasePermission


class SchemaAccess(BasePermission):
    """The OpenAPI documents and their pages (Swagger UI, Redoc) are for signed-in users (a
    token or the admin session) unless ``API_SCHEMA_PUBLIC`` opens them: the schema lists
    every operation, parameter and error code, which need not be published to anyone who
    asks."""

    def has_permission(self, request, view) -> bool:
        if settings.API_SCHEMA_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)
