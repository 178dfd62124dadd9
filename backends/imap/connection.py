"""The watcher: one IMAP connection that waits for news on the inbox, with IDLE or by polling, and comes back.

- IDLE (RFC 2177) when the server offers it: new mail is seen within a second. IDLE is re-issued every few
  minutes (servers drop it after 30, NATs sooner), and a full reconcile runs every `full_every` seconds as a
  safety net.
- Polling with NOOP every `poll_seconds` otherwise (or when `idle = false`).
- Any failure closes the connection, says so with `BackendStatus(DOWN, detail, retry_in)`, waits (exponential
  backoff with jitter, shared `Backoff`) and reconnects; the catch-up then starts from the persisted UIDNEXT, so
  nothing that arrived during the gap is missed or announced twice. A refused login or a TLS failure is
  retried slowly (the user may fix the password with `standardiste login` meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from ..base import AuthError, BackendError, BackendStatus, LinkState
from ..retry import Backoff
from .errors import TlsError
from .session import ImapSession
from .settings import ImapSettings
from .sync import FolderSync, SyncResult
from .workers import Worker

log = logging.getLogger(__name__)

# Catch-ups run again at most this often when mail keeps arriving during one; IDLE brings the rest.
CATCH_UP_ROUNDS = 3
Deliver = Callable[[SyncResult], Awaitable[None]]
MakeSync = Callable[[ImapSession, Worker], FolderSync]


class Watcher:
    def __init__(
        self,
        *,
        name: str,
        settings: ImapSettings,
        secret: Callable[[], str],
        make_sync: MakeSync,
        deliver: Deliver,
        status: Callable[[BackendStatus], None],
        idle_tick: float = 5.0,
        idle_refresh: float = 300.0,
        full_every: float = 600.0,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
    ) -> None:
        self.name = name
        self.settings = settings
        self._secret = secret
        self._make_sync = make_sync
        self._deliver = deliver
        self._status = status
        self.idle_tick = idle_tick
        self.idle_refresh = idle_refresh
        self.full_every = full_every
        self.backoff = Backoff(base=retry_base, cap=retry_cap)
        self.retry_cap = retry_cap
        self._stopped = asyncio.Event()
        self._session: ImapSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._down = False
        # Set once the first catch-up is done: tests and callers can wait for "watching now".
        self.ready = asyncio.Event()
        self.mode = ""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"imap-watch-{self.name}")

    async def stop(self) -> None:
        self._stopped.set()
        session = self._session
        if session is not None:
            session.abort()  # wakes a thread blocked in IDLE: shutdown() makes its poll return
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def run(self) -> None:
        while not self._stopped.is_set():
            worker = Worker(f"imap-watch-{self.name}")
            try:
                await self._connected(worker)
                delay = 0.0
            except asyncio.CancelledError:
                raise
            except (AuthError, TlsError) as error:
                delay = self.retry_cap
                self._went_down(str(error), delay)
            except BackendError as error:
                delay = self.backoff.next()
                self._went_down(str(error), delay)
            except Exception as error:  # a bug here must not end the watch for good
                log.exception("IMAP watcher %s failed", self.name)
                delay = self.backoff.next()
                self._went_down(f"{type(error).__name__}: {error}", delay)
            finally:
                session, self._session = self._session, None
                if session is not None:
                    session.abort()
                worker.shutdown()
            if delay:
                await self._sleep(delay)

    def _went_down(self, detail: str, retry_in: float) -> None:
        self.ready.clear()
        if self._stopped.is_set():
            return
        self._down = True
        self._status(BackendStatus(self.name, LinkState.DOWN, detail, retry_in=round(retry_in, 1)))

    async def _connected(self, worker: Worker) -> None:
        if self._down:
            self._status(BackendStatus(self.name, LinkState.CONNECTING, "reconnecting"))
        session = ImapSession(self.settings, self._secret())
        self._session = session
        await worker.run(session.open)
        info = await worker.run(session.select, self.settings.inbox)
        session.pending_changes()  # SELECT's own EXISTS: `info` has it
        sync = self._make_sync(session, worker)
        result = await sync.catch_up(info, full=True, bodies=True)
        # Mail delivered after SELECT may be missing from the catch-up's search yet announced (EXISTS) in its
        # answer, and a server does not say it again once IDLE starts: fetch it now, or it would wait for the
        # next mail or the full reconcile.
        for _ in range(CATCH_UP_ROUNDS):
            if not session.pending_changes():
                break
            assert sync.info is not None
            result.merge(await sync.catch_up(sync.info, full=True, bodies=True))
        await self._deliver(result)
        if self._down:
            self._down = False
            self._status(BackendStatus(self.name, LinkState.CONNECTED, "reconnected"))
        self.backoff.reset()
        self.ready.set()
        if self.settings.idle and session.has("IDLE"):
            self.mode = "idle"
            await self._idle(session, worker, sync)
        else:
            self.mode = "poll"
            await self._poll(session, worker, sync)

    async def _after_wait(
        self, session: ImapSession, sync: FolderSync, result: SyncResult, full: bool
    ) -> None:
        """Deliver what the wait brought; reconcile in full when due or when the seq map may be stale."""
        if full or session.pending_changes():
            assert sync.info is not None
            result.merge(await sync.catch_up(sync.info, full=True, bodies=True))
            session.pending_changes()
        if result:
            await self._deliver(result)

    async def _idle(self, session: ImapSession, worker: Worker, sync: FolderSync) -> None:
        full_at = time.monotonic() + self.full_every
        while not self._stopped.is_set():
            refresh_at = time.monotonic() + self.idle_refresh
            await worker.run(session.idle_start)
            responses: list[tuple[object, ...]] = []
            idling = True
            while idling and not self._stopped.is_set() and time.monotonic() < refresh_at:
                got, idling = await worker.run(session.idle_wait, self.idle_tick)
                responses.extend(got)
                if responses and idling:
                    break
            if idling:
                responses.extend(await worker.run(session.idle_stop))
            if self._stopped.is_set():
                return
            result = await sync.apply_untagged(responses, bodies=True)
            full = time.monotonic() >= full_at
            if full:
                full_at = time.monotonic() + self.full_every
            await self._after_wait(session, sync, result, full)

    async def _poll(self, session: ImapSession, worker: Worker, sync: FolderSync) -> None:
        full_at = time.monotonic() + self.full_every
        while not self._stopped.is_set():
            await self._sleep(self.settings.poll_seconds)
            if self._stopped.is_set():
                return
            responses = await worker.run(session.noop)
            result = await sync.apply_untagged(responses, bodies=True)
            # Some servers report nothing on NOOP; a UID SEARCH from UIDNEXT costs little and is certain.
            result.merge(await sync.new_messages(bodies=True))
            full = time.monotonic() >= full_at
            if full:
                full_at = time.monotonic() + self.full_every
            await self._after_wait(session, sync, result, full)
