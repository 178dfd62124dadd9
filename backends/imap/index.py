"""The local index of a mailbox: one row of headers per message, the thread it belongs to, and sync state.

It is a cache of what the server holds, rebuilt when the server says so (a new UIDVALIDITY), and what makes a
restart cheap: only UIDs at or above the persisted UIDNEXT are fetched again. Every method runs on the
adapter's database thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .mime import ParsedHeaders
from .threads import choose_thread

INBOX = "inbox"
SENT = "sent"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    role TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL,
    highestmodseq INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    role TEXT NOT NULL,
    uid INTEGER NOT NULL,
    uidvalidity INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    thread TEXT NOT NULL,
    in_reply_to TEXT NOT NULL,
    refs TEXT NOT NULL,
    subject TEXT NOT NULL,
    from_addr TEXT NOT NULL,
    from_name TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    to_addrs TEXT NOT NULL,
    cc_addrs TEXT NOT NULL,
    date REAL NOT NULL,
    size INTEGER NOT NULL,
    flags TEXT NOT NULL,
    outbound INTEGER NOT NULL,
    language TEXT NOT NULL,
    PRIMARY KEY (role, uid)
);
CREATE INDEX IF NOT EXISTS messages_thread ON messages (thread);
CREATE INDEX IF NOT EXISTS messages_message_id ON messages (message_id);
"""

_COLUMNS = (
    "role, uid, uidvalidity, message_id, thread, in_reply_to, refs, subject, from_addr, from_name, "
    "reply_to, to_addrs, cc_addrs, date, size, flags, outbound, language"
)
_CHUNK = 500


