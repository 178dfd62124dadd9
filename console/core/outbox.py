"""The outbox: every write that matters is journalled before it is sent, retried until confirmed, sent once.

One journal per console user, in its own SQLite file (WAL, `synchronous = FULL`). The life of an entry:

    submit --> SCHEDULED --(due: now + delay)--> SENDING --> DONE
                  |                                 |  \\--> RETRYING --(backoff)--> SENDING ...
                  |                                 \\----> FAILED --(dismiss)--> DISMISSED
                  \\--(cancel, the undo window)--> CANCELLED                \\--(retry)--> RETRYING

- `submit` gives the command a stable idempotency key (uuid4 hex; a key the caller already set is kept, and
  submitting that key again returns the first entry) and commits it to the journal before returning.
- Before each attempt the journal records it (SENDING, attempts + 1); only then is `send` called. A process
  that dies anywhere after that leaves the entry SENDING, and the next `start` resends it with the SAME key:
  a backend that dedupes by key (the contract asks it to) applies it once whether the first attempt reached
  it or not. The journal is what makes it "never lost"; the key is what makes it "never twice".
- Retryable errors (`error.retryable`: Unavailable, RateLimited; and OSError/TimeoutError from plumbing that
  did not wrap them) are retried with exponential backoff and "equal jitter" (half the ceiling fixed, half
  random, so consoles that lost the same server do not come back in step), capped at `max_delay`;
  RateLimited waits at least its `retry_after`. Other errors mark the entry FAILED with the error text: it
  stays in `pending()` until `dismiss`ed (or `retry`ed), so nothing disappears silently.
- Undo: an entry submitted with `delay` is SCHEDULED until `due_at` (wall-clock, so it survives a restart:
  after a crash inside the window it is still scheduled and goes out when its time comes). `cancel` succeeds
  only while the entry is SCHEDULED, i.e. before any attempt: once an attempt started the backend may
  already have applied it.
- Order: entries of one conversation (or, without one, of one agent: presence changes) are sent one at a
  time in (due time, submission) order; a reply held 10 s for undo does not hold back a note written after
  it, but a wrap-up submitted after that reply with the same delay waits for it. Different conversations go
  in parallel, up to `max_concurrent`.

Threads: the app's event loop never touches SQLite. All journal work runs on one worker thread owned by the
outbox (a single-thread executor, so writes are applied in the order they were issued). `cancel` is
synchronous for the app's convenience: it decides in memory (the dispatcher runs on the same loop, so there
is no race with an attempt starting) and queues the journal write; a crash in the ~1 ms before that write
commits would forget the cancellation. `pending()` and `get()` read memory only.

Workspaces (each entry is delivered only to the workspace it was written for) and two consoles of one agent
sharing the journal (one delivers per workspace, under a flock): docs/outbox.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ...backends.base import Command, CommandResult
from . import command_codec
from .outbox_journal import (
    LISTED_STATES,
    OPEN_STATES,
    UNKNOWN_WORKSPACE,
    EntryState,
    Journal,
    OutboxEntry,
)
from .outbox_rules import describe_error, is_retryable, retry_delay, send_order_group

log = logging.getLogger(__name__)
T = TypeVar("T")
# Seconds between looks at whether the workspace of a waiting entry has opened.
WORKSPACE_RECHECK = 1.0

Send = Callable[[Command], Awaitable[CommandResult]]
Outcome = CommandResult | BaseException
OnOutcome = Callable[["OutboxEntry", Outcome], Any]
OnChange = Callable[["OutboxEntry"], Any]


class NoWorkspace(RuntimeError):
    """The command's workspace is not open (or has no identity): it cannot be journalled for delivery."""


# ---------------------------------------------------------------------------------------------- outbox


