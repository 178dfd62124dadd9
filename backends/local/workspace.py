"""The workspace file: a synchronous data layer over one SQLite database in WAL mode.

Several processes open the same file (agents' consoles, a supervisor, the simulator). Writers take the
lock up front (`BEGIN IMMEDIATE`) so that a read-then-write can never deadlock on lock upgrade, and wait
for it (`busy_timeout`) instead of failing. Claiming is a single conditional UPDATE, so exactly one process
wins a race. Every write is logged to `changes` by triggers (schema.sql); readers tail that log.

Blocking: every method here blocks. The async adapter (backend.py) runs them in its own worker thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from sys import intern
from typing import Any

from ...console.core.model import (
    INITIAL_STATE,
    Agent,
    Attachment,
    Channel,
    Conversation,
    CsatRecord,
    Customer,
    Direction,
    EmailHeaders,
    Message,
    Presence,
    Priority,
    Skills,
    State,
    WrapUpRecord,
)
from ..local_columns import LOADED_WHERE
from ..local_queue_order import HEAD_WHERE, ORDER, QUEUE_INDEX
from . import migrations
from .database import SchemaTooNew, Target, as_target, is_postgres, shown
from .rows import (
    AGENT_COLUMNS,
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    RECENT_SECONDS,
    _tags_to_text,
    agent_from_row,
    attachments_to_json,
    capacity_to_json,
    conversation_from_row,
    customer_from_row,
    email_to_json,
    local_id,
    message_from_row,
    qualify,
    skills_to_json,
)


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    kind: str
    ref: str


class WorkspaceError(Exception):
    pass


class OwnedByOther(WorkspaceError):
    def __init__(self, conversation_id: int, owner: str | None) -> None:
        super().__init__(f"conversation {qualify(conversation_id)} is owned by {owner}")
        self.owner = owner


class Workspace:
    """One connection to the workspace (a file, or a PostgreSQL database). Not thread-safe: one thread per
    instance. `target` is what `database.as_target` gives: a `Path`, or a `postgresql://` DSN."""

    def __init__(
        self,
        target: Target | str,
        *,
        clock: Any = time.time,
        password: str | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        """`on_progress`: told, in a line, when opening takes long (the search index rebuilt once after an
        upgrade)."""
        self.target: Target = as_target(target) if isinstance(target, str) else target
        self.clock = clock
        self._on_progress = on_progress
        self.db: Any
        if is_postgres(self.target):
            from .postgres import PgConnection

            self.dialect = "postgres"
            self.path: Path | None = None
            self.db = PgConnection(str(self.target), password=password)
        else:
            self.dialect = "sqlite"
            self.path = Path(self.target)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
        try:
            self._ensure_schema()
        except BaseException:
            self.db.close()
            raise

    @property
    def shared(self) -> bool:
        """On a server other machines write to: changes are announced (LISTEN/NOTIFY), not only logged."""
        return self.dialect == "postgres"

    # ------------------------------------------------------------------------------------------ plumbing

    def _ensure_schema(self) -> None:
        stored = migrations.stored_version(self.db, self.dialect)
        if stored is not None and stored > migrations.CURRENT:
            raise SchemaTooNew(
                f"the workspace {shown(self.target)} has schema version {stored}, made by a newer "
                f"standardiste; this one knows versions up to {migrations.CURRENT}: update standardiste "
                "on this machine before opening it"
            )
        if stored == migrations.CURRENT and self.dialect == "postgres":
            return  # nothing to create: a read-only role (a supervisor) opens it too
        with self.transaction():
            stored = migrations.stored_version(self.db, self.dialect)  # again, under the writers' lock
            script = (
                files(__package__).joinpath(migrations.SCHEMA_FILE[self.dialect]).read_text(encoding="utf-8")
            )
            for statement in _split_sql(script):
                self.db.execute(statement)
            self.db.execute(
                QUEUE_INDEX
            )  # its text is built from the console's queue order (backends/local_queue_order.py)
            if self.dialect == "sqlite":
                # The full-text index (search.py): created, and filled for an older file, in this transaction.
                from . import search  # imported here, at the connection, not before the console's first frame

                search.ensure_index(self.db, on_rebuild=self._on_progress)
            else:
                from .search_postgres import SCHEMA as SEARCH_SCHEMA

                for statement in SEARCH_SCHEMA:
                    self.db.execute(statement)
            migrations.migrate(self.db, self.dialect, stored)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once (no upgrade deadlocks)."""
        if self.db.in_transaction:  # nested: join the outer one
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def now(self) -> float:
        return float(self.clock())

    # ------------------------------------------------------------------------------------------ customers

    def upsert_customer(self, customer: Customer) -> None:
        self.db.execute(
            "INSERT INTO customers (id, name, language, email, phone, social_handle, country) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "language = excluded.language, email = excluded.email, phone = excluded.phone, "
            "social_handle = excluded.social_handle, country = excluded.country",
            (
                customer.id,
                customer.name,
                customer.language,
                customer.email,
                customer.phone,
                customer.social_handle,
                customer.country,
            ),
        )

    def customer(self, customer_id: str) -> Customer | None:
        row = self.db.execute(
            "SELECT id, name, language, email, phone, social_handle, country FROM customers WHERE id = ?",
            (customer_id,),
        ).fetchone()
        return customer_from_row(row) if row else None

    def customers(self) -> list[Customer]:
        rows = self.db.execute(
            "SELECT id, name, language, email, phone, social_handle, country FROM customers"
        ).fetchall()
        return [customer_from_row(r) for r in rows]

    # ------------------------------------------------------------------------------------------ conversations

    def create_conversation(
        self,
        *,
        channel: Channel,
        customer: Customer,
        subject: str,
        created_at: float | None = None,
        state: State | None = None,
        queue: str = "general",
        priority: Priority = Priority.NORMAL,
        tags: Iterable[str] = (),
        sla_due_at: float | None = None,
        callback_number: str = "",
        callback_at: float | None = None,
        patience_until: float | None = None,
        language: str | None = None,
    ) -> int:
        at = self.now() if created_at is None else created_at
        with self.transaction():
            self.upsert_customer(customer)
            cursor = self.db.execute(
                "INSERT INTO conversations (channel, state, subject, customer_id, customer_name, language, "
                "queue, priority, tags, created_at, updated_at, last_customer_at, sla_due_at, "
                "callback_number, callback_at, patience_until) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    channel.value,
                    (state or INITIAL_STATE[channel]).value,
                    subject,
                    customer.id,
                    customer.name,
                    language or customer.language,
                    queue,
                    int(priority),
                    _tags_to_text(tags),
                    at,
                    at,
                    at,
                    sla_due_at,
                    callback_number,
                    callback_at,
                    patience_until,
                ),
            )
            return int(cursor.fetchone()[0])

    def conversation(self, conversation_id: str | int) -> Conversation | None:
        row = self.db.execute(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (local_id(conversation_id),)
        ).fetchone()
        return conversation_from_row(row) if row else None

    def require(self, conversation_id: str | int) -> Conversation:
        found = self.conversation(conversation_id)
        if found is None:
            raise KeyError(f"no conversation {conversation_id}")
        return found

    def conversations(self, *, since: float | None = None, limit: int | None = None) -> list[Conversation]:
        """Open conversations, and those closed after `since` (default: the last day)."""
        cutoff = self.now() - RECENT_SECONDS if since is None else since
        sql = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {LOADED_WHERE}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [conversation_from_row(r) for r in self.db.execute(sql, (cutoff,))]

    def queue_head(self, limit: int) -> list[Conversation]:
        """The first `limit` open conversations in the queue's order (backends/local_queue_order.py), all when fewer."""
        sql = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {HEAD_WHERE} ORDER BY {ORDER} LIMIT ?"
        rows = self.db.execute(sql, (self.now() - RECENT_SECONDS, int(limit)))
        return [conversation_from_row(r) for r in rows]

    def conversations_of_customer(self, customer_id: str) -> list[Conversation]:
        rows = self.db.execute(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE customer_id = ? ORDER BY created_at DESC",
            (customer_id,),
        )
        return [conversation_from_row(r) for r in rows]

    def update_conversation(self, conversation_id: str | int, **fields: Any) -> Conversation:
        """Set columns and bump `version` and `updated_at`. Enum values and tag tuples are converted."""
        row_id = local_id(conversation_id)
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "tags":
                value = _tags_to_text(value)
            elif isinstance(value, Channel | State | Presence):
                value = value.value
            elif isinstance(value, Priority):
                value = int(value)
            values[name] = value
        values.setdefault("updated_at", self.now())
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self.transaction():
            cursor = self.db.execute(
                f"UPDATE conversations SET {assignments}, version = version + 1 WHERE id = ?",
                (*values.values(), row_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no conversation {qualify(row_id)}")
            return self.require(row_id)

    def claim(self, conversation_id: str | int, agent_id: str, *, force: bool = False) -> Conversation:
        """Make `agent_id` the owner. Atomic: of many racing processes exactly one wins an unowned item."""
        row_id = local_id(conversation_id)
        if not force and not self.db.in_transaction:
            # Owned by another already: said without queueing for the writers' lock (see commands.py's
            # `_refuse_if_taken`); only the owner or a forced claim changes an owner.
            row = self.db.execute("SELECT assignee FROM conversations WHERE id = ?", (row_id,)).fetchone()
            if row is not None and row[0] not in (None, agent_id):
                raise OwnedByOther(row_id, row[0])
        with self.transaction():
            won = self.db.execute(
                "UPDATE conversations SET assignee = ?, version = version + 1, updated_at = ? "
                "WHERE id = ? AND (assignee IS NULL OR assignee = ? OR ? = 1) "
                f"RETURNING {CONVERSATION_COLUMNS}",
                (agent_id, self.now(), row_id, agent_id, int(force)),
            ).fetchone()
            if won is None:
                row = self.db.execute("SELECT assignee FROM conversations WHERE id = ?", (row_id,)).fetchone()
                if row is None:
                    raise KeyError(f"no conversation {qualify(row_id)}")
                raise OwnedByOther(row_id, row[0])
            self.db.execute("DELETE FROM offers WHERE conversation_id = ?", (row_id,))
            return conversation_from_row(won)

    # ------------------------------------------------------------------------------------------ messages

    def add_message(
        self,
        conversation_id: str | int,
        *,
        direction: Direction,
        body: str,
        author: str = "",
        created_at: float | None = None,
        attachments: Iterable[Attachment] = (),
        email: EmailHeaders | None = None,
        raw: bytes | None = None,
    ) -> Message:
        row_id = local_id(conversation_id)
        at = self.now() if created_at is None else created_at
        with self.transaction():
            message_id = self.db.execute(
                "INSERT INTO messages (conversation_id, direction, author, body, created_at, attachments, "
                "email, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    row_id,
                    direction.value,
                    author,
                    body,
                    at,
                    attachments_to_json(attachments),
                    email_to_json(email),
                    raw,
                ),
            ).fetchone()[0]
            if direction is Direction.INBOUND:
                # The customer answered a thread that waited on them (pending) or was solved: it needs an
                # agent again, or it would sit unseen behind the "waiting for customer" filter.
                self.db.execute(
                    "UPDATE conversations SET last_customer_at = ?, updated_at = ?, unread = unread + 1, "
                    "version = version + 1, "
                    "closed_at = CASE WHEN state = 'solved' THEN NULL ELSE closed_at END, "
                    "state = CASE WHEN state IN ('pending', 'solved') THEN 'open' ELSE state END "
                    "WHERE id = ?",
                    (at, at, row_id),
                )
            elif direction is Direction.OUTBOUND:
                self.db.execute(
                    "UPDATE conversations SET first_response_at = COALESCE(first_response_at, ?), "
                    "updated_at = ?, unread = 0, version = version + 1 WHERE id = ?",
                    (at, at, row_id),
                )
            return self.message(message_id)

    def message(self, message_id: str | int) -> Message:
        row = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (local_id(message_id),)
        ).fetchone()
        if row is None:
            raise KeyError(f"no message {message_id}")
        return message_from_row(row)

    def messages(self, conversation_id: str | int) -> list[Message]:
        # In time order, not insertion order: a merge brings older messages into a conversation.
        rows = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY created_at, id",
            (local_id(conversation_id),),
        )
        return [message_from_row(r) for r in rows]

    def raw_message(self, message_id: str | int) -> bytes | None:
        row = self.db.execute("SELECT raw FROM messages WHERE id = ?", (local_id(message_id),)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    # ------------------------------------------------------------------------------------------ agents

    def upsert_agent(self, agent: Agent) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO agents (id, name, skills, capacity, presence, presence_reason, presence_since, "
                "last_seen, supervisor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, skills = excluded.skills, capacity = excluded.capacity, "
                "supervisor = excluded.supervisor",
                (
                    agent.id,
                    agent.name,
                    skills_to_json(agent.skills),
                    capacity_to_json(agent.capacity),
                    agent.presence.value,
                    agent.presence_reason,
                    agent.presence_since or self.now(),
                    agent.last_seen or self.now(),
                    int(agent.supervisor),
                ),
            )

    def agent(self, agent_id: str) -> Agent | None:
        row = self.db.execute(f"SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?", (agent_id,)).fetchone()
        return agent_from_row(row) if row else None

    def agents(self) -> list[Agent]:
        return [agent_from_row(r) for r in self.db.execute(f"SELECT {AGENT_COLUMNS} FROM agents ORDER BY id")]

    def set_presence(self, agent_id: str, presence: Presence, reason: str = "") -> Agent:
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE agents SET presence = ?, presence_reason = ?, presence_since = ?, last_seen = ? "
                "WHERE id = ?",
                (presence.value, reason, self.now(), self.now(), agent_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no agent {agent_id}")
        agent = self.agent(agent_id)
        assert agent is not None
        return agent

    def set_skills(self, agent_id: str, skills: Skills, capacity: dict[Channel, int] | None = None) -> Agent:
        with self.transaction():
            self.db.execute("UPDATE agents SET skills = ? WHERE id = ?", (skills_to_json(skills), agent_id))
            if capacity:
                self.db.execute(
                    "UPDATE agents SET capacity = ? WHERE id = ?", (capacity_to_json(capacity), agent_id)
                )
        agent = self.agent(agent_id)
        if agent is None:
            raise KeyError(f"no agent {agent_id}")
        return agent

    def set_agent_activity(
        self, agent_id: str, *, viewing: str | bool | None = False, typing_in: str | bool | None = False
    ) -> None:
        """Record what the agent has open / is typing in (False leaves a field as it is)."""
        sets, args = ["last_seen = ?"], [self.now()]
        if viewing is not False:
            sets.append("viewing = ?")
            args.append(local_id(viewing) if isinstance(viewing, str) else None)
        if typing_in is not False:
            sets.append("typing_in = ?")
            args.append(local_id(typing_in) if isinstance(typing_in, str) else None)
        with self.transaction():
            self.db.execute(f"UPDATE agents SET {', '.join(sets)} WHERE id = ?", (*args, agent_id))

    # ------------------------------------------------------------------------------------------ typing

    def set_typing(self, conversation_id: str | int, who: str, typing: bool, ttl: float = 6.0) -> None:
        row_id = local_id(conversation_id)
        with self.transaction():
            if typing:
                self.db.execute(
                    "INSERT INTO typing (conversation_id, who, until) VALUES (?, ?, ?) "
                    "ON CONFLICT (conversation_id, who) DO UPDATE SET until = excluded.until",
                    (row_id, who, self.now() + ttl),
                )
            else:
                self.db.execute("DELETE FROM typing WHERE conversation_id = ? AND who = ?", (row_id, who))

    def typing(self, conversation_id: str | int) -> list[str]:
        rows = self.db.execute(
            "SELECT who FROM typing WHERE conversation_id = ? AND until > ?",
            (local_id(conversation_id), self.now()),
        )
        return [r[0] for r in rows]

    # ------------------------------------------------------------------------------------------ records

    def record_wrapup(self, record: WrapUpRecord) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO wrapups (conversation_id, agent_id, disposition, note, at, handle_seconds) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    local_id(record.conversation_id),
                    record.agent_id,
                    record.disposition,
                    record.note,
                    record.at,
                    record.handle_seconds,
                ),
            )

    def wrapups(self, since: float = 0.0) -> list[WrapUpRecord]:
        rows = self.db.execute(
            "SELECT conversation_id, agent_id, disposition, note, at, handle_seconds FROM wrapups "
            "WHERE at >= ? ORDER BY id",
            (since,),
        )
        # The agents' ids and the dispositions repeat in every record: one string each, shared.
        return [WrapUpRecord(qualify(r[0]), intern(r[1]), intern(r[2]), r[3], r[4], r[5]) for r in rows]

    def record_csat(self, record: CsatRecord) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO csat (conversation_id, channel, score, comment, at, agent_id, customer_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    local_id(record.conversation_id),
                    record.channel.value,
                    record.score,
                    record.comment,
                    record.at,
                    record.agent_id,
                    record.customer_id,
                ),
            )
            self.db.execute(
                "DELETE FROM csat_requests WHERE conversation_id = ?", (local_id(record.conversation_id),)
            )

    def csat(self, since: float = 0.0) -> list[CsatRecord]:
        rows = self.db.execute(
            "SELECT conversation_id, channel, score, comment, at, agent_id, customer_id FROM csat "
            "WHERE at >= ? ORDER BY id",
            (since,),
        )
        return [
            CsatRecord(qualify(r[0]), Channel(r[1]), r[2], r[3], r[4], r[5] and intern(r[5]), r[6])
            for r in rows
        ]

    def request_csat(self, conversation_id: str | int) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO csat_requests (conversation_id, requested_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (local_id(conversation_id), self.now()),
            )

    def pending_csat_requests(self) -> list[tuple[int, float]]:
        return [tuple(r) for r in self.db.execute("SELECT conversation_id, requested_at FROM csat_requests")]

    # ------------------------------------------------------------------------------------------ idempotency

    def command_result(self, key: str) -> str | None:
        row = self.db.execute("SELECT result FROM command_keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def remember_command(self, key: str, result: str) -> None:
        self.db.execute(
            "INSERT INTO command_keys (key, result, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (key, result, self.now()),
        )

    # ------------------------------------------------------------------------------------------ change feed

    def last_change(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
        return int(row[0])

    def first_change(self) -> int:
        row = self.db.execute("SELECT COALESCE(MIN(seq), 0) FROM changes").fetchone()
        return int(row[0])

    def changes_since(self, seq: int, limit: int = 20000) -> list[Change]:
        rows = self.db.execute(
            "SELECT seq, kind, ref FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        )
        return [Change(*r) for r in rows]

    def prune_changes(self, keep: int = 200_000) -> None:
        """Forget old change rows; a reader that fell further behind reloads a snapshot."""
        with self.transaction():
            self.db.execute("DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?", (keep,))


def _split_sql(script: str) -> list[str]:
    """Split a schema file into statements: SQLite's trigger bodies hold `;` so they end at `END;`, and
    PostgreSQL's function bodies are quoted between `$$`."""
    statements, current = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        joined = "\n".join(current)
        if (
            stripped.endswith(";")
            and joined.count("$$") % 2 == 0
            and (
                not joined.lstrip().upper().startswith("CREATE TRIGGER") or stripped.upper().endswith("END;")
            )
        ):
            statements.append(joined)
            current = []
    return statements
