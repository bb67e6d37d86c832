"""A real PgBouncer in transaction pooling mode in front of the test database.

``PgBouncer.start`` writes its ini and user list to a fresh folder and runs Debian's
``/usr/sbin/pgbouncer`` on a free loopback port (as the ``postgres`` user when the tests run
as root: PgBouncer refuses root). Its pools hold fewer server connections
(``POOL_SIZE``) than the concurrency tests have threads, so transactions of different
clients really share server connections. ``routed`` points Django's ``default`` alias at it
for a block, as ``DATABASE_POOLING=transaction`` configures production.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2

EXECUTABLE = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
POOL_SIZE = 6
# A database of the pooler with a single server connection: every client shares it.
SINGLE = "single_backend"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgBouncer:
    def __init__(self, *, folder: Path, port: int, process: subprocess.Popen, database: dict):
        self.folder, self.port, self.process, self.database = folder, port, process, database

    @classmethod
    def start(cls, database: dict) -> "PgBouncer":
        """PgBouncer in front of ``database`` (a Django settings dict): every database name
        of that server through it, and ``SINGLE`` for ``database``'s own with one server
        connection."""
        folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        folder.chmod(0o755)  # read by the postgres user when started as root
        port = _free_port()
        host, server_port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
        user, password = database["USER"], database["PASSWORD"] or ""
        (folder / "userlist.txt").write_text(f'"{user}" "{password}"\n')
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{SINGLE} = host={host} port={server_port} dbname={database['NAME']} pool_size=1\n"
            f"* = host={host} port={server_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {folder / 'userlist.txt'}\n"
            f"admin_users = {user}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 400\n"
            f"default_pool_size = {POOL_SIZE}\n"
            "reserve_pool_size = 0\n"
            # A client waits this long for a server connection: in session mode the
            # single-backend test fails after it instead of hanging.
            "query_wait_timeout = 60\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        for path in folder.iterdir():
            path.chmod(0o644)
        command = [EXECUTABLE, "-q"]
        if os.geteuid() == 0:
            command += ["-u", "postgres"]
        log = (folder / "pgbouncer.log").open("wb")
        process = subprocess.Popen(
            [*command, str(folder / "pgbouncer.ini")], stdout=log, stderr=log
        )
        bouncer = cls(folder=folder, port=port, process=process, database=database)
        bouncer._wait_until_listening()
        return bouncer

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen on {self.port}: {self.log()}")

    def log(self) -> str:
        return (self.folder / "pgbouncer.log").read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def connect(self, dbname: str | None = None):
        """A plain psycopg2 client of the pooler, in autocommit (the admin console, database
        ``pgbouncer``, takes no transactions)."""
        connection = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            dbname=dbname or self.database["NAME"],
            user=self.database["USER"],
            password=self.database["PASSWORD"] or None,
            connect_timeout=5,
        )
        connection.autocommit = True
        return connection

    def admin(self, command: str) -> list[dict]:
        """The rows of an admin console command (``SHOW POOLS``, ``SHOW CONFIG`` ...)."""
        connection = self.connect("pgbouncer")
        try:
            with connection.cursor() as cursor:
                cursor.execute(command)
                names = [column.name for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            connection.close()

    @contextlib.contextmanager
    def routed(self, *, dbname: str | None = None) -> Iterator[None]:
        """Every connection Django opens for ``default`` in this block (in any thread) goes
        through the pooler, configured as ``DATABASE_POOLING=transaction`` configures it;
        the connections open before and after are direct."""
        from django.db import connections

        settings = connections.settings["default"]  # the dict every connection reads
        saved = {key: settings.get(key) for key in ("HOST", "PORT", "NAME")}
        saved_cursors = settings.get("DISABLE_SERVER_SIDE_CURSORS", False)
        connections["default"].close()
        settings.update(HOST="127.0.0.1", PORT=str(self.port), NAME=dbname or saved["NAME"])
        settings["DISABLE_SERVER_SIDE_CURSORS"] = True
        try:
            yield
        finally:
            connections["default"].close()
            settings.update(saved)
            settings["DISABLE_SERVER_SIDE_CURSORS"] = saved_cursors
