"""The hub: runs every configured backend, merges their events into one stream, routes commands back.

Each backend gets its own task: connect, snapshot, then tail `events()`. A backend that cannot be reached
is retried with backoff and jitter while the others keep working; its state is published as a
`BackendStatus` event so the console can say "mail: cannot reach imap.example.com, retrying in 8 s".
Everything a backend hands over passes `untrusted.clean_*` here, the one gate into the model. Events are
queued, not applied: the app drains the queue in batches (at most 30 times a second). The queue
is bounded, so a flood the console cannot keep up with waits in the backend instead of in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import cast

from ...backends.base import (
    Backend,
    BackendError,
    BackendStatus,
    Command,
    CommandKind,
    CommandResult,
    Event,
    HeadLoaded,
    Invalid,
    LinkState,
    RateLimited,
    SnapshotLoaded,
    Unsupported,
    split_id,
)
from ...backends.optional import (
    ConnectProgress,
    QueueActivity,
    QueueFigures,
    QueueHead,
    ReadyHead,
    Records,
    Search,
    SearchHit,
)
from ...backends.retry import Backoff
from .model import Attachment, Conversation, CsatRecord, Customer, Message, WrapUpRecord
from .sanitize import sanitize
from .untrusted import (
    clean_conversations,
    clean_csat,
    clean_customer,
    clean_events,
    clean_messages,
    clean_result,
    clean_snapshot,
    clean_wrapup,
)

log = logging.getLogger(__name__)
QUEUE_BATCHES = 4
# Rows of a backend's queue read before its snapshot (QueueHead): more than the tallest terminal shows.
HEAD_ROWS = 200
# How long a request waits for the first connection of a backend whose head was shown before it (ReadyHead):
# an agent may open a conversation of the first frame before the backend is connected, and its history must
# then come once it is, not fail. Past this, the request goes through and says what the backend says.
FIRST_LINK_WAIT = 15.0


class Hub:
    def __init__(self, backends: Sequence[Backend], *, heads: bool = True) -> None:
        """`heads`: read each `QueueHead` backend's first screenful before its snapshot (the agents' console;
        a wallboard counts the whole queue, so it waits for the snapshot)."""
        if not backends:
            raise Invalid("no backend configured")
        self.backends = {backend.name: backend for backend in backends}
        # Bounded: when the console falls behind, adapters stop reading and changes wait at the source,
        # where the next read collapses repeated updates of one conversation into one event.
        self.queue: asyncio.Queue[Sequence[Event]] = asyncio.Queue(maxsize=QUEUE_BATCHES)
        self._tasks: list[asyncio.Task[None]] = []
        self.me: dict[str, str] = {}
        self._heads = heads
        self._snapshotted: set[str] = set()  # a head is read once, before a backend's first snapshot
        self._head_shown: set[str] = set()  # taken by `ready_heads`, before connecting
        self._first_link = {name: asyncio.Event() for name in self.backends}  # set once each connects

    @property
    def primary(self) -> Backend:
        return next(iter(self.backends.values()))

    def ready_heads(self) -> list[Event]:
        """The heads the backends had read before the console asked (`ReadyHead`), for its first frame: each
        shown so is not read again once connected."""
        events: list[Event] = []
        if not self._heads:
            return events
        for backend in self.backends.values():
            if not isinstance(backend, ReadyHead) or backend.name in self._head_shown:
                continue
            head = backend.ready_head(HEAD_ROWS)
            if head is None:
                continue
            self._head_shown.add(backend.name)
            if head.me:
                self.me[backend.name] = head.me
            events.append(HeadLoaded(backend.name, clean_snapshot(head), len(head.conversations) < HEAD_ROWS))
        return events

    async def start(self) -> None:
        for backend in self.backends.values():
            self._tasks.append(asyncio.create_task(self._run(backend), name=f"backend-{backend.name}"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for backend in self.backends.values():
            with contextlib.suppress(Exception):
                await backend.close()

    def drain(self, limit: int = 50_000) -> list[Event]:
        """Everything queued so far, as one batch (bounded, so one frame never stalls on a flood)."""
        events: list[Event] = []
        while len(events) < limit:
            try:
                events.extend(self.queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        return events

    async def _run(self, backend: Backend) -> None:
        backoff = Backoff(base=1.0, cap=30.0)
        if isinstance(backend, ConnectProgress):
            backend.on_connect_progress = self._progress_of(backend.name)
        while True:
            await self.queue.put([BackendStatus(backend.name, LinkState.CONNECTING)])
            try:
                await backend.connect()
                self._first_link[backend.name].set()
                if (
                    self._heads
                    and backend.name not in self._snapshotted
                    and backend.name not in self._head_shown
                    and isinstance(backend, QueueHead)
                ):
                    # The first screenful, so that the console draws it while the snapshot is read.
                    head = await backend.queue_head(HEAD_ROWS)
                    if head.me:
                        self.me[backend.name] = head.me
                    complete = len(head.conversations) < HEAD_ROWS
                    await self.queue.put([HeadLoaded(backend.name, clean_snapshot(head), complete)])
                    del head
                snapshot = await backend.snapshot()
                if snapshot.me:
                    self.me[backend.name] = snapshot.me
                batch: list[Event] = [
                    SnapshotLoaded(backend.name, await asyncio.to_thread(clean_snapshot, snapshot)),
                    BackendStatus(backend.name, LinkState.CONNECTED),
                ]
                await self.queue.put(batch)
                self._snapshotted.add(backend.name)
                # Not kept while the event stream runs: these held every conversation of the snapshot, so each
                # one an update replaced stayed in memory (100k: +10 MB through a 12 s flood).
                del snapshot, batch
                backoff.reset()
                async for events in backend.events():
                    await self.queue.put(clean_events(events))
                return  # the backend closed its stream on purpose
            except asyncio.CancelledError:
                raise
            except (BackendError, OSError) as error:
                detail = str(error) or type(error).__name__
                # A server that said how long to wait (429 Retry-After) is not asked again sooner.
                asked = error.retry_after if isinstance(error, RateLimited) else 0.0
            except Exception as error:  # an adapter bug must not take the console down
                log.exception("backend %s failed", backend.name)
                detail = f"{type(error).__name__}: {error}"
                asked = 0.0
            delay = max(backoff.next(), asked)
            # A server's words (an IMAP NO, an HTTP error's body) reach the status line: sanitised here.
            detail = sanitize(detail, single_line=True)
            await self.queue.put([BackendStatus(backend.name, LinkState.DOWN, detail, retry_in=delay)])
            with contextlib.suppress(Exception):
                await backend.close()
            await asyncio.sleep(delay)

    def _progress_of(self, name: str) -> Callable[[str], None]:
        """A backend's word on a long connect, from whichever thread it calls: a CONNECTING status with it."""
        loop = asyncio.get_running_loop()

        def said(detail: str) -> None:
            status = BackendStatus(name, LinkState.CONNECTING, sanitize(detail, single_line=True))
            put = self.queue.put([status])
            try:
                asyncio.run_coroutine_threadsafe(put, loop)
            except RuntimeError:  # the loop is closed: the console quit while the backend was opening
                put.close()

        return said

    # ------------------------------------------------------------------------------------------ routing

    def backend_for(self, conversation_id: str) -> Backend:
        name, _ = split_id(conversation_id)
        backend = self.backends.get(name)
        if backend is None:
            raise Invalid(f"no backend named {name!r} for {conversation_id}")
        return backend

    async def _linked(self, backend: Backend) -> Backend:
        """`backend`, once it has connected if the console showed its head before (`ready_heads`): the
        conversations of the first frame are asked about only once the backend can answer."""
        link = self._first_link[backend.name]
        if backend.name in self._head_shown and not link.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.wait(), FIRST_LINK_WAIT)
        return backend

    def supports(self, kind: CommandKind, conversation: Conversation | None = None) -> bool:
        if conversation is not None:
            backend = self.backends.get(conversation.backend)
            return backend is not None and backend.capabilities.supports(kind)
        return any(b.capabilities.supports(kind) for b in self.backends.values())

    async def perform(self, command: Command) -> CommandResult:
        """Send a command to the backend that owns its conversation (or every backend, for presence)."""
        if command.conversation_id:
            backend = self.backend_for(command.conversation_id)
            if not backend.capabilities.supports(command.kind):
                raise Unsupported(f"{backend.name} cannot {command.kind.value.replace('_', ' ')}")
            return clean_result(await (await self._linked(backend)).perform(command))
        capable = [b for b in self.backends.values() if b.capabilities.supports(command.kind)]
        if not capable:
            raise Unsupported(f"no backend can {command.kind.value.replace('_', ' ')}")
        result = CommandResult(True)
        for backend in capable:
            result = await (await self._linked(backend)).perform(command)
        return clean_result(result)

    async def history(self, conversation_id: str) -> list[Message]:
        backend = await self._linked(self.backend_for(conversation_id))
        return clean_messages(await backend.history(conversation_id))

    async def customer(self, conversation: Conversation) -> Customer | None:
        backend = await self._linked(self.backend_for(conversation.id))
        customer = await backend.customer(conversation.customer_id)
        return clean_customer(customer) if customer is not None else None

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        found: list[Conversation] = []
        for backend in self.backends.values():
            with contextlib.suppress(BackendError):
                found.extend(await (await self._linked(backend)).customer_history(customer_id))
        return sorted(clean_conversations(found), key=lambda c: c.created_at, reverse=True)

    async def search(self, query: str, limit: int = 50) -> SearchResults:
        """Every searchable backend at once, their answers merged rank by rank (scores are comparable within
        one backend's answer only). A backend that cannot answer is named in `problems`; a query that no
        backend can read raises its `Invalid`."""
        searchable = [b for b in self.backends.values() if isinstance(b, Search)]
        if not searchable:
            raise Unsupported("nothing here can be searched")
        answers = await asyncio.gather(
            *(self._search(b, query, limit) for b in searchable), return_exceptions=True
        )
        ranked: list[list[SearchHit]] = []
        problems: list[str] = []
        refused: Invalid | None = None
        for backend, answer in zip(searchable, answers, strict=True):
            if isinstance(answer, Invalid):
                refused = answer
            elif isinstance(answer, BackendError):
                problems.append(sanitize(f"{backend.name}: {answer}", single_line=True))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                ranked.append([_clean_hit(hit) for hit in answer])
        if refused is not None and not ranked:
            raise refused
        merged = [hit for rank in zip_longest(*ranked) for hit in rank if hit is not None]
        return SearchResults(merged[:limit], problems)

    async def _search(self, backend: Backend, query: str, limit: int) -> list[SearchHit]:
        searching = cast(Search, await self._linked(backend))  # `search` keeps only the backends that are
        return await searching.search(query, limit)

    async def attachment(self, conversation_id: str, attachment: Attachment) -> bytes:
        backend = await self._linked(self.backend_for(conversation_id))
        return await backend.attachment(conversation_id, attachment)

    async def queue_figures(self) -> list[QueueActivity]:
        """The phone queue as each backend's telephony counts it (the optional `QueueFigures`, e.g. Zendesk
        Talk's current queue activity), read now. A backend that cannot answer is left out: its link state
        says why. Empty when no backend counts them."""
        capable = [b for b in self.backends.values() if isinstance(b, QueueFigures)]
        answers = await asyncio.gather(*(b.queue_activity() for b in capable), return_exceptions=True)
        found: list[QueueActivity] = []
        for backend, answer in zip(capable, answers, strict=True):
            if isinstance(answer, BackendError | OSError):
                log.info("%s: no queue figures (%s)", backend.name, type(answer).__name__)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                found.append(replace(answer, backend=sanitize(answer.backend, single_line=True)))
        return found

    async def records(
        self, csat_since: float, wrapups_since: float, names: Collection[str] | None = None
    ) -> RecordsRead:
        """The CSAT answers and wrap-ups of the period from each backend that keeps them (the optional
        `Records`; only those named, when `names` is given), read at once and through the gate like
        everything else. A backend that cannot answer is named in `problems` (sanitised, never its secret:
        the adapters' errors hold none); the others' records are read all the same."""
        capable = [
            b for b in self.backends.values() if isinstance(b, Records) and (names is None or b.name in names)
        ]
        answers = await asyncio.gather(
            *(b.records(csat_since, wrapups_since) for b in capable), return_exceptions=True
        )
        read: dict[str, tuple[list[CsatRecord], list[WrapUpRecord]]] = {}
        problems: dict[str, str] = {}
        for backend, answer in zip(capable, answers, strict=True):
            if isinstance(answer, asyncio.CancelledError):
                raise answer
            if isinstance(answer, BackendError | OSError):
                problems[backend.name] = sanitize(str(answer) or type(answer).__name__, single_line=True)
            elif isinstance(answer, BaseException):
                # An adapter's bug leaves the board without its records, not without a board.
                log.error("backend %s: records failed", backend.name, exc_info=answer)
                problems[backend.name] = sanitize(f"{type(answer).__name__}: {answer}", single_line=True)
            else:
                csat, wrapups = answer
                read[backend.name] = await asyncio.to_thread(_clean_records, csat, wrapups)
        return RecordsRead(read, problems)


@dataclass(frozen=True, slots=True)
class RecordsRead:
    """What `Hub.records` read: each backend's records by its name, and why the others gave none."""

    records: dict[str, tuple[list[CsatRecord], list[WrapUpRecord]]]
    problems: dict[str, str]  # backend name -> what went wrong, sanitised


def _clean_records(
    csat: Sequence[CsatRecord], wrapups: Sequence[WrapUpRecord]
) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
    return [clean_csat(r) for r in csat], [clean_wrapup(r) for r in wrapups]


@dataclass(frozen=True, slots=True)
class SearchResults:
    hits: list[SearchHit]
    problems: list[str]  # "mail: cannot reach imap.example.com": searched without it


def _clean_hit(hit: SearchHit) -> SearchHit:
    """Through the gate like everything else: the snippet sanitised (its spans dropped if that moved them)."""
    snippet = sanitize(hit.snippet, single_line=True)
    return replace(
        hit,
        snippet=snippet,
        spans=hit.spans if snippet == hit.snippet else (),
        conversation=clean_conversations([hit.conversation])[0] if hit.conversation is not None else None,
    )
