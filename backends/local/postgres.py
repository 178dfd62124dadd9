"""The workspace on PostgreSQL: a connection with sqlite3's face, so the workspace's rules run unchanged.

`Workspace` and its helpers speak one SQL (question-mark parameters, `ON CONFLICT`, `RETURNING`) through
`execute`/`executemany`, `BEGIN IMMEDIATE`/`COMMIT`/`ROLLBACK` and `in_transaction`. Here:

- parameters become psycopg's `%s` (a `%` in the text is doubled), translated once per statement text;
- `BEGIN IMMEDIATE` (SQLite: take the write lock now) becomes `BEGIN` plus one transaction-level advisory
  lock that every writer takes, and a write outside a transaction takes it too. Writers are serialised as
  they are on the file: a read-then-write cannot race, and the change log's `seq` commits in order, so a
  reader that reads `seq > last` never skips a change that commits late with a smaller number;
- claims stay single conditional UPDATEs (workspace.py), atomic across machines;
- psycopg's errors become the storage errors of database.py: a lost server is `DatabaseUnavailable`
  (retryable), a refused write (a read-only role) `WriteRefused`; anything else is a bug and stays itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .database import AccessRefused, DatabaseUnavailable, WriteRefused, shown

# Every writer takes this lock (pg_advisory_xact_lock): the file's single writer, on the server.
WRITE_LOCK = 0x5354_414E  # "STAN"
# Trigger `changes_notify` (schema_postgres.sql) says each new change's seq on this channel.
NOTIFY_CHANNEL = "standardiste_changes"
# How long a writer waits for the lock before the write fails as unavailable (SQLite's busy_timeout).
LOCK_TIMEOUT = "60s"

_WRITES = ("insert", "update", "delete")


_NAMED = re.compile(r"(?<!:):([A-Za-z_]\w*)")
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")")  # kept whole: a `?` or `:x` inside is text


@functools.lru_cache(maxsize=4096)
def translate(sql: str, named: bool = False) -> str:
    """`?` (or, with `named`, sqlite3's `:name`) outside quoted text becomes `%s` (`%(name)s`), and a
    literal `%` becomes `%%`."""
    out: list[str] = []
    for piece in _QUOTED.split(sql):
        if piece[:1] in ("'", '"'):
            out.append(piece.replace("%", "%%"))
            continue
        piece = piece.replace("%", "%%")
        piece = _NAMED.sub(r"%(\1)s", piece) if named else piece.replace("?", "%s")
        out.append(piece)
    return "".join(out)


def _first_word(sql: str) -> str:
    match = re.match(r"\s*(\w+)", sql)
    return match.group(1).lower() if match else ""


class PgConnection:
    """One psycopg connection in autocommit mode, used from one thread (as sqlite3's is here)."""

    dialect = "postgres"

    def __init__(self, dsn: str, *, password: str | None = None, connect_timeout: float = 10.0) -> None:
        import psycopg

        self._psycopg = psycopg
        self._dsn = dsn
        extra: dict[str, Any] = {"connect_timeout": max(1, round(connect_timeout))}
        if password:
            extra["password"] = password
        try:
            self._conn = psycopg.connect(dsn, autocommit=True, application_name="standardiste", **extra)
            self._conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        except psycopg.Error as error:
            raise DatabaseUnavailable(f"cannot connect to {shown(dsn)}: {_first_line(error)}") from None

    # ------------------------------------------------------------------------------ sqlite3's face

    @property
    def in_transaction(self) -> bool:
        status = self._conn.info.transaction_status
        return status in (
            self._psycopg.pq.TransactionStatus.INTRANS,
            self._psycopg.pq.TransactionStatus.INERROR,
        )

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = ()) -> Any:
        word = _first_word(sql)
        with self._errors(writing=word in _WRITES or self.in_transaction):
            if word == "begin":  # one round trip: the lock is held from here to COMMIT, keep it short
                self._conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                return None
            if word in ("commit", "rollback"):
                if word == "rollback" and self._conn.closed:
                    return None  # the server went: its transaction went with it
                self._conn.execute(word.upper())
                return None
            if word in _WRITES and not self.in_transaction:
                with self._write_transaction():
                    return self._run(sql, params)
            return self._run(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        with self._errors(writing=True):
            if self.in_transaction:
                self._conn.cursor().executemany(translate(sql), rows)
            else:
                with self._write_transaction():
                    self._conn.cursor().executemany(translate(sql), rows)

    def close(self) -> None:
        self._conn.close()

    # ------------------------------------------------------------------------------ PostgreSQL's own

    @property
    def raw(self) -> Any:
        """The psycopg connection, for what only PostgreSQL has (the schema's DDL)."""
        return self._conn

    @property
    def role(self) -> str:
        return str(self._conn.info.user)

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> Any:
        if isinstance(params, Mapping):
            return self._conn.execute(translate(sql, named=True), params)
        if params:
            return self._conn.execute(translate(sql), tuple(params))
        return self._conn.execute(sql)

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield

    @contextmanager
    def _errors(self, *, writing: bool) -> Iterator[None]:
        psycopg = self._psycopg
        try:
            yield
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as error:
            if writing:
                raise WriteRefused(
                    f"the database refused a write: the role {self.role!r} may only read ({_first_line(error)})"
                ) from error
            raise AccessRefused(
                f"the database refused the role {self.role!r} ({_first_line(error)}): see docs/team.md for "
                "the GRANTs an agent's and a supervisor's role need"
            ) from error
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise DatabaseUnavailable(
                f"lost the database {shown(self._dsn)}: {_first_line(error)}"
            ) from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


__all__ = ["LOCK_TIMEOUT", "NOTIFY_CHANNEL", "WRITE_LOCK", "PgConnection", "translate"]
