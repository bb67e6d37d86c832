"""Who the API's caller is and what they may do, each in one plain SQL statement.

Every API request authenticates a fresh user object from its token, and the first
permission check loads that user's permissions (Django keeps them on the object,
``_perm_cache``, for the rest of the request). DRF and Django build these reads as ORM
queries (the token with its user; the user's own permissions, then their groups'), and
compiling those costs more than running them (measured in docs/benchmarks.md, REST API).
Same answers, same checks and messages:

- ``TokenAuthentication``: DRF's (``Authorization: Token <key>``), the token's user read
  by one statement.
- ``PermissionBackend``: Django's ``ModelBackend``, ``get_all_permissions`` (behind
  ``has_perm``) loaded by one statement: an active user's own and their groups'
  permissions; none for an inactive or anonymous user; all for a superuser (through
  ``ModelBackend``, a rare path).
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


@cache
def _token_user_sql(alias: str) -> str:
    """The user of a token (all their columns) and the token's ``created`` as
    ``token_created``; the parameter is the token's key."""
    q = connections[alias].ops.quote_name
    user, token = get_user_model()._meta, Token._meta
    return (
        f"SELECT u.*, t.{q(token.get_field('created').column)} AS token_created "
        f"FROM {q(user.db_table)} u JOIN {q(token.db_table)} t "
        f"ON t.{q(token.get_field('user').column)} = u.{q(user.pk.column)} "
        f"WHERE t.{q(token.pk.column)} = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        alias = router.db_for_read(Token)
        users = get_user_model().objects.using(alias).raw(_token_user_sql(alias), [key])
        user = next(iter(users), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user, created=user.token_created)


@cache
def _permissions_sql(alias: str) -> str:
    """``SELECT app_label, codename`` of a user's permissions, own and from groups; the one
    parameter, twice, is the user's id. Names come from the models."""
    q = connections[alias].ops.quote_name
    user_perms = get_user_model().user_permissions.field
    user_groups = get_user_model().groups.field
    group_perms = Group.permissions.field
    permission, content_type = Permission._meta, ContentType._meta
    return (
        f"SELECT ct.{q(content_type.get_field('app_label').column)}, "
        f"p.{q(permission.get_field('codename').column)} "
        f"FROM {q(permission.db_table)} p "
        f"JOIN {q(content_type.db_table)} ct "
        f"ON ct.{q(content_type.pk.column)} = p.{q(permission.get_field('content_type').column)} "
        f"WHERE p.{q(permission.pk.column)} IN ("
        f"SELECT {q(user_perms.m2m_reverse_name())} FROM {q(user_perms.m2m_db_table())} "
        f"WHERE {q(user_perms.m2m_column_name())} = %s "
        f"UNION ALL "
        f"SELECT gp.{q(group_perms.m2m_reverse_name())} FROM {q(group_perms.m2m_db_table())} gp "
        f"JOIN {q(user_groups.m2m_db_table())} ug "
        f"ON ug.{q(user_groups.m2m_reverse_name())} = gp.{q(group_perms.m2m_column_name())} "
        f"WHERE ug.{q(user_groups.m2m_column_name())} = %s)"
    )


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            alias = router.db_for_read(Permission)
            with connections[alias].cursor() as cursor:
                cursor.execute(_permissions_sql(alias), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cursor}
        return user_obj._perm_cache
