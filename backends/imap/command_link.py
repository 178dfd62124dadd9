"""The second IMAP connection: commands, history, attachments and the Sent folder.

IDLE occupies the watcher's connection, so everything the agent asks for goes through this one. It is opened
on demand, used by one caller at a time (a lock), and dropped when it fails so the next call opens it afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from ..base import BackendError, Unavailable
from .errors import TlsError
from .session import ImapSession
from .settings import ImapSettings
from .workers import Worker

T = TypeVar("T")


class CommandLink:
    def __init__(self, name: str, settings: ImapSettings, secret: Callable[[], str]) -> None:
        self.name = name
        self.settings = settings
        self._secret = secret
        self._lock = asyncio.Lock()
        self._session: ImapSession | None = None
        self._worker: Worker | None = None

    async def _open(self) -> tuple[ImapSession, Worker]:
        worker = Worker(f"imap-commands-{self.name}")
        session = ImapSession(self.settings, self._secret())
        try:
            await worker.run(session.open)
        except BaseException:
            session.abort()
            worker.shutdown()
            raise
        self._session, self._worker = session, worker
        return session, worker

    def _drop(self) -> None:
        session, self._session = self._session, None
        worker, self._worker = self._worker, None
        if session is not None:
            session.abort()
        if worker is not None:
            worker.shutdown()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[tuple[ImapSession, Worker]]:
        """Exclusive use of the connection; a failure on it drops it for the next caller."""
        async with self._lock:
            if self._session is None or self._worker is None:
                await self._open()
            assert self._session is not None and self._worker is not None
            try:
                yield self._session, self._worker
            except BaseException as error:
                # A NO from the server leaves the connection usable; anything else (a drop, a cancellation
                # in the middle of a command) leaves it in an unknown state.
                if isinstance(error, Unavailable) or not isinstance(error, BackendError):
                    self._drop()
                raise

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(session, *args)` in the connection's thread, tried twice if the connection was stale."""
        for attempt in (1, 2):
            try:
                async with self.session() as (session, worker):
                    return await worker.run(fn, session, *args)
            except TlsError:
                raise
            except Unavailable:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        async with self._lock:
            session, worker = self._session, self._worker
            self._session = self._worker = None
            if session is not None and worker is not None:
                try:
                    await asyncio.wait_for(worker.run(session.close), 5.0)
                except Exception:
                    session.abort()
                worker.shutdown()
