"""A real PostgreSQL server for the tests: a throwaway cluster on 127.0.0.1, one per test process.

The server refuses to run as root, so as root it runs as the `postgres` OS user (runuser), in a folder
that user owns; otherwise as the current user. fsync is off: the tests check behaviour, not durability.
Each test gets a database of its own (`CREATE DATABASE`), dropped when it ends.

Roles made here: `postgres` (superuser, trusted from 127.0.0.1), `agent_pw` (password `agent-secret`, checked
with SCRAM: the password tests) and `supervisor_ro` (read-only GRANTs, as docs/team.md gives them).
With TLS (`tls=True`): a throwaway CA and a certificate for 127.0.0.1 (mailservers.make_certificates).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mailservers import TlsFiles, free_port, make_certificates

PASSWORD_ROLE = "agent_pw"
PASSWORD = "agent-secret"
READ_ONLY_ROLE = "supervisor_ro"
_names = itertools.count(1)


def postgres_bin() -> Path | None:
    """The folder with initdb and pg_ctl (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if os.access(Path(folder) / "initdb", os.X_OK):
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def require_postgres() -> Path:
    """The binaries, or a skip (a failure in CI, where a missing server is a broken set-up)."""
    folder = postgres_bin()
    if folder is None:
        message = "PostgreSQL's server binaries (initdb, pg_ctl) are not installed (Debian: postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@dataclass
class PostgresServer:
    bin: Path
    base: Path
    port: int = field(default_factory=free_port)
    tls: TlsFiles | None = None
    # As a team's server runs: every commit on disk before it is acknowledged (the restart test needs it).
    durable: bool = False

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return list(command)

    def init(self, *, tls: bool = False) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        if tls:
            self.tls = make_certificates(self.base / "tls")
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            for path in self.base.rglob("*"):
                shutil.chown(path, "postgres", "postgres")
        subprocess.run(
            self._as_owner(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        hba = self.data / "pg_hba.conf"
        # The password role must prove its password (SCRAM); everyone else is trusted on loopback.
        rules = f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
        if tls:
            rules += f"hostssl all {PASSWORD_ROLE}_tls 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(rules + hba.read_text())
        if tls and self.tls is not None:
            for path in (self.tls.key,):
                path.chmod(0o600)
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(f"ssl = on\nssl_cert_file = '{self.tls.cert}'\nssl_key_file = '{self.tls.key}'\n")
        self.start()
        self.admin(
            f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'",
            f"CREATE ROLE {READ_ONLY_ROLE} LOGIN",
            "CREATE DATABASE tests",
        )
        if tls:
            self.admin(f"CREATE ROLE {PASSWORD_ROLE}_tls LOGIN PASSWORD '{PASSWORD}' SUPERUSER")

    def start(self, timeout: float = 20.0) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            self._as_owner(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "log"),
                "-w",
                "-t",
                str(int(timeout)),
                "-o",
                options,
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
            check=False,
            capture_output=True,
        )

    def dsn(self, database: str = "postgres", user: str = "postgres", **query: str) -> str:
        extra = "&".join(f"{key}={value}" for key, value in query.items())
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}" + (f"?{extra}" if extra else "")

    def admin(self, *statements: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def new_schema(self, database: str = "tests") -> str:
        """A DSN whose tables go to a new, empty schema of `database`: as good as a new database for a test,
        in a millisecond rather than half a second (CREATE DATABASE copies a template)."""
        name = f"t{os.getpid()}_{next(_names)}"
        self.admin(
            f"CREATE SCHEMA {name}",
            f"GRANT ALL ON SCHEMA {name} TO {PASSWORD_ROLE}",
            database=database,
        )
        return self.dsn(database, options=f"-csearch_path%3D{name}")

    def drop_schema(self, dsn: str, database: str = "tests") -> None:
        name = dsn.rpartition("%3D")[2]
        with contextlib.suppress(Exception):
            self.admin(f"DROP SCHEMA IF EXISTS {name} CASCADE", database=database)

    def new_database(self) -> str:
        name = f"t{os.getpid()}_{next(_names)}"
        self.admin(f"CREATE DATABASE {name}", f"GRANT ALL ON DATABASE {name} TO {PASSWORD_ROLE}")
        self.admin(f"GRANT ALL ON SCHEMA public TO {PASSWORD_ROLE}", database=name)
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def grant_read_only(self, database: str) -> None:
        """The supervisor's GRANTs of docs/team.md: read everything, write nothing."""
        self.admin(
            f"GRANT CONNECT ON DATABASE {database} TO {READ_ONLY_ROLE}",
            database="postgres",
        )
        self.admin(
            f"GRANT USAGE ON SCHEMA public TO {READ_ONLY_ROLE}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READ_ONLY_ROLE}",
            database=database,
        )


@contextlib.contextmanager
def running_postgres(*, tls: bool = False, durable: bool = False) -> Iterator[PostgresServer]:
    folder = require_postgres()
    base = Path(tempfile.mkdtemp(prefix="standardiste-pg-"))
    server = PostgresServer(folder, base, durable=durable)
    try:
        server.init(tls=tls)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def wait_until_up(server: PostgresServer, timeout: float = 10.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(server.dsn(), connect_timeout=1).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
