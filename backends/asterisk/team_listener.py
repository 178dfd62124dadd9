"""Hearing that the team's queue changed, on PostgreSQL: LISTEN on the channel its writes NOTIFY (team.py).

As the local workspace's listener (backends/local/listener.py), a notification only wakes the console: what
changed is always read from the table, so a notification lost or folded costs a delay (the catch-up read),
never a change. Its own connection, on the event loop (psycopg's async API). A lost connection is not an
error here: the console reads by polling until a new listener starts (teamwork.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..local.database import shown
from .ari import stop_task
from .team import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class TeamListener:
    def __init__(self, dsn: str, pbx: str, password: str | None = None) -> None:
        self.dsn, self.pbx, self.password = dsn, pbx, password
        self.heard = asyncio.Event()
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        import psycopg

        extra = {"password": self.password} if self.password else {}
        self._conn = await psycopg.AsyncConnection.connect(
            self.dsn,
            autocommit=True,
            application_name="standardiste-asterisk-listen",
            connect_timeout=10,
            **extra,
        )
        await self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self._task = asyncio.create_task(self._listen(), name="asterisk-team-listen")

    async def _listen(self) -> None:
        import psycopg

        try:
            async for notification in self._conn.notifies():
                if notification.payload == self.pbx:  # another PBX's team may share the database
                    self.heard.set()
        except psycopg.Error as error:
            log.warning("lost the team's notifications from %s: %s", shown(self.dsn), error)
        self.heard.set()  # the loop wakes, reads, and starts another listener

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task)  # a cancellation of the console's own close is not swallowed
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
