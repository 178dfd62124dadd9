"""What Asterisk does not keep, kept in a SQLite file in the console's data_dir: the calls as the console
last saw them (for the wrap-up after a restart, the callback requests, the abandoned calls listed as missed),
notes and the customer's messages, wrap-up records, and the keys of commands already applied.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from ...console.core.model import Channel, Conversation, Direction, Message, Priority, State, WrapUpRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, body TEXT NOT NULL, closed INTEGER NOT NULL,
    updated_at REAL NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, direction TEXT NOT NULL,
    author TEXT NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, created_at);
CREATE TABLE IF NOT EXISTS wrapups (conversation_id TEXT NOT NULL, agent_id TEXT NOT NULL,
    disposition TEXT NOT NULL, note TEXT NOT NULL, at REAL NOT NULL, handle_seconds REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, detail TEXT NOT NULL);
"""
# Closed calls older than this are not in the snapshot any more (they stay in the file for history).
KEEP_CLOSED_SECONDS = 7 * 24 * 3600


def _encode(conversation: Conversation) -> str:
    return json.dumps(dataclasses.asdict(conversation))


def _decode(body: str) -> Conversation:
    data = json.loads(body)
    data["channel"] = Channel(data["channel"])
    data["state"] = State(data["state"])
    data["priority"] = Priority(data["priority"])
    data["tags"] = tuple(data["tags"])
    return Conversation(**data)


class LocalState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One writer (this console); autocommit with explicit transactions where two writes go together.
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def save(self, conversations: list[Conversation]) -> None:
        self.db.executemany(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body,"
            " closed = excluded.closed, updated_at = excluded.updated_at, version = excluded.version",
            [(c.id, _encode(c), int(c.is_closed), c.updated_at, c.version) for c in conversations],
        )

    def conversations(self, since: float) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT body FROM conversations WHERE closed = 0 OR updated_at >= ? ORDER BY updated_at", (since,)
        )
        return [_decode(body) for (body,) in rows]

    def conversation(self, conversation_id: str) -> Conversation | None:
        row = self.db.execute("SELECT body FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return _decode(row[0]) if row else None

    def last_version(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(version), 0) FROM conversations").fetchone()[0])

    def add_message(self, message: Message) -> bool:
        """Store it; False when a message with that id is already there (a replayed event, a repeated key)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?)",
            (
                message.id,
                message.conversation_id,
                message.direction.value,
                message.author,
                message.body,
                message.created_at,
            ),
        )
        return cursor.rowcount == 1

    def messages(self, conversation_id: str) -> list[Message]:
        rows = self.db.execute(
            "SELECT id, direction, author, body, created_at FROM messages WHERE conversation_id = ?"
            " ORDER BY created_at, rowid",
            (conversation_id,),
        )
        return [Message(i, conversation_id, Direction(d), a, b, t) for i, d, a, b, t in rows]

    def has_message(self, message_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is not None

    def add_wrapup(self, record: WrapUpRecord) -> None:
        self.db.execute(
            "INSERT INTO wrapups VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.conversation_id,
                record.agent_id,
                record.disposition,
                record.note,
                record.at,
                record.handle_seconds,
            ),
        )

    def wrapups(self, since: float) -> list[WrapUpRecord]:
        rows = self.db.execute("SELECT * FROM wrapups WHERE at >= ? ORDER BY at", (since,))
        return [WrapUpRecord(c, a, d, n, at, h) for c, a, d, n, at, h in rows]

    def applied(self, key: str) -> str | None:
        """The detail of a command already applied with this key, or None."""
        if not key:
            return None
        row = self.db.execute("SELECT detail FROM keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def remember(self, key: str, detail: str) -> None:
        if key:
            self.db.execute("INSERT OR IGNORE INTO keys VALUES (?, ?)", (key, detail))
