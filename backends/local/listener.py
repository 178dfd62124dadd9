"""Hearing of changes on PostgreSQL: LISTEN on the channel the change log's trigger NOTIFYs.

A notification only wakes the reader; what changed is always read from the log by seq (backend.py), so a
notification lost, folded or late costs a delay, never a change. Its own connection, on the event loop
(psycopg's async API): waiting on it blocks no thread, and a dropped connection ends the wait with
`DatabaseUnavailable`, which the hub answers by reconnecting and reading a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .database import DatabaseUnavailable, shown
from .postgres import NOTIFY_CHANNEL

# Seconds between reads of the log when nothing was announced: the bound on a change whose notification
# was lost (a change announced is read at once).
CATCH_UP = 1.0


class ChangeListener:
    def __init__(self, dsn: str, password: str | None = None) -> None:
        self.dsn = dsn
        self.password = password
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self._heard = asyncio.Event()
        self._error: DatabaseUnavailable | None = None
        self.last_seq = 0

    async def start(self) -> None:
        import psycopg

        extra = {"password": self.password} if self.password else {}
        try:
            self._conn = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, application_name="standardiste-listen", connect_timeout=10, **extra
            )
            await self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except psycopg.Error as error:
            raise DatabaseUnavailable(f"cannot listen on {shown(self.dsn)}: {error}") from None
        self._task = asyncio.create_task(self._listen(), name="workspace-listen")

    async def _listen(self) -> None:
        import psycopg

        try:
            async for notification in self._conn.notifies():
                with contextlib.suppress(ValueError):
                    self.last_seq = max(self.last_seq, int(notification.payload))
                self._heard.set()
        except psycopg.Error as error:
            self._error = DatabaseUnavailable(f"lost the database {shown(self.dsn)}: {error}")
        else:
            self._error = DatabaseUnavailable(f"lost the database {shown(self.dsn)}")
        self._heard.set()

    async def wait(self, timeout: float, closed: asyncio.Event) -> None:
        """Until a change is announced, `closed` is set, or `timeout`; raises if the connection was lost."""
        if self._error is None and not self._heard.is_set():
            closing = asyncio.ensure_future(closed.wait())
            heard = asyncio.ensure_future(self._heard.wait())
            try:
                await asyncio.wait((closing, heard), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                closing.cancel()
                heard.cancel()
        self._heard.clear()
        if self._error is not None and not closed.is_set():
            raise self._error

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
