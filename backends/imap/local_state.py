"""What IMAP cannot hold natively: status, assignee, tags, priority (the "marks" of a thread), and notes.

Marks live in IMAP keywords when the server lets a client create them (PERMANENTFLAGS contains `\\*`): then
every agent on the mailbox sees the same marks, from any machine. A keyword is set on every inbox message of
the thread; a customer message that arrives later has none, which is how a pending or solved thread is seen
to have new activity. Otherwise marks live in a table of the adapter's local SQLite file: only this machine
sees them. Notes are always local: a note must never be able to reach the customer, and anything stored on
the mail server is one misconfigured rule away from being forwarded.

Keywords are atoms: `std.status.open`, `std.agent.<id>`, `std.tag.<tag>`, `std.priority.high`. Characters
other than lower-case letters, digits and `.-_@` are written `=XX` (UTF-8 bytes in hex), so any agent id or
tag round-trips, whatever the server's case rules.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...console.core.model import Priority, State
from .index import transaction

PREFIX = "std."
_STATUS = PREFIX + "status."
_AGENT = PREFIX + "agent."
_TAG = PREFIX + "tag."
_PRIORITY = PREFIX + "priority."
_SAFE = re.compile(r"[a-z0-9._@-]")
_ESCAPED = re.compile(r"(?:=[0-9A-Fa-f]{2})+")
# When two agents race, the state that keeps the thread in sight wins.
_STATUS_ORDER = (State.OPEN, State.PENDING, State.SOLVED, State.NEW)
EMAIL_STATES = frozenset(_STATUS_ORDER)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS marks (
    thread TEXT PRIMARY KEY,
    status TEXT,
    status_uid INTEGER NOT NULL DEFAULT 0,
    assignee TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    priority INTEGER NOT NULL DEFAULT 1,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    thread TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    key TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS notes_thread ON notes (thread);
CREATE TABLE IF NOT EXISTS journal (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Marks:
    status: State | None = None
    # The newest inbox UID of the thread when the status was set: a newer customer message reopens it.
    status_uid: int = 0
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    priority: Priority = Priority.NORMAL
    # Keyword mode only: every agent keyword found, when a race left more than one.
    claimants: tuple[str, ...] = field(default=(), compare=False)


# ---------------------------------------------------------------------------------------------- keywords


def encode_atom(text: str) -> str:
    return "".join(ch if _SAFE.fullmatch(ch) else "".join(f"={b:02X}" for b in ch.encode()) for ch in text)


def decode_atom(atom: str) -> str:
    return _ESCAPED.sub(lambda m: bytes.fromhex(m.group(0).replace("=", "")).decode("utf-8", "replace"), atom)


def is_ours(flag: str) -> bool:
    return flag.lower().startswith(PREFIX)


def keywords_for(marks: Marks) -> frozenset[str]:
    keywords: set[str] = set()
    if marks.status is not None:
        keywords.add(_STATUS + marks.status.value)
    if marks.assignee:
        keywords.add(_AGENT + encode_atom(marks.assignee))
    keywords.update(_TAG + encode_atom(tag) for tag in marks.tags)
    if marks.priority is not Priority.NORMAL:
        keywords.add(_PRIORITY + marks.priority.name.lower())
    return frozenset(keywords)


def marks_from_flags(messages: Iterable[tuple[int, frozenset[str]]]) -> Marks:
    """Marks of a thread from the flags of its inbox messages, `(uid, flags)`."""
    status: State | None = None
    status_uid = 0
    claimants: set[str] = set()
    tags: dict[str, None] = {}
    priority = Priority.NORMAL
    priority_uid = -1
    for uid, flags in sorted(messages):
        found_status = [State(f[len(_STATUS) :]) for f in flags if _is_status(f)]
        if found_status:
            status = min(found_status, key=_STATUS_ORDER.index)
            status_uid = uid
        for flag in sorted(flags):  # sets have no order; the same tags must always read the same
            lower = flag.lower()
            if lower.startswith(_AGENT):
                claimants.add(decode_atom(flag[len(_AGENT) :]))
            elif lower.startswith(_TAG):
                tags[decode_atom(flag[len(_TAG) :])] = None
            elif lower.startswith(_PRIORITY) and uid >= priority_uid:
                name = lower[len(_PRIORITY) :].upper()
                if name in Priority.__members__:
                    priority, priority_uid = Priority[name], uid
    ordered = tuple(sorted(claimants))
    return Marks(
        status=status,
        status_uid=status_uid,
        # The same rule on every console: after a race, the smallest agent id holds the thread.
        assignee=ordered[0] if ordered else None,
        tags=tuple(tags),
        priority=priority,
        claimants=ordered,
    )


def _is_status(flag: str) -> bool:
    lower = flag.lower()
    return lower.startswith(_STATUS) and lower[len(_STATUS) :] in {s.value for s in EMAIL_STATES}


# ---------------------------------------------------------------------------------------------- local tables


def ensure_schema(db: sqlite3.Connection) -> None:
    db.executescript(_SCHEMA)


class TableMarks:
    """Marks kept in the local SQLite file, for servers that do not take new keywords."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get_many(self, threads: Iterable[str]) -> dict[str, Marks]:
        wanted = list(dict.fromkeys(threads))
        found: dict[str, Marks] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for row in self.db.execute(
                "SELECT thread, status, status_uid, assignee, tags, priority FROM marks "
                f"WHERE thread IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[row[0]] = Marks(
                    status=State(row[1]) if row[1] else None,
                    status_uid=int(row[2]),
                    assignee=row[3],
                    tags=tuple(json.loads(row[4])),
                    priority=Priority(int(row[5])),
                )
        return found

    def get(self, thread: str) -> Marks:
        return self.get_many([thread]).get(thread, Marks())

    def put(self, thread: str, marks: Marks) -> None:
        self.db.execute(
            "INSERT INTO marks (thread, status, status_uid, assignee, tags, priority, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread) DO UPDATE SET status = excluded.status, "
            "status_uid = excluded.status_uid, assignee = excluded.assignee, tags = excluded.tags, "
            "priority = excluded.priority, updated_at = excluded.updated_at",
            (
                thread,
                marks.status.value if marks.status else None,
                marks.status_uid,
                marks.assignee,
                json.dumps(list(marks.tags)),
                int(marks.priority),
                time.time(),
            ),
        )


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    thread: str
    author: str
    body: str
    created_at: float


