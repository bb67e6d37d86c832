"""The application's SQL keeps no state beyond its transaction, so it runs unchanged behind
PgBouncer in transaction pooling mode (docs/operations.md, "Behind PgBouncer"): no
session-level advisory lock, no session ``SET``, no LISTEN/NOTIFY, no prepared statement,
no temporary table, no cursor held across transactions. Read from every string literal of
the apps' code; migrations run as the owner on a direct connection, tests and benchmarks
are not the application."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "coworking", "invoicing", "credits", "books", "webhooks")

SESSION_STATE = {
    "session advisory lock": re.compile(r"pg_(try_)?advisory_(lock|lock_shared)\s*\(", re.I),
    # SQL is written in capitals here; a lower-case "set" is prose.
    "session SET": re.compile(r"(^|;)\s*SET\s+(?!LOCAL\b|CONSTRAINTS\b)\w"),
    "set_config for the session": re.compile(r"set_config\s*\([^)]*,\s*false\s*\)", re.I),
    "LISTEN/NOTIFY": re.compile(r"(^|;)\s*(LISTEN|NOTIFY|UNLISTEN)\b|pg_notify\s*\(", re.I),
    "prepared statement": re.compile(r"(^|;)\s*(PREPARE|EXECUTE|DEALLOCATE)\s+\w", re.I),
    "temporary table": re.compile(r"CREATE\s+(LOCAL\s+|GLOBAL\s+)?TEMP(ORARY)?\s+TABLE", re.I),
    "cursor held across transactions": re.compile(
        r"\bWITH\s+HOLD\b|\bDECLARE\s+\w+\s+(\w+\s+)*CURSOR\b", re.I
    ),
}


def application_strings():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            parts_of_fstrings = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.JoinedStr):  # an f-string read whole, "{}" for values
                    parts_of_fstrings.update(id(value) for value in node.values)
                    text = "".join(
                        value.value if isinstance(value, ast.Constant) else "{}"
                        for value in node.values
                    )
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", text
                elif (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in parts_of_fstrings
                ):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value


def test_the_patterns_catch_what_they_are_for():
    samples = {
        "session advisory lock": "SELECT pg_advisory_lock(%s)",
        "session SET": "SET statement_timeout = 0",
        "set_config for the session": "SELECT set_config('x.y', %s, false)",
        "LISTEN/NOTIFY": "NOTIFY invoices",
        "prepared statement": "PREPARE q AS SELECT 1",
        "temporary table": "CREATE TEMP TABLE t (id int)",
        "cursor held across transactions": "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
    }
    for name, sql in samples.items():
        assert SESSION_STATE[name].search(sql), name
    allowed = (
        "SELECT pg_try_advisory_xact_lock(%s)",
        "SET CONSTRAINTS x IMMEDIATE; SET CONSTRAINTS x DEFERRED",
        "SET LOCAL lock_timeout = '1s'",
        "UPDATE t SET a = 1",
        "INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 2",
    )
    for sql in allowed:
        assert not any(pattern.search(sql) for pattern in SESSION_STATE.values()), sql


def test_no_sql_of_the_application_keeps_state_beyond_its_transaction():
    found = [
        f"{where}: {name}: {text.strip()[:80]!r}"
        for where, text in application_strings()
        for name, pattern in SESSION_STATE.items()
        if pattern.search(text)
    ]
    assert found == []
