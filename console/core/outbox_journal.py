"""The outbox's journal: its entries, their states, and the SQLite file they live in (see outbox.py).

Blocking, like any SQLite work here: used only from the outbox's own worker thread. The `flock` per workspace
decides which console of an agent delivers that workspace's entries.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from ...backends.base import Command, CommandKind
from . import command_codec

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; one console per user is then the user's business.
    fcntl = None  # type: ignore[assignment]


class EntryState(StrEnum):
    SCHEDULED = "scheduled"  # journalled, never attempted: cancellable until due
    SENDING = "sending"  # an attempt started (or was under way when the process died)
    RETRYING = "retrying"  # a retryable error: waiting for `next_attempt_at`
    DONE = "done"
    FAILED = "failed"  # permanent error, kept and listed until dismissed
    CANCELLED = "cancelled"
    DISMISSED = "dismissed"


OPEN_STATES = frozenset({EntryState.SCHEDULED, EntryState.SENDING, EntryState.RETRYING})
# What `pending()` lists: still to send, or failed and waiting for the agent to look at it.
LISTED_STATES = OPEN_STATES | {EntryState.FAILED}


# The error of a row journalled before entries recorded their workspace (see the module docstring).
UNKNOWN_WORKSPACE = (
    "journalled by an older version that did not record its workspace: not sent, so that it cannot reach "
    "another workspace's customer; open the workspace it was written for and retry it there, or discard it"
)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    command: Command  # carries its idempotency key
    state: EntryState
    created_at: float
    due_at: float  # wall-clock time it may first be sent (end of the undo window)
    attempts: int = 0
    next_attempt_at: float = 0.0  # wall-clock time of the next retry, when RETRYING
    error: str = ""  # the last error, "Unavailable: connection refused"
    detail: str = ""  # the backend's confirmation detail, when DONE
    workspace: str = ""  # identity of the workspace it is for ("" only for rows of an older journal)

    @property
    def key(self) -> str:
        return self.command.key

    @property
    def kind(self) -> CommandKind:
        return self.command.kind

    @property
    def conversation_id(self) -> str:
        return self.command.conversation_id

    @property
    def cancellable(self) -> bool:
        return self.state is EntryState.SCHEDULED

    @property
    def ready_at(self) -> float:
        return max(self.due_at, self.next_attempt_at)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    command         TEXT NOT NULL,   -- command_codec JSON, key included
    state           TEXT NOT NULL,
    created_at      REAL NOT NULL,
    due_at          REAL NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '',
    updated_at      REAL NOT NULL,
    workspace       TEXT             -- Backend.workspace_id; NULL in rows of journals before version 2
);
CREATE INDEX IF NOT EXISTS entries_state ON entries (state);
"""
_COLUMNS = "id, command, state, created_at, due_at, attempts, next_attempt_at, error, detail, workspace"
# PRAGMA user_version of the journal: 2 added `workspace`.
JOURNAL_VERSION = 2


