"""The application's database role: one that owns nothing.

The tables, their triggers and the functions the triggers call belong to the role that runs
``migrate`` (the owner). The web processes, workers and beat connect as another role with
only ``SELECT``, ``INSERT``, ``UPDATE`` and ``DELETE`` on the tables and ``USAGE`` on the
sequences. Such a role cannot switch the database's guards off: ``pgtrigger.ignore`` is
honoured for the owner only (``coworking.triggers``), ``ALTER TABLE ... DISABLE TRIGGER`` and
``TRUNCATE`` need ownership or a privilege it lacks, ``session_replication_role`` needs a
superuser, and without ``TEMPORARY`` it cannot shadow a table the triggers read with a
temporary one of the same name.
"""

import re

from django.db import connection, transaction

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleRefused(Exception):
    """The role cannot be made the application's role; the message says why."""


def _sql(template: str, **identifiers) -> str:
    from psycopg2 import sql

    composed = sql.SQL(template).format(
        **{name: sql.Identifier(value) for name, value in identifiers.items()}
    )
    return composed.as_string(connection.connection)


def _one(query: str, params=()) -> object:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _check_existing(role: str) -> None:
    superuser = _one("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = %s", [role])
    if superuser:
        raise RoleRefused(f"The role {role!r} is a superuser; the application's role must not be.")
    if _one("SELECT pg_catalog.pg_has_role(%s, current_user, 'USAGE')", [role]):
        raise RoleRefused(
            f"The role {role!r} has the privileges of the owner role (it is a member of it); "
            "the application's role must be another role."
        )
    owned = _one(
        "SELECT count(*) FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s",
        [role],
    )
    if owned:
        raise RoleRefused(
            f"The role {role!r} owns {owned} tables or other relations of this database; the "
            "application's role must own nothing (run migrate as the owner role)."
        )


@transaction.atomic
def app_role_grant(*, role: str, password: str | None = None) -> list[str]:
    """Give ``role`` what the application needs on this database and nothing more; create it
    first (``LOGIN``, no other attribute) when it does not exist and ``password`` is given.

    Run it as the owner role (the one that runs ``migrate``), after ``migrate``: tables the
    owner creates later get the same privileges by default. Idempotent. Returns what was
    done, one sentence each. Raises ``RoleRefused`` (not PostgreSQL, a name that is not a
    plain identifier, the owner itself, a superuser, a member of the owner role, a role that
    owns relations, or a role that does not exist without a password to create it).
    """
    if connection.vendor != "postgresql":
        raise RoleRefused("Database roles exist on PostgreSQL only; the embedded default has none.")
    if not ROLE_NAME.match(role or ""):
        raise RoleRefused(
            f"{role!r} is not a plain role name (lower-case letters, digits and underscores)."
        )
    owner = _one("SELECT current_user")
    if role == owner:
        raise RoleRefused(
            f"{role!r} is the role running this command, the owner; the application's role "
            "must be another one."
        )
    done = []
    with connection.cursor() as cursor:
        if _one("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", [role]):
            _check_existing(role)
        elif password:
            statement = _sql(
                "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS PASSWORD %s",
                role=role,
            )
            cursor.execute(statement, [password])
            done.append(f"Created the role {role!r} (login, no other attribute).")
        else:
            raise RoleRefused(
                f"The role {role!r} does not exist: create it, or set DATABASE_APP_PASSWORD and "
                "pass --create."
            )
        database = _one("SELECT current_database()")
        schema = _one("SELECT current_schema()")
        names = {"role": role, "database": database, "schema": schema}
        for template in (
            "REVOKE ALL ON DATABASE {database} FROM {role}",
            "GRANT CONNECT ON DATABASE {database} TO {role}",
            # A temporary table named like one the triggers read would shadow it for them.
            "REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC",
            "REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
            "REVOKE ALL ON SCHEMA {schema} FROM {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE ON SEQUENCES TO {role}",
        ):
            cursor.execute(_sql(template, **names))
    done.append(
        f"Granted {role!r} SELECT, INSERT, UPDATE and DELETE on the tables of schema {schema!r} "
        f"of {database!r} and USAGE on its sequences, now and for tables {owner!r} creates later; "
        "nobody but the owner may create objects there or temporary tables."
    )
    return done
