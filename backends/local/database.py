"""Where a workspace lives: one SQLite file on this machine, or a PostgreSQL database a team shares.

The workspace's rules (workspace.py, commands.py, claims.py, sessions.py) are written once, in the SQL both
databases speak, against a DB-API connection: `sqlite3.Connection` for a file, `PgConnection`
(postgres.py) for a server. A target is a `Path` (a file) or a `postgresql://` DSN (a string); everything
that takes `--db` or a workspace's `db` setting goes through `as_target`.

Nothing here imports psycopg: a console on a file never pays for it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

Target = str | Path

_SCHEMES = ("postgresql://", "postgres://")


class DatabaseUnavailable(Exception):
    """The database server cannot be reached, or the connection to it was lost: retryable, like a locked
    file. `storage_problem` is what the status line says (console/core/storage.py reads it)."""

    storage_problem = "database unreachable"


class AccessRefused(DatabaseUnavailable):
    """The database refused this role a table: its GRANTs do not cover the workspace."""

    storage_problem = "access refused"


class WriteRefused(AccessRefused):
    """The database refused a write for lack of rights: a supervisor's read-only role, by design."""

    storage_problem = "write refused: read-only role"


class SchemaTooNew(Exception):
    """The workspace was made or migrated by a newer standardiste: this one must not write to it."""


# What a storage operation raises when the storage (not the code) is at fault: a console reports it and
# carries on, as it does for a full disk.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, DatabaseUnavailable)
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (sqlite3.OperationalError, DatabaseUnavailable)


def is_postgres(target: Target | os.PathLike[str]) -> bool:
    return isinstance(target, str) and target.lower().startswith(_SCHEMES)


def as_target(value: str | os.PathLike[str]) -> Target:
    """A `--db` value: a DSN stays text (a `Path` would fold its `//`), anything else is a file path."""
    if is_postgres(value):
        return str(value)
    return Path(os.path.expanduser(os.fspath(value)))


def shown(target: Target) -> str:
    """The target as it may be printed or logged: a DSN without its password."""
    if not is_postgres(target):
        return str(target)
    parts = urlsplit(str(target))
    if parts.password is None:
        return str(target)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}", parts.path, parts.query, parts.fragment))


def short_name(target: Target) -> str:
    """A few words for a status line: the file's name, or the database's name on its host."""
    if not is_postgres(target):
        return Path(target).name
    parts = urlsplit(str(target))
    return f"{parts.path.lstrip('/') or parts.username or 'postgres'} on {parts.hostname or 'localhost'}"


def has_password(target: Target) -> bool:
    return is_postgres(target) and urlsplit(str(target)).password is not None


__all__ = [
    "STORAGE_ERRORS",
    "TRANSIENT_ERRORS",
    "AccessRefused",
    "DatabaseUnavailable",
    "SchemaTooNew",
    "Target",
    "WriteRefused",
    "as_target",
    "has_password",
    "is_postgres",
    "short_name",
    "shown",
]