class Outbox:
    """The durable outbox of one console user. Create, `await start()`, `await submit(...)`, `await close()`.

    `send` is the console's way to a backend (the hub's `perform`). `where(command)` is the identity of the
    workspace `send` would deliver `command` to right now ("" when its backend is not open or does not know
    its identity): an entry is journalled with it and attempted only while it is the same. `on_outcome(entry, result_or_error)` is
    called once per entry when it ends: DONE with the `CommandResult`, FAILED with the error. `on_change(entry)`
    is called on every state change (for the outbox list). Both may be plain functions or coroutines; they
    run on the event loop, and an exception in them is logged, never lost in the outbox's own work.
    """

    def __init__(
        self,
        path: str | Path,
        send: Send,
        *,
        where: Callable[[Command], str],
        on_outcome: OnOutcome | None = None,
        on_change: OnChange | None = None,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        max_attempts: int | None = None,
        max_concurrent: int = 4,
        keep_seconds: float = 7 * 24 * 3600.0,
        poll_every: float = 0.5,
        serving: Callable[[], Iterable[str]] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.path = Path(path)
        self._send = send
        self._where = where
        self.on_outcome = on_outcome
        self.on_change = on_change
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.max_concurrent = max_concurrent
        self.keep_seconds = keep_seconds
        self.clock = clock
        self._rng = rng or random.Random()
        self._entries: dict[int, OutboxEntry] = {}
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._waiters: dict[int, list[asyncio.Future[OutboxEntry]]] = {}
        self._writes: set[asyncio.Future[Any]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._journal: Journal | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self.poll_every = poll_every
        self._serving = serving
        # The workspaces this console delivers (it holds their locks); the others' entries it only journals.
        self.owned: set[str] = set()
        self._watcher: asyncio.Task[None] | None = None
        # Entries this console has let go (done, withdrawn, dismissed): a read of the journal that raced the
        # write saying so must not bring them back.
        self._let_go: set[int] = set()
        # Rows of the journal this version could not decode: marked failed there, reported here.
        self.unreadable: list[tuple[int, str]] = []

    # ------------------------------------------------------------------------------------------ plumbing

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("the outbox is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _write_later(self, fn: Callable[..., Any], *args: Any) -> None:
        """A journal write nobody waits for (from sync code); `close` waits for all of them."""
        assert self._executor is not None
        self._background(asyncio.get_running_loop().run_in_executor(self._executor, fn, *args))

    def _background(self, future: asyncio.Future[Any]) -> None:
        """Keep a reference (a bare task may be garbage-collected), log its failure, let `close` wait for it."""
        self._writes.add(future)
        future.add_done_callback(self._background_done)

    def _background_done(self, future: asyncio.Future[Any]) -> None:
        self._writes.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("outbox background work failed: %s", future.exception())

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            raise RuntimeError("the outbox is not started")
        return self._journal

    @property
    def running(self) -> bool:
        return self._dispatcher is not None and not self._closing

    # ------------------------------------------------------------------------------------------ life

    async def start(self) -> None:
        """Open the journal, take the lock, and resume every unfinished entry (same keys as before)."""
        if self._executor is not None:
            raise RuntimeError("the outbox is already started")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        try:
            self._journal = await self._db(Journal, self.path)
            await self._db(self.journal.prune, self.clock() - self.keep_seconds)
            entries, self.unreadable = await self._db(self.journal.load_listed)
        except BaseException:
            if self._journal is not None:
                await self._db(self._journal.close)
                self._journal = None
            self._executor.shutdown(wait=False)
            self._executor = None
            raise
        self._entries = {entry.id: entry for entry in entries}
        self._closing = False
        await self._claim()
        self._dispatcher = asyncio.create_task(self._dispatch(), name="outbox-dispatcher")
        self._watcher = asyncio.create_task(self._watch(), name="outbox-watcher")

    @property
    def owner(self) -> bool:
        """This console delivers at least one workspace."""
        return bool(self.owned)

    def delivers(self, entry: OutboxEntry) -> bool:
        """This console is the one to attempt `entry` (it holds the lock of every workspace it is for)."""
        parts = entry.workspace.split("\n") if entry.workspace else []
        return bool(parts) and all(part in self.owned for part in parts)

    async def _claim(self, extra: Iterable[str] = (), *, notify: bool = True) -> None:
        """Take the lock of every workspace this console could deliver and nobody else does."""
        wanted = set(self._serving()) if self._serving is not None else set()
        wanted.update(extra)
        for entry in self._entries.values():
            if entry.state in OPEN_STATES and self.deliverable(entry):
                wanted.update(entry.workspace.split("\n"))
        for workspace in sorted(w for w in wanted - self.owned if w):
            if await self._db(self.journal.try_lock, workspace):
                self.owned.add(workspace)
                log.info("outbox %s: this console delivers %s now", self.path, workspace)
                for entry in list(self._entries.values()) if notify else ():
                    self._changed(entry)

    async def _watch(self) -> None:
        """Every `poll_every`: take the lock if it is free (the owner left), then read what the other
        consoles journalled or changed."""
        while not self._closing:
            await asyncio.sleep(self.poll_every)
            if self._closing:
                return
            try:
                entries, _ = await self._db(self.journal.load_listed)
                for gone in self._merge(entries):
                    await self._ended_elsewhere(gone)
                await self._claim()
            except Exception:
                log.exception("outbox %s: reading the journal failed", self.path)
            self._wake.set()

    def _merge(self, on_disk: list[OutboxEntry]) -> list[int]:
        """Fold the journal as read into memory. Entries under way here keep their in-memory state (they
        are ahead of the file); everything else follows the file, which the other consoles write too.
        Returns the entries that ended elsewhere (sent, withdrawn or dismissed by another console)."""
        disk = {e.id: e for e in on_disk if e.id not in self._let_go}
        gone = [i for i in self._entries if i not in disk and i not in self._inflight]
        for entry_id in gone:
            del self._entries[entry_id]
        for entry_id, entry in disk.items():
            if entry_id in self._inflight:
                continue
            mine = self._entries.get(entry_id)
            if mine is None or self._newer(entry, mine):
                self._entries[entry_id] = entry
                self._changed(entry)
        return gone

    async def _ended_elsewhere(self, entry_id: int) -> None:
        """Said here as if it ended here: the list, the waiters, and the outcome (the console's "Sent")."""
        final = await self._db(self.journal.get, entry_id)
        if final is None or final.state in LISTED_STATES:
            return  # pruned, or listed again by the next read
        self._let_go.add(entry_id)
        self._changed(final)
        self._settle(final)
        if final.state is EntryState.DONE:
            await self._call(self.on_outcome, final, CommandResult(True, detail=final.detail))

    def _newer(self, disk: OutboxEntry, mine: OutboxEntry) -> bool:
        if not self.delivers(mine):
            return disk != mine  # a console that does not deliver it only mirrors the file
        # The delivering console writes its own changes to the file after making them here; what it takes from the file
        # is what another console did: a failed entry retried, a wait cut short.
        if mine.state is EntryState.FAILED and disk.state is EntryState.RETRYING:
            return True
        return disk.state is mine.state and disk.ready_at < mine.ready_at

    async def close(self, grace: float = 2.0) -> None:
        """Stop sending. Attempts under way get `grace` seconds, then are cancelled: they stay SENDING in
        the journal and the next `start` resends them with the same key."""
        if self._executor is None or self._closing:
            return
        self._closing = True
        self._wake.set()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._dispatcher is not None:
            await self._dispatcher
        tasks = list(self._inflight.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
        self._waiters.clear()
        if self._journal is not None:
            await self._db(self._journal.close)
            self._journal = None
        self._executor.shutdown(wait=True)
        self._executor = None
        self._dispatcher = None
        self.owned = set()

    async def __aenter__(self) -> Outbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------ the app's API

    async def submit(self, command: Command, *, delay: float = 0.0) -> int:
        """Journal `command` (with its idempotency key) and queue it to be sent in `delay` seconds.

        Returns the entry id once the entry is committed to disk. Raises `CodecError` for a command that
        cannot be journalled (nothing is queued then), ValueError for a negative or infinite delay.
        """
        if not self.running:
            raise RuntimeError("the outbox is not running")
        if not (math.isfinite(delay) and delay >= 0):
            raise ValueError(f"a delay is a number of seconds >= 0, not {delay!r}")
        workspace = self._where(command)
        if not workspace:
            raise NoWorkspace("its workspace is not open, or cannot say which workspace it is")
        command = replace(command, key=command.key or uuid.uuid4().hex)
        text = command_codec.dumps(command)
        now = self.clock()
        entry_id, inserted = await self._db(self.journal.insert, command, text, now, now + delay, workspace)
        if not inserted:
            return entry_id
        self._let_go.discard(entry_id)  # a withdrawn entry taken up again (edited), same key and row
        entry = OutboxEntry(
            entry_id, command, EntryState.SCHEDULED, created_at=now, due_at=now + delay, workspace=workspace
        )
        if not self.delivers(entry):
            # A workspace this console delivers, unless another one already does.
            await self._claim(entry.workspace.split("\n"), notify=False)
        self._entries[entry_id] = entry
        self._changed(entry)
        self._wake.set()
        return entry_id

    def cancel(self, entry_id: int) -> bool:
        """Undo, decided in memory: True if the entry was still in its undo window (never attempted); it will
        not be sent. Only the delivering console can decide so (it alone starts attempts); elsewhere use
        `withdraw`."""
        entry = self._entries.get(entry_id)
        if entry is None or entry.state is not EntryState.SCHEDULED or entry_id in self._inflight:
            return False
        if self._journal is None or not self.delivers(entry):
            return False
        cancelled = replace(entry, state=EntryState.CANCELLED)
        del self._entries[entry_id]
        self._let_go.add(entry_id)
        write = functools.partial(self._journal.update, only_from=EntryState.SCHEDULED)
        self._write_later(write, cancelled, self.clock())
        self._changed(cancelled)
        self._settle(cancelled)
        self._wake.set()
        return True

    async def dismiss(self, entry_id: int) -> bool:
        """The agent has seen a failed entry: stop listing it (it stays in the journal for a while)."""
        entry = self._entries.get(entry_id)
        if entry is None or entry.state is not EntryState.FAILED:
            return False
        dismissed = replace(entry, state=EntryState.DISMISSED)
        write = functools.partial(self.journal.update, only_from=EntryState.FAILED)
        if not await self._db(write, dismissed, self.clock()):
            return False  # another console retried or dismissed it meanwhile: the next read shows which
        self._let_go.add(entry_id)
        self._entries.pop(entry_id, None)
        self._changed(dismissed)
        return True

    async def retry(self, entry_id: int) -> bool:
        """Send a failed entry again, with the same key (the backend did not apply it: it refused it).

        An entry of an older journal, with no workspace, is the agent's to place: retried, it is for the
        workspace open now (False if none is)."""
        entry = self._entries.get(entry_id)
        if entry is None or entry.state is not EntryState.FAILED:
            return False
        workspace = entry.workspace or self._where(entry.command)
        if not workspace:
            return False
        again = replace(entry, state=EntryState.RETRYING, next_attempt_at=self.clock(), workspace=workspace)
        write = functools.partial(self.journal.update, only_from=EntryState.FAILED)
        if not await self._db(write, again, self.clock()):
            return False
        self._entries[entry_id] = again
        self._changed(again)
        self._wake.set()
        return True

    def send_now(self, entry_id: int) -> bool:
        """End an entry's undo window at once (the console quits: what waits goes now, not at the next start).

        In memory only: should the console die before it is sent, the journal's due time, past by then, has
        the next start send it. False when it is no longer waiting (sent, under way, cancelled)."""
        entry = self._entries.get(entry_id)
        if entry is None or entry.state is not EntryState.SCHEDULED or entry_id in self._inflight:
            return False
        if not self.delivers(entry):
            return False  # the console that delivers holds it, and sends it when its window ends
        now = self.clock()
        if entry.due_at > now:
            self._entries[entry_id] = replace(entry, due_at=now)
            self._wake.set()
        return True

    async def retry_now(self, entry_id: int) -> bool:
        """The agent's "retry now": a failed entry is sent again, a retrying one without waiting for its
        backoff, a held one (undo window) at once. False if it is in flight, gone, or not for this workspace."""
        entry = self._entries.get(entry_id)
        if entry is None or entry_id in self._inflight:
            return False
        if entry.state is EntryState.FAILED:
            return await self.retry(entry_id)
        if entry.state not in (EntryState.RETRYING, EntryState.SCHEDULED) or not self.deliverable(entry):
            return False
        now = self.clock()
        sooner = replace(
            entry, next_attempt_at=min(entry.next_attempt_at, now), due_at=min(entry.due_at, now)
        )
        self._entries[entry_id] = sooner
        await self._db(self.journal.update_times, sooner, now)
        self._changed(sooner)
        self._wake.set()
        return True

    async def withdraw(self, entry_id: int, *, held_only: bool = False) -> bool:
        """Take back an entry that is not being attempted (held, waiting to retry, or failed; with
        `held_only`, only one still in its undo window): it will not be sent. True once that is on disk;
        False when an attempt is under way, here or in the console that delivers (it may reach the backend).
        Safe in any console: the write is conditional on the state this one saw."""
        entry = self._entries.get(entry_id)
        if entry is None or entry_id in self._inflight:
            return False
        allowed = (
            (EntryState.SCHEDULED,)
            if held_only
            else (EntryState.SCHEDULED, EntryState.RETRYING, EntryState.FAILED)
        )
        if entry.state not in allowed:
            return False
        withdrawn = replace(entry, state=EntryState.CANCELLED)
        # Out of the dispatcher's sight before the write, so no attempt can start meanwhile.
        del self._entries[entry_id]
        try:
            write = functools.partial(self.journal.update, only_from=entry.state)
            done = await self._db(write, withdrawn, self.clock())
        except BaseException:
            self._entries[entry_id] = entry
            raise
        if not done:
            self._entries[entry_id] = entry
            return False
        self._let_go.add(entry_id)
        self._changed(withdrawn)
        self._settle(withdrawn)
        self._wake.set()
        return True

    def pending(self) -> list[OutboxEntry]:
        """Everything not yet confirmed, and failed entries not yet dismissed, oldest first."""
        return sorted(self._entries.values(), key=lambda e: e.id)

    def deliverable(self, entry: OutboxEntry) -> bool:
        """Its workspace is the one its backend talks to now."""
        return bool(entry.workspace) and self._where(entry.command) == entry.workspace

    def waiting_for_workspace(self, entry: OutboxEntry) -> bool:
        """Still to send, but its workspace is not open here."""
        return entry.state in OPEN_STATES and not self.deliverable(entry)

    def get(self, entry_id: int) -> OutboxEntry | None:
        """A listed entry, from memory (None once done, cancelled or dismissed: see `entry`)."""
        return self._entries.get(entry_id)

    async def entry(self, entry_id: int) -> OutboxEntry | None:
        """Any entry still in the journal, whatever its state."""
        listed = self._entries.get(entry_id)
        if listed is not None:
            return listed
        return await self._db(self.journal.get, entry_id)

    async def journalled(self, keys: Iterable[str]) -> set[str]:
        """Which of these idempotency keys the journal holds, in any state but cancelled (a draft whose key
        is here was sent already: the console removes it instead of offering it again; a cancelled one was
        withdrawn, and its draft is what the agent is editing)."""
        wanted = [key for key in keys if key]
        return await self._db(self.journal.keys_in, wanted) if wanted else set()

    async def wait(self, entry_id: int, timeout: float | None = None) -> OutboxEntry:
        """Wait until the entry is DONE, FAILED or CANCELLED and return it (TimeoutError after `timeout`)."""
        current = await self.entry(entry_id)
        if current is None:
            raise KeyError(f"no outbox entry {entry_id}")
        if current.state not in OPEN_STATES:
            return current
        future: asyncio.Future[OutboxEntry] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(entry_id, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            waiters = self._waiters.get(entry_id, [])
            if future in waiters:
                waiters.remove(future)

    # ------------------------------------------------------------------------------------------ sending

    async def _dispatch(self) -> None:
        while not self._closing:
            self._wake.clear()
            try:
                next_at = self._start_ready(self.clock())
            except Exception:
                # A bug here must not stop every later send: log it and look again shortly.
                log.exception("outbox dispatcher failed")
                next_at = self.clock() + 1.0
            timeout = None if next_at is None else max(0.0, next_at - self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _start_ready(self, now: float) -> float | None:
        """Start every entry that may go now; return when the next one becomes ready (None: nothing waits)."""
        heads: dict[str, OutboxEntry] = {}
        for entry in sorted(self._entries.values(), key=lambda e: (e.due_at, e.id)):
            if entry.state in OPEN_STATES:
                heads.setdefault(send_order_group(entry), entry)
        next_at: float | None = None
        for entry in sorted(heads.values(), key=lambda e: (e.ready_at, e.id)):
            if entry.id in self._inflight or not self.delivers(entry):
                continue  # under way, or another console delivers it (`_watch` claims it when that one ends)
            if not self.deliverable(entry):
                # Its workspace may open (a backend connecting): look again in a second.
                next_at = (
                    now + WORKSPACE_RECHECK if next_at is None else min(next_at, now + WORKSPACE_RECHECK)
                )
                continue
            if entry.ready_at > now:
                next_at = entry.ready_at if next_at is None else min(next_at, entry.ready_at)
                continue
            if len(self._inflight) >= self.max_concurrent:
                break  # a finishing attempt wakes the dispatcher
            attempt = replace(entry, state=EntryState.SENDING, attempts=entry.attempts + 1)
            self._entries[entry.id] = attempt
            self._inflight[entry.id] = asyncio.create_task(
                self._deliver(attempt, entry.state), name=f"outbox-{entry.id}"
            )
        return next_at

    async def _deliver(self, entry: OutboxEntry, was: EntryState) -> None:
        try:
            try:
                # The attempt is on disk before the backend hears of it: a crash from here on resends.
                # Only from the state this console saw: another console may have withdrawn it meanwhile.
                write = functools.partial(self.journal.update, only_from=was)
                started = await self._db(write, entry, self.clock())
            except Exception as error:
                log.error("outbox journal write failed: %s", error)
                await self._after_retryable(replace(entry, attempts=entry.attempts - 1), error)
                return
            if not started:
                now_on_disk = await self._db(self.journal.get, entry.id)
                if now_on_disk is not None and now_on_disk.state in LISTED_STATES:
                    self._entries[entry.id] = now_on_disk
                else:
                    self._let_go.add(entry.id)
                    self._entries.pop(entry.id, None)
                    self._settle(now_on_disk or replace(entry, state=EntryState.CANCELLED))
                return
            self._changed(entry)
            if not self.deliverable(entry):  # cannot change while the journal wrote, but never send blind
                await self._after_retryable(entry, NoWorkspace("its workspace is not open"))
                return
            try:
                result = await self._send(entry.command)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_retryable(error):
                    await self._after_retryable(entry, error)
                else:
                    await self._finish(
                        replace(entry, state=EntryState.FAILED, error=describe_error(error)), error
                    )
                return
            if not result.ok:
                failure = result.detail or "the backend did not carry it out"
                await self._finish(replace(entry, state=EntryState.FAILED, error=failure), result)
                return
            await self._finish(replace(entry, state=EntryState.DONE, error="", detail=result.detail), result)
        finally:
            self._inflight.pop(entry.id, None)
            self._wake.set()

    async def _after_retryable(self, entry: OutboxEntry, error: BaseException) -> None:
        # Runs inside the delivery task, so the entry counts as in flight until its new state is set.
        if self.max_attempts is not None and entry.attempts >= self.max_attempts:
            failed = replace(
                entry,
                state=EntryState.FAILED,
                error=f"gave up after {entry.attempts} attempts: {describe_error(error)}",
            )
            await self._finish(failed, error)
            return
        delay = self.backoff(entry.attempts, error)
        retrying = replace(
            entry,
            state=EntryState.RETRYING,
            next_attempt_at=self.clock() + delay,
            error=describe_error(error),
        )
        self._entries[entry.id] = retrying
        self._changed(retrying)
        try:
            await self._db(self.journal.update, retrying, self.clock())
        except Exception as write_error:
            # On disk it stays SENDING: resent at the next start, which is what RETRYING means anyway.
            log.error("outbox journal write failed: %s", write_error)

    def backoff(self, attempts: int, error: BaseException | None = None) -> float:
        """Seconds before attempt `attempts + 1`: exponential, capped, with equal jitter."""
        return retry_delay(attempts, error, base=self.base_delay, cap=self.max_delay, rng=self._rng)

    async def _finish(self, entry: OutboxEntry, outcome: Outcome) -> None:
        try:
            await self._db(self.journal.update, entry, self.clock())
        except Exception as error:
            # DONE not recorded: the entry stays SENDING on disk and is resent (same key) next start.
            log.error("outbox journal write failed: %s", error)
        if entry.state is EntryState.FAILED:
            self._entries[entry.id] = entry
        else:
            self._let_go.add(entry.id)
            self._entries.pop(entry.id, None)
        self._changed(entry)
        self._settle(entry)
        await self._call(self.on_outcome, entry, outcome)

    # ------------------------------------------------------------------------------------------ callbacks

    def _changed(self, entry: OutboxEntry) -> None:
        if self.on_change is None:
            return
        try:
            result = self.on_change(entry)
        except Exception:
            log.exception("outbox on_change callback failed")
            return
        if inspect.isawaitable(result):
            self._background(asyncio.ensure_future(result))

    async def _call(self, callback: Callable[..., Any] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("outbox callback failed")

    def _settle(self, entry: OutboxEntry) -> None:
        for waiter in self._waiters.pop(entry.id, []):
            if not waiter.done():
                waiter.set_result(entry)


__all__ = [
    "UNKNOWN_WORKSPACE",
    "EntryState",
    "NoWorkspace",
    "Outbox",
    "OutboxEntry",
    "describe_error",
    "is_retryable",
]
