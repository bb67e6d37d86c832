"""The permission backend: Django's ``ModelBackend`` with a user's permissions loaded by one
statement instead of two ORM queries.

Every API request authenticates a fresh user object, so a request that checks a permission
loads them once (Django keeps them on the object, ``_perm_cache``, for the rest of the
request). Django builds that load as two ORM queries (the user's own permissions, then their
groups'): about 1.2 ms per request, nearly all of it compiling the queries, against 0.2 ms
for this one statement (docs/benchmarks.md, REST API). Same answer: the permissions of an
active user, their own and their groups', none for an inactive or anonymous user, all for a
superuser (through ``ModelBackend``, a rare path).
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


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
        f"SELECT ct.{q('app_label')}, p.{q('codename')} "
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
    """``ModelBackend`` whose ``get_all_permissions`` (behind ``has_perm``) loads in one
    statement."""

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