def open_db(path: Path) -> sqlite3.Connection:
    """The adapter's SQLite file: WAL so that two consoles of one user on one mailbox can share it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=10000")
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (the connection is in autocommit mode, so `with db:` alone would not batch)."""
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True, slots=True)
class FolderState:
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message as fetched: what the index keeps of it."""

    uid: int
    flags: frozenset[str]
    internaldate: float
    size: int
    headers: ParsedHeaders


@dataclass(frozen=True, slots=True)
class IndexedMessage:
    role: str
    uid: int
    uidvalidity: int
    message_id: str
    thread: str
    in_reply_to: str
    references: tuple[str, ...]
    subject: str
    from_addr: str
    from_name: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: float
    size: int
    flags: frozenset[str]
    outbound: bool
    language: str

    @property
    def inbound(self) -> bool:
        return self.role == INBOX and not self.outbound

    @property
    def ref(self) -> str:
        """Where the message lives: `<role>/<uidvalidity>/<uid>`."""
        return f"{self.role}/{self.uidvalidity}/{self.uid}"


def _row(row: Sequence[object]) -> IndexedMessage:
    return IndexedMessage(
        role=str(row[0]),
        uid=int(row[1]),  # type: ignore[call-overload]
        uidvalidity=int(row[2]),  # type: ignore[call-overload]
        message_id=str(row[3]),
        thread=str(row[4]),
        in_reply_to=str(row[5]),
        references=tuple(json.loads(str(row[6]))),
        subject=str(row[7]),
        from_addr=str(row[8]),
        from_name=str(row[9]),
        reply_to=tuple(json.loads(str(row[10]))),
        to=tuple(json.loads(str(row[11]))),
        cc=tuple(json.loads(str(row[12]))),
        date=float(row[13]),  # type: ignore[arg-type]
        size=int(row[14]),  # type: ignore[call-overload]
        flags=frozenset(str(row[15]).split()),
        outbound=bool(row[16]),
        language=str(row[17]),
    )


class MailIndex:
    def __init__(self, db: sqlite3.Connection, own_addresses: frozenset[str]) -> None:
        self.db = db
        self.own = own_addresses
        db.executescript(_SCHEMA)

    # ------------------------------------------------------------------------------------------ folders

    def folder_state(self, role: str) -> FolderState | None:
        row = self.db.execute(
            "SELECT uidvalidity, uidnext, highestmodseq FROM folders WHERE role = ?", (role,)
        ).fetchone()
        return FolderState(int(row[0]), int(row[1]), row[2]) if row else None

    def set_folder_state(self, role: str, state: FolderState) -> None:
        self.db.execute(
            "INSERT INTO folders (role, uidvalidity, uidnext, highestmodseq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (role) DO UPDATE SET uidvalidity = excluded.uidvalidity, uidnext = excluded.uidnext, "
            "highestmodseq = excluded.highestmodseq",
            (role, state.uidvalidity, state.uidnext, state.highestmodseq),
        )

    def reset_folder(self, role: str) -> set[str]:
        """Forget a folder whose UIDVALIDITY changed; returns the Message-IDs it held (to avoid re-announcing)."""
        with transaction(self.db):
            ids = {r[0] for r in self.db.execute("SELECT message_id FROM messages WHERE role = ?", (role,))}
            self.db.execute("DELETE FROM messages WHERE role = ?", (role,))
            self.db.execute("DELETE FROM folders WHERE role = ?", (role,))
        return ids

    # ------------------------------------------------------------------------------------------ writes

    def _known_threads(self, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for message_id, thread in self.db.execute(
                f"SELECT message_id, thread FROM messages WHERE message_id IN ({marks}) ORDER BY date",
                chunk,
            ):
                found.setdefault(message_id, thread)
        return found

    def add(self, role: str, uidvalidity: int, items: Iterable[Fetched]) -> list[IndexedMessage]:
        """Index new messages (in UID order, so a parent fetched in the same batch is known to its reply).

        Returns only the rows that were not there before: a message is announced once.
        """
        added: list[IndexedMessage] = []
        with transaction(self.db):
            for item in sorted(items, key=lambda i: i.uid):
                h = item.headers
                thread = choose_thread(
                    h.message_id,
                    h.in_reply_to,
                    h.references,
                    self._known_threads,
                    fallback_id=f"<{role}.{uidvalidity}.{item.uid}@standardiste.invalid>",
                )
                outbound = role == SENT or h.from_addr.lower() in self.own
                date = item.internaldate or h.date or 0.0
                row = (
                    role,
                    item.uid,
                    uidvalidity,
                    h.message_id,
                    thread,
                    h.in_reply_to,
                    json.dumps(list(h.references)),
                    h.subject,
                    h.from_addr,
                    h.from_name,
                    json.dumps(list(h.reply_to)),
                    json.dumps(list(h.to)),
                    json.dumps(list(h.cc)),
                    date,
                    item.size,
                    " ".join(sorted(item.flags)),
                    int(outbound),
                    h.language,
                )
                cursor = self.db.execute(
                    f"INSERT OR IGNORE INTO messages ({_COLUMNS}) VALUES ({','.join('?' * 18)})", row
                )
                if cursor.rowcount:
                    added.append(_row(row))
        return added

    def remove(self, role: str, uids: Iterable[int]) -> set[str]:
        """Drop expunged messages; returns the threads they belonged to."""
        threads: set[str] = set()
        uid_list = list(uids)
        with transaction(self.db):
            for start in range(0, len(uid_list), _CHUNK):
                chunk = uid_list[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                threads.update(
                    r[0]
                    for r in self.db.execute(
                        f"SELECT DISTINCT thread FROM messages WHERE role = ? AND uid IN ({marks})",
                        (role, *chunk),
                    )
                )
                self.db.execute(f"DELETE FROM messages WHERE role = ? AND uid IN ({marks})", (role, *chunk))
        return threads

    def set_flags(self, role: str, flags: dict[int, frozenset[str]]) -> set[str]:
        """Record new flags; returns the threads whose flags really changed."""
        changed: set[str] = set()
        with transaction(self.db):
            for uid, new in flags.items():
                row = self.db.execute(
                    "SELECT thread, flags FROM messages WHERE role = ? AND uid = ?", (role, uid)
                ).fetchone()
                if row is None or frozenset(str(row[1]).split()) == new:
                    continue
                self.db.execute(
                    "UPDATE messages SET flags = ? WHERE role = ? AND uid = ?",
                    (" ".join(sorted(new)), role, uid),
                )
                changed.add(str(row[0]))
        return changed

    # ------------------------------------------------------------------------------------------ reads

    def uids(self, role: str) -> list[int]:
        return [
            r[0] for r in self.db.execute("SELECT uid FROM messages WHERE role = ? ORDER BY uid", (role,))
        ]

    def flags(self, role: str) -> dict[int, frozenset[str]]:
        return {
            int(uid): frozenset(str(flags).split())
            for uid, flags in self.db.execute("SELECT uid, flags FROM messages WHERE role = ?", (role,))
        }

    def thread_rows(self, thread: str) -> list[IndexedMessage]:
        return [
            _row(r)
            for r in self.db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE thread = ? ORDER BY date, role, uid", (thread,)
            )
        ]

    def threads(self, threads: Iterable[str]) -> dict[str, list[IndexedMessage]]:
        wanted = list(dict.fromkeys(threads))
        grouped: dict[str, list[IndexedMessage]] = {t: [] for t in wanted}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE thread IN ({marks}) ORDER BY date, role, uid", chunk
            ):
                grouped[str(r[4])].append(_row(r))
        return grouped

    def all_threads(self) -> dict[str, list[IndexedMessage]]:
        """Every thread that has at least one message in the inbox, with all its rows."""
        grouped: dict[str, list[IndexedMessage]] = {}
        for r in self.db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE thread IN (SELECT thread FROM messages WHERE role = ?) "
            "ORDER BY date, role, uid",
            (INBOX,),
        ):
            grouped.setdefault(str(r[4]), []).append(_row(r))
        return grouped

    def by_uids(self, role: str, uidvalidity: int, uids: Iterable[int]) -> list[IndexedMessage]:
        """The indexed rows of these UIDs of a folder (those not indexed yet are left out)."""
        wanted = sorted(set(uids))
        found: list[IndexedMessage] = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.extend(
                _row(r)
                for r in self.db.execute(
                    f"SELECT {_COLUMNS} FROM messages WHERE role = ? AND uidvalidity = ? AND uid IN ({marks})",
                    (role, uidvalidity, *chunk),
                )
            )
        return found

    def by_message_id(self, message_id: str) -> list[IndexedMessage]:
        return [
            _row(r)
            for r in self.db.execute(f"SELECT {_COLUMNS} FROM messages WHERE message_id = ?", (message_id,))
        ]

    def threads_of_customer(self, address: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT thread FROM messages WHERE role = ? AND lower(from_addr) = ? GROUP BY thread "
                "ORDER BY max(date) DESC",
                (INBOX, address.lower()),
            )
        ]
