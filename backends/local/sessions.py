"""Console sessions on the workspace file: a heartbeat per running console, so the others know who is gone.

Each console of an agent writes its row of `sessions` every `heartbeat` seconds (5 s by default). A row
older than `gone_after` (20 s) is a console that stopped answering: killed, its terminal lost, its machine
asleep. Whoever beats next (any console on the file, a supervisor's too) reaps it in one transaction: the row
goes, and if the agent has no other live console they are set OFFLINE (reason "gone"), their viewing and
typing marks are cleared and their standing push offer is dropped, so routing stops offering them work and
no one reads "@anna is viewing" about a closed console. A quitting console does the same for itself at once.

The `sessions` table has no change trigger: a heartbeat does not flood the change feed; only the presence
change a reap or a quit makes is logged (the `agents` trigger), and reaches the other consoles as any other.

Agents without sessions (the simulator's people, scripted agents using `Workspace` directly) are never
reaped: only a console that announced itself can be declared gone.

Blocking, like `Workspace`: call these from a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from ...console.core.model import Presence
from ...console.core.presence import GONE_AFTER, HEARTBEAT
from .database import STORAGE_ERRORS, Target, WriteRefused
from .workspace import Workspace

GONE_REASON = "gone"
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    agent_id: str

    @classmethod
    def new(cls, agent_id: str) -> Session:
        return cls(uuid.uuid4().hex, agent_id)


def begin(ws: Workspace, session: Session) -> None:
    at = ws.now()
    with ws.transaction():
        ws.db.execute(
            "INSERT INTO sessions (id, agent_id, pid, host, started_at, beat_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, pid = excluded.pid, "
            "host = excluded.host, started_at = excluded.started_at, beat_at = excluded.beat_at",
            (session.id, session.agent_id, os.getpid(), socket.gethostname(), at, at),
        )


def beat(
    ws: Workspace, session: Session | None, gone_after: float = GONE_AFTER, *, first: bool = False
) -> tuple[bool, list[str]]:
    """Refresh my row (create it on the `first` beat) and reap the consoles gone silent.

    Returns (whether my own row had been reaped, so I was seen as gone; the agents set offline now)."""
    was_reaped = False
    with ws.transaction():
        at = ws.now()
        if session is not None and first:
            begin(ws, session)
        elif session is not None:
            cursor = ws.db.execute("UPDATE sessions SET beat_at = ? WHERE id = ?", (at, session.id))
            if cursor.rowcount == 0:
                was_reaped = True
                begin(ws, session)
        reaped = reap(ws, at, gone_after)
    return was_reaped, reaped


def reap(ws: Workspace, now: float, gone_after: float = GONE_AFTER) -> list[str]:
    """Drop sessions silent for `gone_after`; set offline each agent left with no live session."""
    with ws.transaction():
        stale = ws.db.execute(
            "SELECT DISTINCT agent_id FROM sessions WHERE beat_at < ?", (now - gone_after,)
        ).fetchall()
        if not stale:
            return []
        ws.db.execute("DELETE FROM sessions WHERE beat_at < ?", (now - gone_after,))
        gone = [agent_id for (agent_id,) in stale if not _has_session(ws, agent_id)]
        for agent_id in gone:
            _sign_off(ws, agent_id, now, GONE_REASON)
    return gone


def end(ws: Workspace, session: Session) -> bool:
    """A console quits: its row goes; the agent is set offline unless another console of theirs still runs.

    Returns whether the agent was set offline."""
    with ws.transaction():
        at = ws.now()
        ws.db.execute("DELETE FROM sessions WHERE id = ?", (session.id,))
        if _has_session(ws, session.agent_id):
            return False
        _sign_off(ws, session.agent_id, at, "")
    return True


def live_sessions(ws: Workspace, agent_id: str) -> int:
    return int(ws.db.execute("SELECT COUNT(*) FROM sessions WHERE agent_id = ?", (agent_id,)).fetchone()[0])


def _has_session(ws: Workspace, agent_id: str) -> bool:
    return (
        ws.db.execute("SELECT 1 FROM sessions WHERE agent_id = ? LIMIT 1", (agent_id,)).fetchone() is not None
    )


def _sign_off(ws: Workspace, agent_id: str, at: float, reason: str) -> None:
    # One UPDATE, so the other consoles get one AgentUpdated with presence and marks changed together.
    ws.db.execute(
        "UPDATE agents SET presence = ?, presence_reason = ?, presence_since = ?, viewing = NULL, "
        "typing_in = NULL WHERE id = ? AND (presence != ? OR viewing IS NOT NULL OR typing_in IS NOT NULL)",
        (Presence.OFFLINE.value, reason, at, agent_id, Presence.OFFLINE.value),
    )
    ws.db.execute("DELETE FROM typing WHERE who = ?", (agent_id,))
    # A standing offer to a console that is gone would hold the item for `offer_timeout` for nothing.
    ws.db.execute("DELETE FROM offers WHERE agent_id = ?", (agent_id,))


class Heartbeat:
    """The beating of one console: its own thread and connection, driven by the event loop.

    Its own connection, so a long snapshot read on the adapter's thread does not delay a beat; driven by
    the event loop, so a console whose loop hangs stops beating and is seen as gone, as it should be.
    A failed beat (disk full, file locked) is kept in `error` and tried again at the next one.
    """

    def __init__(
        self,
        path: Target,
        session: Session | None,
        *,
        password: str | None = None,
        every: float = HEARTBEAT,
        gone_after: float = GONE_AFTER,
        on_error: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        self.path = path
        self.password = password
        self.session = session
        self.every = every
        self.gone_after = gone_after
        self.on_error = on_error
        self.error: BaseException | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._ws: Workspace | None = None
        self._task: asyncio.Task[None] | None = None
        self._begun = False

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heartbeat")
        await self._beat()  # my row at once (a quit 1 s after start must find it), and a first reap
        self._task = asyncio.create_task(self._loop(), name="heartbeat")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self._beat()

    async def _beat(self) -> None:
        try:
            if self._ws is None:  # opened here, so a file that cannot be opened now (full disk) is retried
                self._ws = await self._run(partial(Workspace, self.path, password=self.password))
            was_reaped, _gone = await self._run(
                partial(beat, first=not self._begun), self._ws, self.session, self.gone_after
            )
            self._begun = True
        except (*STORAGE_ERRORS, OSError) as error:
            # A read-only supervisor cannot reap the gone: the agents' consoles do, so it is nothing to say.
            self._set_error(None if isinstance(error, WriteRefused) and self.session is None else error)
            return
        self._set_error(None)
        if was_reaped:
            log.warning(
                "this console was seen as gone (no heartbeat for %.0f s); it beats again", self.gone_after
            )

    def _set_error(self, error: BaseException | None) -> None:
        changed = (error is None) != (self.error is None)
        self.error = error
        if changed and self.on_error is not None:
            self.on_error(error)

    async def stop(self, *, sign_off: bool = True) -> bool:
        """Stop beating; with `sign_off` (the console quits) set the agent offline with marks cleared unless
        another console of theirs runs. Without (a reconnect), the row stays: the next connect beats anew,
        and if it never does the others reap the old row after `gone_after`.

        Returns whether the agent was set offline."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        signed_off = False
        if self._ws is not None:
            ws = self._ws
            if self.session is not None and sign_off:
                try:
                    signed_off = await self._run(end, ws, self.session)
                except (*STORAGE_ERRORS, OSError) as error:  # the others will reap it after `gone_after`
                    log.warning("could not sign off: %s", error)
            await self._run(ws.close)
            self._ws = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        return signed_off


__all__ = [
    "GONE_AFTER",
    "GONE_REASON",
    "HEARTBEAT",
    "Heartbeat",
    "Session",
    "beat",
    "begin",
    "end",
    "live_sessions",
    "reap",
]
