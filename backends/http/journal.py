"""Commands with a key, remembered in a small SQLite file so that each is applied once, across restarts.

Neither Chatwoot nor Zendesk (on updates) takes an idempotency key. Before a keyed command is sent its
key is written as `sending`; once the server answered, as `done` with what it made (the message id). A key
found `done` is not sent again. A key found `sending` (the console stopped between the two) is looked for by
the caller in the conversation (a message with the same body, sent by this agent since then) before sending
again.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keyed_commands (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    conversation TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'done')),
    message_id INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    kind: str
    conversation: str
    state: str
    message_id: int | None
    detail: str
    at: float


class Journal:
    """One file per workspace; every call runs in a worker thread (the event loop never waits on disk)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            self._db = db
        return self._db

    async def _run(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        async with self._lock:
            return await asyncio.to_thread(lambda: self._open().execute(sql, args).fetchall())

    async def get(self, key: str) -> Entry | None:
        rows = await self._run(
            "SELECT key, kind, conversation, state, message_id, detail, at FROM keyed_commands WHERE key = ?",
            (key,),
        )
        return Entry(*rows[0]) if rows else None  # type: ignore[arg-type]

    async def sending(self, key: str, kind: str, conversation: str) -> None:
        await self._run(
            "INSERT OR REPLACE INTO keyed_commands (key, kind, conversation, state, at) VALUES (?, ?, ?, 'sending', ?)",
            (key, kind, conversation, time.time()),
        )

    async def done(self, key: str, *, message_id: int | None = None, detail: str = "") -> None:
        await self._run(
            "UPDATE keyed_commands SET state = 'done', message_id = ?, detail = ? WHERE key = ?",
            (message_id, detail, key),
        )

    async def close(self) -> None:
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                await asyncio.to_thread(db.close)


__all__ = ["Entry", "Journal"]
