"""The local workspace as a `Backend`: the async face of `Workspace`, for the console.

All SQLite work runs in one worker thread owned by the adapter, so the event loop never blocks on the file.
Events come from tailing the `changes` log every `poll_interval` seconds (0.1 s by default), which is how a
change made by another process on the same file reaches this console: within 250 ms of its commit under a
flood of 5,000 changes a second (bench/workspace.py; at 0.2 s the slowest took 250 ms, p50 124 ms). An idle
read of the log is one indexed SELECT: ten a second cost nothing an agent would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hashlib
import importlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ...console.core.collector import long_lived
from ...console.core.model import (
    Agent,
    Attachment,
    Channel,
    Conversation,
    CsatRecord,
    Customer,
    Message,
    Presence,
    Seniority,
    Skills,
    WrapUpRecord,
)
from ...console.core.routing import RoutingRules
from .. import local_prefetch
from ..base import (
    AgentUpdated,
    AuthError,
    Backend,
    BackendContext,
    Capabilities,
    Command,
    CommandKind,
    CommandResult,
    ConversationUpserted,
    CsatRecorded,
    CustomerUpdated,
    Event,
    Invalid,
    MessageAdded,
    NotFound,
    Snapshot,
    TypingChanged,
    Unavailable,
    WrappedUp,
)
from ..optional import Offer, SearchHit
from ..setting import Setting
from ..settings import read_settings, secret_name
from . import claims
from .database import (
    TRANSIENT_ERRORS,
    AccessRefused,
    DatabaseUnavailable,
    SchemaTooNew,
    Target,
    as_target,
    has_password,
    is_postgres,
    short_name,
    shown,
)
from .listener import CATCH_UP, ChangeListener
from .rows import (
    AGENT_COLUMNS,
    BACKEND_NAME,
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    SCHEMA_VERSION,
    agent_from_row,
    conversation_from_row,
    customer_from_row,
    local_id,
    message_from_row,
    qualify,
)
from .search_pair import open_second
from .sessions import GONE_AFTER, HEARTBEAT, Heartbeat, Session
from .workspace import Change, Workspace

T = TypeVar("T")
# CSAT answers sent with a snapshot: the wallboard's week.
CSAT_SECONDS = 7 * 24 * 3600.0
# Wrap-ups sent with a snapshot: the wallboard counts those of its day and of the last hour (metrics.py), and
# the day starts less than 24 h ago in any time zone. A week of them was 78,000 records (23 MB) in every
# console at a million conversations, six days of which no figure read.
WRAPUPS_SECONDS = 24 * 3600.0
# Changes read at once: bounds one batch's memory; a backlog is read in several, each one deduplicated. The
# hub queues up to 4 batches and the console holds one being applied: at about 600 bytes a decoded change,
# 5,000 keeps that under 15 MB when the console falls behind (10,000 could reach 30 MB, and Python keeps
# memory it once held). At 5,000 changes a second a read every 0.2 s holds about 1,000.
READ_LIMIT = 5_000
POLL_SECONDS = 0.1
_CHUNK = 500
# SQLite's page cache on the console's connection, in KiB (the default is 2 MB). The console reads the file
# in one scan (the snapshot), then rows by id (the change feed), which a bigger cache barely helps: the tree's
# inner pages fit in this, and the leaves of 1,000 scattered rows miss in 2 MB too. At 100k conversations the
# default's 2 MB stayed full after the snapshot.
PAGE_CACHE_KIB = 512
# How long the console's first frame may wait for the reader process's head (local_prefetch.py). The child
# has it ~30 ms after the start, the console asks ~200 ms after: a child still busy (a cold disk) is not
# waited for, and the head then comes once connected, as without a reader.
READY_HEAD_WAIT = 0.05


def default_agent(agent_id: str, name: str | None = None) -> Agent:
    """An agent with every channel and the common languages: what a lone user of the demo expects."""
    return Agent(
        id=agent_id,
        name=name or agent_id,
        skills=Skills(
            channels={channel: 2 for channel in Channel},
            languages=("en", "fr", "de", "es", "it", "nl"),
            seniority=Seniority.SENIOR,
        ),
        presence=Presence.AVAILABLE,
    )


class LocalBackend(Backend):
    name = BACKEND_NAME
    # Every command but the phone's keypad: commands.py's handlers, imported at the first command rather than
    # before the first frame (tests/adapters/test_local_lazy_imports.py holds the two together).
    capabilities = Capabilities(
        channels=frozenset(Channel), commands=frozenset(CommandKind) - {CommandKind.SEND_DTMF}
    )

    def __init__(
        self,
        path: str | Path,
        *,
        agent_id: str | None = None,
        agent: Agent | None = None,
        poll_interval: float = POLL_SECONDS,
        register: bool = True,
        password: Callable[[], str | None] | str | None = None,
        catch_up_interval: float = CATCH_UP,
    ) -> None:
        # A file (Path) or a PostgreSQL database (a postgresql:// DSN): database.py.
        self.path: Target = as_target(path) if isinstance(path, str) else path
        # The PostgreSQL password when the DSN has none: stored by `standardiste login` (asked for at
        # connect, so a keyring that cannot answer is said then); None leaves it to PGPASSWORD or .pgpass.
        self._password = password
        # On PostgreSQL changes are announced (NOTIFY): the change log is read at once when one is, and every
        # `catch_up_interval` seconds anyway, so a lost notification delays a change, never loses it.
        self.catch_up_interval = catch_up_interval
        self._listener: ChangeListener | None = None
        self.agent_id = agent.id if agent else (agent_id or getpass.getuser())
        self._agent = agent
        self.poll_interval = poll_interval
        # A supervisor watches without joining the routing pool as an available agent.
        self.register = register
        self._executor: ThreadPoolExecutor | None = None
        self._ws: Workspace | None = None
        self._seq = 0
        self._closed = asyncio.Event()
        # The console's heartbeat on the file (sessions.py); the app sets these from `[presence]`.
        self.heartbeat = HEARTBEAT
        self.gone_after = GONE_AFTER
        self._heartbeat: Heartbeat | None = None
        # One session for the life of this console, reconnects included (so one row, and a quit after a
        # reconnect is not mistaken for another console of the agent). A supervisor (register=False) has
        # none: it beats only to reap the gone.
        self._session = Session.new(self.agent_id) if register else None
        # Told when writing to the file fails for its storage (the error) and when it works again (None).
        self.on_write_trouble: Callable[[BaseException | None], None] | None = None
        # Set by the hub (optional.ConnectProgress): told when opening the file takes long.
        self.on_connect_progress: Callable[[str], None] | None = None
        self._search_heads: sqlite3.Connection | None = None  # opened at the first search of the file
        self._write_failed = False
        self._workspace_id = ""

    settings = (
        Setting(
            "db",
            str,
            None,
            help="the workspace file (default: workspace.db in the data directory), or a team's PostgreSQL "
            "database as postgresql://user@host/dbname",
        ),
        Setting(
            "password",
            secret=True,
            help="the PostgreSQL password, when db is a database (or PGPASSWORD, or ~/.pgpass)",
        ),
        Setting(
            "poll_interval",
            float,
            POLL_SECONDS,
            positive=True,
            help="seconds between reads of the change log",
        ),
    )

    @classmethod
    def secrets_for(cls, table: Mapping[str, Any]) -> list[Setting]:
        db = table.get("db")
        if isinstance(db, str) and is_postgres(db) and not has_password(db):
            return super().secrets_for(table)
        return []  # a file has no password

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> LocalBackend:
        """A `[workspaces.NAME] backend = "local"` table. Its ids are always `local:`, whatever the table is
        called: a console has one local workspace."""
        values = read_settings(cls.settings, name, settings)
        if values["db"] and is_postgres(values["db"]):
            key = secret_name(name, cls.settings, "password")

            def password() -> str | None:
                try:
                    return context.secret(key)
                except AuthError:  # nothing stored: PGPASSWORD, PGPASSFILE or ~/.pgpass may have it
                    return None

            return cls(
                values["db"],
                agent_id=context.agent_id,
                agent=context.agent,
                poll_interval=values["poll_interval"],
                password=None if has_password(values["db"]) else password,
            )
        path = as_target(values["db"]) if values["db"] else context.data_dir / "workspace.db"
        assert isinstance(path, Path)
        # A new file is a new workspace, but in a directory that does not exist it is a typo.
        if path.is_dir():
            raise Invalid(f"[workspaces.{name}] db: {path} is a directory, not a workspace file")
        if not path.parent.is_dir():
            raise Invalid(f"[workspaces.{name}] db: the directory {path.parent} does not exist (a typo?)")
        return cls(
            path, agent_id=context.agent_id, agent=context.agent, poll_interval=values["poll_interval"]
        )

    # ------------------------------------------------------------------------------------------ plumbing

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise Unavailable("the local workspace is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except AccessRefused as error:  # a read-only role, or GRANTs missing: not retryable, said as such
            raise AuthError(str(error)) from error
        except DatabaseUnavailable as error:  # the server's words already name it (without the password)
            raise Unavailable(str(error)) from error
        except TRANSIENT_ERRORS as error:
            # The storage's state (disk full, read-only, failing, locked too long, the server gone), not a bug:
            # a typed, retryable error the console reports and carries on from (console/core/storage.py).
            raise Unavailable(f"the workspace {short_name(self.path)}: {error}") from error

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            raise Unavailable("the local workspace is not open")
        return self._ws

    def _connect_progress(self, detail: str) -> None:
        if self.on_connect_progress is not None:
            self.on_connect_progress(detail)

    async def connect(self) -> None:
        self._closed.clear()  # the hub closes and connects again after a failure: the new stream must run
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-workspace")
        try:
            password = await self._run(self._the_password)
            self._ws = await self._run(
                partial(Workspace, self.path, password=password, on_progress=self._connect_progress)
            )
        except SchemaTooNew as error:  # not retryable: a newer console made it
            raise Invalid(str(error)) from error
        except Unavailable:
            raise
        except Exception as error:  # a locked, unreadable or corrupt file; a server that does not answer
            raise Unavailable(f"cannot open the workspace {shown(self.path)}: {error}") from error
        if self._ws.dialect == "sqlite":
            await self._run(self._ws.db.execute, f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        if self._ws.shared:
            self._listener = ChangeListener(str(self.path), password)
            try:
                await self._listener.start()
            except DatabaseUnavailable as error:
                raise Unavailable(str(error)) from error
        self._workspace_id = await self._run(self._own_workspace_id)
        # The commands' module (with sent_files and the email package) is imported here, in the worker and after
        # the first frame, so that neither that frame nor the event loop at the first command waits for it.
        await self._run(importlib.import_module, f"{__package__}.commands")
        if self.register:
            await self._run(self._register_me)
        self._heartbeat = Heartbeat(
            self.path,
            self._session,
            password=password,
            every=self.heartbeat,
            gone_after=self.gone_after,
            on_error=self._write_outcome,
        )
        await self._heartbeat.start()

    def _the_password(self) -> str | None:
        return self._password() if callable(self._password) else self._password

    @property
    def workspace_id(self) -> str:
        return self._workspace_id

    def _own_workspace_id(self) -> str:
        """The id stored in the file, made on first open: a moved or renamed file keeps it (a copy made
        with `cp` keeps it too: a copy of a workspace is the same workspace until one of them is reset)."""
        read = "SELECT value FROM meta WHERE key = 'workspace_id'"
        row = self.ws.db.execute(read).fetchone()
        if row is None:  # written once, so that a read-only role (a supervisor) opens it without a write
            try:
                with self.ws.transaction() as db:
                    db.execute(
                        "INSERT INTO meta (key, value) VALUES ('workspace_id', ?) ON CONFLICT DO NOTHING",
                        (uuid.uuid4().hex,),
                    )
                    row = db.execute(read).fetchone()
            except AccessRefused:  # a read-only role before any agent's console: named by its address
                return "local:" + hashlib.sha256(shown(self.path).encode()).hexdigest()[:32]
        return f"local:{row[0]}"

    def _register_me(self) -> None:
        existing = self.ws.agent(self.agent_id)
        if existing is None or self._agent is not None:
            # A profile from the config is the truth for skills and capacity; presence stays as it was.
            self.ws.upsert_agent(self._agent or default_agent(self.agent_id))
        if existing is None or existing.presence is Presence.OFFLINE:
            self.ws.set_presence(self.agent_id, Presence.AVAILABLE)

    async def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if self._heartbeat is not None:
            # Not a sign-off: the hub also closes to reconnect, and presence must survive that (an agent at
            # lunch is not made available by a reconnect). `sign_off` is the quit.
            with contextlib.suppress(Exception):
                await self._heartbeat.stop(sign_off=False)
            self._heartbeat = None
        if self._ws is not None:
            ws = self._ws
            if not self.register:  # no session to end: clear the supervisor's marks here
                with contextlib.suppress(Exception):
                    await self._run(ws.set_agent_activity, self.agent_id, viewing=None, typing_in=None)
            await self._run(ws.close)
            self._ws = None
        if self._search_heads is not None:
            await self._run(self._search_heads.close)
            self._search_heads = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def sign_off(self) -> None:
        """The console quits: offline, viewing and typing marks cleared now, unless another console of this
        agent still runs (sessions.py). Then `close`."""
        if self._heartbeat is not None:
            with contextlib.suppress(Exception):
                await self._heartbeat.stop(sign_off=True)
            self._heartbeat = None

    # ------------------------------------------------------------------------------ optional capabilities
    # Offers (push routing), Records and Sessions of backends/optional.py, on the adapter's own thread.

    async def offer_next(self, agent_id: str, now: float, rules: RoutingRules | None = None) -> Offer | None:
        return await self._run(claims.offer_next, self.ws, agent_id, now, rules)

    async def accept_offer(self, agent_id: str, conversation_id: str) -> Conversation:
        return await self._run(claims.accept_offer, self.ws, agent_id, conversation_id)

    async def decline_offer(self, agent_id: str, conversation_id: str) -> None:
        await self._run(claims.decline_offer, self.ws, agent_id, conversation_id)

    async def records(
        self, csat_since: float, wrapups_since: float
    ) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        ws = self.ws
        return await self._run(lambda: (ws.csat(since=csat_since), ws.wrapups(since=wrapups_since)))

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Search (backends/optional.py) over the full-text index: the file's (search.py), or PostgreSQL's
        (search_postgres.py); owner:me is this agent."""

        from . import search  # loaded at the connection (Workspace.ensure_index)

        def found() -> list[SearchHit]:
            if self.ws.dialect == "postgres":
                from . import search_postgres  # in the worker: a console on a file never imports it

                hits = search_postgres.search(self.ws.db, query, limit=limit, me=self.agent_id)
            else:
                if self._search_heads is None:  # the heads' index read beside the messages' (search_pair.py)
                    with contextlib.suppress(sqlite3.Error):  # else one after the other, on the first
                        self._search_heads = open_second(str(self.ws.path), cache_kib=PAGE_CACHE_KIB)
                hits = search.search(
                    self.ws.db, query, limit=limit, me=self.agent_id, heads_db=self._search_heads
                )
            return [replace(hit, conversation=self.ws.conversation(hit.conversation_id)) for hit in hits]

        try:
            return await self._run(found)
        except search.SearchError as error:
            raise Invalid(str(error)) from error

    # ------------------------------------------------------------------------------------------ contract

    async def snapshot(self) -> Snapshot:
        def read() -> Snapshot:
            with long_lived():  # 100k rows decoded without the collector walking them (core/collector.py)
                conversations = self._prefetched()
                if conversations is None:
                    self._seq = self.ws.last_change()
                    conversations = self.ws.conversations()
                return Snapshot(
                    conversations=conversations,
                    agents=self.ws.agents(),
                    me=self.agent_id,
                    csat=self.ws.csat(since=time.time() - CSAT_SECONDS),
                    wrapups=self.ws.wrapups(since=time.time() - WRAPUPS_SECONDS),
                )

        return await self._run(read)

    def _prefetched(self) -> list[Conversation] | None:
        """The rows a reader process read at the console's start (local_prefetch.py), if it read this file
        as it is now (its schema); the change log's position with them."""
        prefetch = local_prefetch.claim(self.path) if isinstance(self.path, Path) else None
        taken = prefetch.take() if prefetch is not None else None
        if taken is None or taken.schema_version != SCHEMA_VERSION:
            return None
        try:
            # Record by record: the raw rows of one record at most are held beside the conversations.
            conversations = [conversation_from_row(row) for record in taken.records for row in record]
        except (EOFError, ValueError, TypeError, KeyError):  # a record cut short or not rows of this schema
            return None
        self._seq = taken.seq
        return conversations

    def ready_head(self, limit: int) -> Snapshot | None:
        """ReadyHead (backends/optional.py): the head the reader process read at the console's start, if it read
        this file as it is now (its schema) and as many rows as asked; the snapshot then takes the rest."""
        prefetch = local_prefetch.peek(self.path) if isinstance(self.path, Path) else None
        if prefetch is None or limit > local_prefetch.HEAD_ROWS:
            return None
        head = prefetch.head(READY_HEAD_WAIT)
        if head is None or head.schema_version != SCHEMA_VERSION:
            return None
        try:
            conversations = [conversation_from_row(row) for row in head.rows[:limit]]
            agents = [agent_from_row(row) for row in head.agents]
        except (ValueError, TypeError, KeyError, IndexError):  # not rows of this schema
            return None
        return Snapshot(conversations=conversations, agents=agents, me=self.agent_id)

    async def queue_head(self, limit: int) -> Snapshot:
        """QueueHead (backends/optional.py): the queue's first rows, read by its index before the snapshot."""

        def read() -> Snapshot:
            return Snapshot(
                conversations=self.ws.queue_head(limit), agents=self.ws.agents(), me=self.agent_id
            )

        return await self._run(read)

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        while not self._closed.is_set():
            try:
                batch = await self._run(self._read_changes)
            except Unavailable:
                if self._closed.is_set():
                    return
                raise  # the file failed: the hub closes, reconnects and snapshots again
            if batch:
                yield batch
                continue
            if self._listener is not None:
                try:
                    await self._listener.wait(self.catch_up_interval, self._closed)
                except DatabaseUnavailable as error:
                    if self._closed.is_set():
                        return
                    raise Unavailable(str(error)) from error  # the hub reconnects and snapshots again
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self.poll_interval)

    async def history(self, conversation_id: str) -> list[Message]:
        def read() -> list[Message]:
            try:
                if self.ws.conversation(conversation_id) is not None:
                    return self.ws.messages(conversation_id)
            except ValueError:  # an id of another backend, or not a row number
                pass
            raise NotFound(f"no conversation {conversation_id} in the local workspace")

        return await self._run(read)

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        if not command.agent_id:
            command = replace(command, agent_id=self.agent_id)
        from . import commands  # imported at the connection (connect), not before the first frame

        try:
            result = await self._run(commands.perform, self.ws, command)
        except (Unavailable, AuthError) as error:  # the storage failed, or refused a read-only role's write
            self._write_outcome(error)
            raise
        self._write_outcome(None)
        return result

    def _write_outcome(self, error: BaseException | None) -> None:
        if (error is None and not self._write_failed) or self.on_write_trouble is None:
            return
        self._write_failed = error is not None
        self.on_write_trouble(error)

    async def customer(self, customer_id: str) -> Customer | None:
        return await self._run(self.ws.customer, customer_id)

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        return await self._run(self.ws.conversations_of_customer, customer_id)

    async def attachment(self, conversation_id: str, attachment: Attachment) -> bytes:
        """A customer's attachments and the files an agent sent (sent_files.py) live in the message's raw MIME;
        `ref` is `<message row>/<part index>`."""
        from email import message_from_bytes, policy

        from . import sent_files

        if sent_files.is_file_here(attachment):
            # Sent before the bytes were kept with the reply: only a path on the sender's machine is known.
            raise NotFound(
                f"{attachment.filename} was not kept in the workspace (sent from {attachment.ref})"
            )
        message_ref, _, index = attachment.ref.partition("/")
        raw = await self._run(self.ws.raw_message, message_ref)
        if raw is None:
            raise NotFound(f"no stored content for {attachment.filename}")
        parsed = message_from_bytes(raw, policy=policy.default)
        parts = [p for p in parsed.walk() if not p.is_multipart()]
        try:
            payload = parts[int(index)].get_payload(decode=True)
        except (IndexError, ValueError):
            raise NotFound(f"no stored content for {attachment.filename}") from None
        return payload if isinstance(payload, bytes) else b""

    # ------------------------------------------------------------------------------------------ change feed

    def _read_changes(self) -> list[Event]:
        changes = self.ws.changes_since(self._seq, limit=READ_LIMIT)
        if not changes:
            return []
        self._seq = changes[-1].seq
        return self._events_for(changes)

    def _events_for(self, changes: list[Change]) -> list[Event]:
        refs: dict[str, dict[str, None]] = {}
        for change in changes:
            refs.setdefault(change.kind, {})[change.ref] = None  # ordered set
        db = self.ws.db
        events: list[Event] = []
        for customer_row in _rows(
            db,
            "SELECT id, name, language, email, phone, social_handle, country FROM customers WHERE id IN ({})",
            refs.get("customer", {}),
        ):
            events.append(CustomerUpdated(customer_from_row(customer_row)))
        for row in _rows(
            db,
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id IN ({{}})",
            _numbers(refs.get("conversation", {})),
        ):
            events.append(ConversationUpserted(conversation_from_row(row)))
        for row in _rows(
            db,
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({{}}) ORDER BY id",
            _numbers(refs.get("message", {})),
        ):
            events.append(MessageAdded(message_from_row(row)))
        for row in _rows(db, f"SELECT {AGENT_COLUMNS} FROM agents WHERE id IN ({{}})", refs.get("agent", {})):
            events.append(AgentUpdated(agent_from_row(row)))
        for row in _rows(
            db,
            "SELECT conversation_id, channel, score, comment, at, agent_id, customer_id "
            "FROM csat WHERE id IN ({})",
            _numbers(refs.get("csat", {})),
        ):
            events.append(CsatRecorded(CsatRecord(qualify(row[0]), Channel(row[1]), *row[2:])))
        for row in _rows(
            db,
            "SELECT conversation_id, agent_id, disposition, note, at, handle_seconds "
            "FROM wrapups WHERE id IN ({})",
            _numbers(refs.get("wrapup", {})),
        ):
            events.append(WrappedUp(WrapUpRecord(qualify(row[0]), *row[1:])))
        now = time.time()
        for ref in refs.get("typing", {}):
            conversation, _, who = ref.partition(" ")
            row = db.execute(
                "SELECT until FROM typing WHERE conversation_id = ? AND who = ?", (int(conversation), who)
            ).fetchone()
            events.append(TypingChanged(qualify(conversation), who, bool(row and row[0] > now)))
        return events


def _numbers(refs: dict[str, None]) -> dict[Any, None]:
    """Refs of integer rows as integers: PostgreSQL does not compare a number column with text."""
    return {int(ref): None for ref in refs}


def _rows(db: Any, sql: str, ids: dict[Any, None]) -> Iterator[Sequence[Any]]:
    """The rows of `ids`, read `_CHUNK` at a time: the raw rows of one chunk at most are held while they are
    decoded, not those of the whole batch beside its events."""
    keys = list(ids)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        yield from db.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()


__all__ = ["LocalBackend", "default_agent", "local_id"]
