"""`ImapBackend`: an email workspace on a real mail server, IMAP for reading and SMTP for replies.

Two IMAP connections: the watcher's (IDLE or polling on the inbox, see `connection.py`) and the command link
(history, marks, Sent; see `command_link.py`). A local SQLite file in `data_dir` holds the index (headers and
threads), the marks when the server takes no keywords, the notes and the reply journal. How this maps to the
contract, and what several agents on one mailbox see, is in docs/email.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...console.core.model import (
    Attachment,
    Channel,
    Conversation,
    Customer,
    Direction,
    EmailHeaders,
    Message,
    State,
)
from ..base import (
    Accept,
    Assign,
    Backend,
    BackendContext,
    Capabilities,
    Claim,
    Command,
    CommandKind,
    CommandResult,
    Conflict,
    ConversationRemoved,
    ConversationUpserted,
    CustomerUpdated,
    Event,
    Invalid,
    MessageAdded,
    Note,
    NotFound,
    Release,
    Reply,
    SetPriority,
    SetStatus,
    Snapshot,
    Tags,
    Unavailable,
    Unsupported,
    qualify,
    split_id,
)
from ..settings import secret_name
from .command_link import CommandLink
from .connection import Watcher
from .conversations import (
    build_conversation,
    build_message,
    conversation_id,
    customer_of,
    effective_state,
    note_message,
    thread_of,
)
from .index import INBOX, SENT, IndexedMessage, MailIndex, open_db
from .local_state import EMAIL_STATES, Journal, Marks, Notes, TableMarks, ensure_schema
from .mark_writer import MarkWriter
from .mime import ParsedMail, parse_message
from .reply import ReplySender, fetch_part, parent_of
from .search import Searching
from .session import ImapSession
from .settings import SETTINGS, ImapSettings, parse_settings
from .sync import FolderSync, SyncResult
from .workers import Worker

SUPPORTED = frozenset(
    {
        CommandKind.REPLY,
        CommandKind.NOTE,
        CommandKind.CLAIM,
        CommandKind.ACCEPT,
        CommandKind.ASSIGN,
        CommandKind.RELEASE,
        CommandKind.SET_STATUS,
        CommandKind.SET_PRIORITY,
        CommandKind.TAGS,
    }
)
# Parsed bodies kept in memory for reopening a conversation, bounded by characters.
_CACHE_CHARS = 20_000_000


class ImapBackend(Searching, Backend):
    capabilities = Capabilities(channels=frozenset({Channel.EMAIL}), commands=SUPPORTED)
    settings = SETTINGS

    def __init__(
        self,
        name: str,
        settings: ImapSettings,
        *,
        agent_id: str,
        data_dir: Path,
        secret: Callable[[], str],
        idle_tick: float = 5.0,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
        sent_every: float | None = None,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise Invalid(f"workspace name {name!r}: use letters, digits, '.', '_' or '-'")
        self.name = name
        self.settings = settings
        self.agent_id = agent_id
        self.data_dir = Path(data_dir)
        self._secret = secret
        self._idle_tick = idle_tick
        self._retry = (retry_base, retry_cap)
        self._sent_every = sent_every or settings.poll_seconds
        self._queue: asyncio.Queue[list[Event] | None] = asyncio.Queue()
        self._db: Worker | None = None
        self._index: MailIndex | None = None
        self._link: CommandLink | None = None
        self._marks: MarkWriter | None = None
        self._notes: Notes | None = None
        self._journal: Journal | None = None
        self._smtp: Worker | None = None
        self.watcher: Watcher | None = None
        self._sent_task: asyncio.Task[None] | None = None
        self._announced: set[str] = set()
        self._customers: set[str] = set()
        self._bodies: OrderedDict[str, ParsedMail] = OrderedDict()
        self._body_chars = 0
        self._closed = asyncio.Event()
        self.keywords = False

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> ImapBackend:
        return cls(
            name,
            parse_settings(name, settings),
            agent_id=context.agent_id,
            data_dir=context.data_dir,
            # Asked for when connecting, so that a missing password is an AuthError the console shows.
            secret=lambda: context.secret(secret_name(name, cls.settings, "password")),
        )

    @property
    def workspace_id(self) -> str:
        """The mailbox: server, port, login and folder (case of the host ignored, as DNS does). Known
        before connecting, so a reply queued while the server is down waits for this mailbox only."""
        s = self.settings
        return f"imap:{s.user}@{s.host.lower()}:{s.port}/{s.inbox}"

    # ------------------------------------------------------------------------------------------ plumbing

    @property
    def db(self) -> Worker:
        if self._db is None:
            raise Unavailable(f"{self.name} is not connected")
        return self._db

    @property
    def index(self) -> MailIndex:
        if self._index is None:
            raise Unavailable(f"{self.name} is not connected")
        return self._index

    @property
    def link(self) -> CommandLink:
        if self._link is None:
            raise Unavailable(f"{self.name} is not connected")
        return self._link

    def _folder_sync(self, role: str, session: ImapSession, worker: Worker) -> FolderSync:
        return FolderSync(
            role=role,
            session=session,
            imap=worker,
            db=self.db,
            index=self.index,
            max_body_chars=self.settings.max_body_chars,
            max_fetch_bytes=self.settings.max_fetch_bytes,
        )

    def _emit(self, events: list[Event]) -> None:
        if events:
            self._queue.put_nowait(events)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        self._closed.clear()
        self._queue = asyncio.Queue()  # a reconnect after close() must not find close()'s end marker
        if self._db is None:
            self._db = Worker(f"imap-db-{self.name}")
            path = self.data_dir / f"imap-{self.name}.sqlite3"
            db = await self._db.run(open_db, path)
            self._index = await self._db.run(MailIndex, db, self.settings.own_addresses)
            await self._db.run(ensure_schema, db)
            self._notes, self._journal = Notes(db), Journal(db)
        if self._smtp is None:
            self._smtp = Worker(f"smtp-{self.name}")
        self._link = CommandLink(self.name, self.settings, self._secret)
        info = await self._link.call(lambda s: s.ensure_selected(self.settings.inbox))
        self.keywords = info.keywords_allowed
        self._marks = MarkWriter(
            link=self._link,
            db=self.db,
            index=self.index,
            table=TableMarks(self.index.db),
            keywords=self.keywords,
            inbox=self.settings.inbox,
        )

    async def close(self) -> None:
        self._closed.set()
        self._queue.put_nowait(None)
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        if self._sent_task is not None:
            self._sent_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sent_task
            self._sent_task = None
        if self._link is not None:
            await self._link.close()
            self._link = None
        if self._db is not None:
            index = self._index
            if index is not None:
                with contextlib.suppress(Exception):
                    await self._db.run(index.db.close)
            self._db.shutdown()
            self._db = self._index = None
        if self._smtp is not None:
            self._smtp.shutdown()
            self._smtp = None

    # ------------------------------------------------------------------------------------------ snapshot

    async def snapshot(self) -> Snapshot:
        async with self.link.session() as (session, worker):
            info = await worker.run(session.select, self.settings.inbox)
            await self._folder_sync(INBOX, session, worker).catch_up(info, full=True, bodies=False)
            session.pending_changes()
        with contextlib.suppress(Unavailable, NotFound, Invalid):
            await self._sync_sent(bodies=False)
        conversations, customers = await self.db.run(self._everything)
        self._announced = {c.id for c in conversations}
        self._customers = {c.id for c in customers}
        return Snapshot(conversations=conversations, customers=customers, me=self.agent_id)

    def _everything(self) -> tuple[list[Conversation], list[Customer]]:
        threads = self.index.all_threads()
        assert self._marks is not None
        marks = self._marks.marks_for(threads)
        conversations: list[Conversation] = []
        customers: dict[str, Customer] = {}
        for thread, rows in threads.items():
            conversation = build_conversation(
                self.name, thread, rows, marks[thread], self.settings.language, self.settings.queue
            )
            if conversation is not None:
                conversations.append(conversation)
            customer = customer_of(self.name, rows)
            if customer is not None:
                customers.setdefault(customer.id, customer)
        return conversations, list(customers.values())

    async def _sync_sent(self, *, bodies: bool) -> SyncResult:
        if not self.settings.sent:
            return SyncResult()
        async with self.link.session() as (session, worker):
            stored = await self.db.run(self.index.folder_state, SENT)
            if stored is not None:
                uidvalidity, uidnext = await worker.run(session.status, self.settings.sent)
                if (uidvalidity, uidnext) == (stored.uidvalidity, stored.uidnext):
                    return SyncResult()
            info = await worker.run(lambda: session.ensure_selected(self.settings.sent, readonly=True))
            return await self._folder_sync(SENT, session, worker).catch_up(info, full=False, bodies=bodies)

    # ------------------------------------------------------------------------------------------ events

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        if self.watcher is None and not self._closed.is_set():
            self.watcher = Watcher(
                name=self.name,
                settings=self.settings,
                secret=self._secret,
                make_sync=lambda session, worker: self._folder_sync(INBOX, session, worker),
                deliver=self._deliver,
                status=lambda status: self._emit([status]),
                idle_tick=self._idle_tick,
                retry_base=self._retry[0],
                retry_cap=self._retry[1],
            )
            self.watcher.start()
            self._sent_task = asyncio.create_task(self._watch_sent(), name=f"imap-sent-{self.name}")
        while not self._closed.is_set():
            batch = await self._queue.get()
            if batch is None:
                return
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    yield batch
                    return
                batch.extend(more)
            yield batch

    async def _watch_sent(self) -> None:
        """Replies sent by other agents (from other consoles or mail clients) join their threads."""
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._sent_every)
            if self._closed.is_set():
                return
            try:
                await self._deliver(await self._sync_sent(bodies=True))
            except asyncio.CancelledError:
                raise
            except Exception:  # the watcher reports the link state; this one retries at its next turn
                continue

    async def _deliver(self, result: SyncResult) -> None:
        if result:
            self._emit(await self.db.run(self._events_for, result))

    def _events_for(self, result: SyncResult) -> list[Event]:
        """Events for a sync result (database thread): conversations first, then their new messages."""
        assert self._marks is not None
        threads = self.index.threads(result.changed_threads | {r.thread for r in result.added})
        marks = self._marks.marks_for(threads)
        events: list[Event] = []
        live: set[str] = set()
        for thread, rows in threads.items():
            cid = conversation_id(self.name, thread)
            customer = customer_of(self.name, rows)
            if customer is not None and customer.id not in self._customers:
                self._customers.add(customer.id)
                events.append(CustomerUpdated(customer))
            conversation = build_conversation(
                self.name, thread, rows, marks[thread], self.settings.language, self.settings.queue
            )
            if conversation is None:
                if cid in self._announced:
                    self._announced.discard(cid)
                    events.append(ConversationRemoved(cid))
                continue
            self._announced.add(cid)
            live.add(thread)
            events.append(ConversationUpserted(conversation))
        for row in result.added:
            parsed = result.bodies.get(row.uid)
            if row.thread in live and parsed is not None and row.message_id not in result.known_again:
                self._remember(row.ref, parsed)
                events.append(MessageAdded(build_message(self.name, row, parsed)))
        return events

    # ------------------------------------------------------------------------------------------ history

    def _remember(self, ref: str, parsed: ParsedMail) -> None:
        if ref in self._bodies:
            self._bodies.move_to_end(ref)
            return
        self._bodies[ref] = parsed
        self._body_chars += len(parsed.body)
        while self._body_chars > _CACHE_CHARS and len(self._bodies) > 1:
            _, dropped = self._bodies.popitem(last=False)
            self._body_chars -= len(dropped.body)

    def _thread(self, conversation_id: str) -> str:
        thread = thread_of(self.name, conversation_id)
        if not thread:
            raise NotFound(f"{conversation_id} is not a conversation of {self.name}")
        return thread

    async def history(self, conversation_id: str) -> list[Message]:
        thread = self._thread(conversation_id)
        rows = await self.db.run(self.index.thread_rows, thread)
        notes = await self.db.run(self._require_notes().of, thread)
        if not rows and not notes:
            raise NotFound(f"no conversation {conversation_id}")
        missing = [r for r in rows if r.ref not in self._bodies]
        for role in (INBOX, SENT):
            wanted = [r for r in missing if r.role == role]
            if wanted:
                for ref, parsed in (await self._download(role, wanted)).items():
                    self._remember(ref, parsed)
        messages = [build_message(self.name, r, self._bodies.get(r.ref)) for r in rows]
        messages += [note_message(self.name, n) for n in notes]
        return sorted(messages, key=lambda m: m.created_at)

    async def _download(self, role: str, rows: list[IndexedMessage]) -> dict[str, ParsedMail]:
        folder = self.settings.inbox if role == INBOX else self.settings.sent
        limit, chars = self.settings.max_fetch_bytes, self.settings.max_body_chars

        def fetch(session: ImapSession) -> dict[str, ParsedMail]:
            info = session.ensure_selected(folder, readonly=role == SENT)
            current = [r for r in rows if r.uidvalidity == info.uidvalidity]
            by_uid = {r.uid: r for r in current}
            found = session.fetch_messages(list(by_uid), limit)
            return {
                by_uid[m.uid].ref: parse_message(m.data, max_chars=chars, partial=m.partial)
                for m in found
                if m.uid in by_uid
            }

        return await self.link.call(fetch)

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        try:
            prefix, address = split_id(customer_id)
        except Invalid:
            return []
        if prefix != self.name:
            return []

        def read() -> list[Conversation]:
            assert self._marks is not None
            threads = self.index.threads(self.index.threads_of_customer(address))
            marks = self._marks.marks_for(threads)
            found = [
                build_conversation(self.name, t, rows, marks[t], self.settings.language, self.settings.queue)
                for t, rows in threads.items()
            ]
            return sorted((c for c in found if c), key=lambda c: c.updated_at, reverse=True)

        return await self.db.run(read)

    async def attachment(self, conversation_id: str, attachment: Attachment) -> bytes:
        self._thread(conversation_id)
        data = await fetch_part(self.link, self.settings, attachment.ref)
        if data is None:
            raise NotFound(f"no attachment {attachment.filename} here")
        return data

    # ------------------------------------------------------------------------------------------ commands

    def _require_notes(self) -> Notes:
        if self._notes is None:
            raise Unavailable(f"{self.name} is not connected")
        return self._notes

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        agent = command.agent_id or self.agent_id
        command = replace(command, agent_id=agent)
        thread = self._thread(command.conversation_id)
        if command.key and self._journal is not None:
            done = await self.db.run(self._journal.get, command.key)
            if done is not None and done[0] == "sent":
                return CommandResult(True, await self._conversation(thread), None, "already done")
        match command:
            case Reply():
                return await self._reply(thread, command)
            case Note():
                return await self._note(thread, command)
            case Claim() | Accept():
                return await self._claim(thread, agent, force=isinstance(command, Claim) and command.force)
            case Assign():
                return await self._set(thread, lambda m, rows: replace(m, assignee=command.assignee or None))
            case Release():
                return await self._set(thread, lambda m, rows: _release(m, agent))
            case SetStatus():
                if command.state not in EMAIL_STATES:
                    raise Invalid(f"an email cannot be {command.state.value}")
                return await self._set(thread, lambda m, rows: replace(m, status=command.state))
            case SetPriority():
                return await self._set(thread, lambda m, rows: replace(m, priority=command.priority))
            case Tags():
                return await self._set(thread, lambda m, rows: _retag(m, command.add, command.remove))
        raise Unsupported(f"{self.name} cannot {command.kind.value}")

    async def _conversation(self, thread: str) -> Conversation:
        def read() -> Conversation:
            assert self._marks is not None
            rows = self.index.thread_rows(thread)
            marks = self._marks.marks_for({thread: rows})[thread]
            conversation = build_conversation(
                self.name, thread, rows, marks, self.settings.language, self.settings.queue
            )
            if conversation is None:
                raise NotFound(f"no conversation {conversation_id(self.name, thread)} in the inbox")
            return conversation

        return await self.db.run(read)

    async def _changed(self, thread: str) -> Conversation:
        conversation = await self._conversation(thread)
        self._announced.add(conversation.id)
        self._emit([ConversationUpserted(conversation)])
        return conversation

    async def _set(
        self, thread: str, change: Callable[[Marks, Sequence[IndexedMessage]], Marks]
    ) -> CommandResult:
        assert self._marks is not None
        await self._marks.change(thread, change)
        return CommandResult(True, await self._changed(thread))

    async def _claim(self, thread: str, agent: str, *, force: bool) -> CommandResult:
        def take(marks: Marks, rows: Sequence[IndexedMessage]) -> Marks:
            if marks.assignee not in (None, agent) and not force:
                raise Conflict(f"{marks.assignee} is on this conversation", owner=marks.assignee)
            status = marks.status
            if effective_state(rows, marks) is State.NEW:
                status = State.OPEN
            return replace(marks, assignee=agent, status=status)

        assert self._marks is not None
        await self._marks.change(thread, take, claimant=agent)
        return CommandResult(True, await self._changed(thread))

    async def _note(self, thread: str, command: Note) -> CommandResult:
        if not command.body.strip():
            raise Invalid("an empty note is not saved")
        conversation = await self._conversation(thread)
        notes = self._require_notes()
        done = await self.db.run(notes.by_key, command.key) if command.key else None
        if done is not None:  # applied before: its MessageAdded went out then, not again
            return CommandResult(True, conversation, note_message(self.name, done), "already done")
        note = await self.db.run(notes.add, thread, command.agent_id, command.body, command.key)
        message = note_message(self.name, note)
        self._emit([MessageAdded(message)])
        return CommandResult(True, conversation, message)

    async def _reply(self, thread: str, command: Reply) -> CommandResult:
        if not command.body.strip() and not command.attachments:
            raise Invalid("an empty reply is not sent")
        assert self._marks is not None and self._journal is not None and self._smtp is not None
        agent = command.agent_id
        conversation = await self._conversation(thread)
        if conversation.assignee not in (None, agent):
            raise Conflict(f"{conversation.assignee} is on this conversation", owner=conversation.assignee)
        rows = await self.db.run(self.index.thread_rows, thread)
        sender = ReplySender(
            settings=self.settings,
            secret=self._secret,
            link=self.link,
            db=self.db,
            index=self.index,
            journal=self._journal,
            smtp=self._smtp,
        )
        sent = await sender.send(command, rows)

        def answered(marks: Marks, rows: Sequence[IndexedMessage]) -> Marks:
            state = effective_state(rows, marks)
            status = (
                State.PENDING if state in (State.NEW, State.OPEN) and not command.forward else marks.status
            )
            return replace(marks, assignee=marks.assignee or agent, status=status)

        detail = sent.detail
        try:
            await self._marks.change(thread, answered)
        except Exception as error:  # the mail went out: say what did not follow, do not fail the reply
            detail = "; ".join(d for d in (detail, f"sent, but the status was not updated: {error}") if d)
        if not command.forward:
            await self._mark_answered(parent_of(rows))
        conversation = await self._changed(thread)
        message = self._sent_message(thread, command, sent)
        self._emit([MessageAdded(message)])
        return CommandResult(True, conversation, message, detail)

    async def _mark_answered(self, parent: IndexedMessage) -> None:
        """\\Answered on the message replied to, as every mail client does (others see it was dealt with)."""
        if parent.role != INBOX:
            return

        def mark(session: ImapSession) -> dict[int, frozenset[str]]:
            info = session.ensure_selected(self.settings.inbox)
            if info.uidvalidity != parent.uidvalidity:
                return {}
            return session.add_flags([parent.uid], ["\\Answered"])

        with contextlib.suppress(Exception):  # cosmetic: never fail a sent reply over it
            flags = await self.link.call(mark)
            await self.db.run(self.index.set_flags, INBOX, flags)

    def _sent_message(self, thread: str, command: Reply, sent: Any) -> Message:
        row: IndexedMessage | None = sent.row
        headers = EmailHeaders(
            message_id=sent.message_id,
            in_reply_to=row.in_reply_to if row else "",
            references=row.references if row else (),
            from_addr=self.settings.from_addr,
            to=sent.to,
            cc=sent.cc,
            bcc=sent.bcc,
            subject=sent.subject,
        )
        return Message(
            id=qualify(self.name, row.ref if row else f"out/{sent.message_id.strip('<>')}"),
            conversation_id=conversation_id(self.name, thread),
            direction=Direction.OUTBOUND,
            author=command.agent_id,
            body=command.body,
            created_at=row.date if row else time.time(),
            attachments=tuple(command.attachments),
            email=headers,
        )


def _release(marks: Marks, agent: str) -> Marks:
    if marks.assignee not in (None, agent):
        raise Conflict(f"{marks.assignee} is on this conversation", owner=marks.assignee)
    return replace(marks, assignee=None)


def _retag(marks: Marks, add: Sequence[str], remove: Sequence[str]) -> Marks:
    removed = {t.strip().lower() for t in remove}
    tags = [t for t in marks.tags if t not in removed]
    tags += [t.strip().lower() for t in add if t.strip() and t.strip().lower() not in tags]
    return replace(marks, tags=tuple(dict.fromkeys(tags)))