class Notes:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def by_key(self, key: str) -> NoteRow | None:
        """The note stored under this idempotency key, if one was."""
        row = self.db.execute(
            "SELECT id, thread, author, body, created_at FROM notes WHERE key = ?", (key,)
        ).fetchone()
        return NoteRow(*row) if row is not None else None

    def add(self, thread: str, author: str, body: str, key: str = "") -> NoteRow:
        """Store a note once per idempotency key: the outbox may retry it."""
        with transaction(self.db):
            if key:
                done = self.by_key(key)
                if done is not None:
                    return done
            created = time.time()
            cursor = self.db.execute(
                "INSERT INTO notes (thread, author, body, created_at, key) VALUES (?, ?, ?, ?, ?)",
                (thread, author, body, created, key or None),
            )
            return NoteRow(int(cursor.lastrowid or 0), thread, author, body, created)

    def of(self, thread: str) -> list[NoteRow]:
        return [
            NoteRow(*row)
            for row in self.db.execute(
                "SELECT id, thread, author, body, created_at FROM notes WHERE thread = ? ORDER BY id",
                (thread,),
            )
        ]


class Journal:
    """What was done for an idempotency key, so that a retried reply is not mailed twice."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, key: str) -> tuple[str, dict[str, str]] | None:
        row = self.db.execute("SELECT state, data FROM journal WHERE key = ?", (key,)).fetchone()
        return (str(row[0]), json.loads(row[1])) if row else None

    def put(self, key: str, state: str, data: dict[str, str]) -> None:
        self.db.execute(
            "INSERT INTO journal (key, state, data, at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "state = excluded.state, data = excluded.data, at = excluded.at",
            (key, state, json.dumps(data), time.time()),
        )