class Journal:
    """The SQLite side. Blocking; used only from the outbox's own worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, int | None] = {}  # workspace -> descriptor holding its flock
        try:
            self.db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 10000")
            self.db.execute("PRAGMA journal_mode = WAL")
            # FULL: an entry committed before `send` must still be there after a power cut, not only a kill.
            self.db.execute("PRAGMA synchronous = FULL")
            self.db.executescript(_SCHEMA)
            self._migrate()
        except BaseException:
            self._release_lock()
            raise

    def _migrate(self) -> None:
        """Version 1 journals lack `workspace`: add it, NULL in the old rows (`load_listed` holds those)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(entries)")}
        if "workspace" not in columns:
            self.db.execute("ALTER TABLE entries ADD COLUMN workspace TEXT")
        self.db.execute(f"PRAGMA user_version = {JOURNAL_VERSION}")

    def lock_path(self, workspace: str) -> Path:
        digest = hashlib.sha256(workspace.encode()).hexdigest()[:16]
        return self.path.with_name(f"{self.path.name}.{digest}.lock")

    def try_lock(self, workspace: str) -> bool:
        """Deliver `workspace` here if no other process does (True also when this one already does)."""
        if workspace in self._locks:
            return True
        if fcntl is None:  # no advisory locks: every console delivers (one console per user, then)
            self._locks[workspace] = None
            return True
        fd = os.open(self.lock_path(workspace), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._locks[workspace] = fd
        return True

    def _release_lock(self) -> None:
        for fd in self._locks.values():
            if fd is not None:
                os.close(fd)  # closing the descriptor drops the flock
        self._locks.clear()

    def close(self) -> None:
        self.db.close()
        self._release_lock()

    def insert(
        self, command: Command, text: str, now: float, due_at: float, workspace: str
    ) -> tuple[int, bool]:
        """(entry id, inserted). A key already journalled gives the existing entry, not a second one."""
        cursor = self.db.execute(
            # A key seen before is not journalled again, unless its entry was withdrawn (cancelled) for the
            # agent to edit: the edited reply takes its place, same key, so it still reaches the customer once.
            "INSERT INTO entries (key, kind, conversation_id, command, state, created_at, due_at, updated_at, "
            "workspace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "command = excluded.command, state = excluded.state, due_at = excluded.due_at, attempts = 0, "
            "next_attempt_at = 0, error = '', updated_at = excluded.updated_at, workspace = excluded.workspace "
            "WHERE entries.state = 'cancelled'",
            (
                command.key,
                command.kind.value,
                command.conversation_id,
                text,
                EntryState.SCHEDULED,
                now,
                due_at,
                now,
                workspace,
            ),
        )
        row = self.db.execute("SELECT id FROM entries WHERE key = ?", (command.key,)).fetchone()
        return int(row[0]), cursor.rowcount > 0

    def update(self, entry: OutboxEntry, now: float, *, only_from: EntryState | None = None) -> bool:
        sql = (
            "UPDATE entries SET state = ?, attempts = ?, next_attempt_at = ?, error = ?, detail = ?, "
            "updated_at = ?, workspace = ? WHERE id = ?"
        )
        args: tuple[Any, ...] = (
            entry.state.value,
            entry.attempts,
            entry.next_attempt_at,
            entry.error,
            entry.detail,
            now,
            entry.workspace or None,
            entry.id,
        )
        if only_from is not None:
            sql += " AND state = ?"
            args += (only_from.value,)
        return self.db.execute(sql, args).rowcount > 0

    def update_times(self, entry: OutboxEntry, now: float) -> None:
        self.db.execute(
            "UPDATE entries SET due_at = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
            (entry.due_at, entry.next_attempt_at, now, entry.id),
        )

    def load_listed(self) -> tuple[list[OutboxEntry], list[tuple[int, str]]]:
        """Entries to carry on with, and (id, why) of rows this version cannot read (marked failed)."""
        states = ",".join(f"'{s.value}'" for s in LISTED_STATES)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM entries WHERE state IN ({states}) ORDER BY id"
        ).fetchall()
        entries: list[OutboxEntry] = []
        unreadable: list[tuple[int, str]] = []
        for row in rows:
            try:
                entry = entry_from_row(row)
            except (command_codec.CodecError, ValueError) as error:
                why = f"cannot be read by this version: {error}"
                unreadable.append((row[0], why))
                self._hold(row[0], why)
                continue
            if not entry.workspace and entry.state in OPEN_STATES:
                # Which workspace it was for is unknown: sending it to the one open now may reach the wrong
                # customer. Held for the agent, who knows (retry there, or discard).
                self._hold(entry.id, UNKNOWN_WORKSPACE)
                entry = replace(entry, state=EntryState.FAILED, error=UNKNOWN_WORKSPACE)
            entries.append(entry)
        return entries, unreadable

    def _hold(self, entry_id: int, why: str) -> None:
        self.db.execute(
            "UPDATE entries SET state = ?, error = ?, updated_at = ? WHERE id = ?",
            (EntryState.FAILED.value, why, time.time(), entry_id),
        )

    def get(self, entry_id: int) -> OutboxEntry | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return entry_from_row(row) if row else None

    def keys_in(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key FROM entries WHERE key IN ({marks}) AND state != 'cancelled'"
            found.update(r[0] for r in self.db.execute(sql, chunk))
        return found

    def prune(self, before: float) -> int:
        return self.db.execute(
            "DELETE FROM entries WHERE state IN (?, ?, ?) AND updated_at < ?",
            (EntryState.DONE.value, EntryState.CANCELLED.value, EntryState.DISMISSED.value, before),
        ).rowcount


def entry_from_row(row: tuple[Any, ...]) -> OutboxEntry:
    entry_id, text, state, created_at, due_at, attempts, next_attempt_at, error, detail, workspace = row
    return OutboxEntry(
        id=entry_id,
        command=command_codec.loads(text),
        state=EntryState(state),
        created_at=created_at,
        due_at=due_at,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        error=error,
        detail=detail,
        workspace=workspace or "",
    )
