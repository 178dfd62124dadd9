"""Several agents' consoles on one phone queue: the routing point they share (docs/asterisk.md, "A team").

ARI gives a Stasis application to one websocket (a second one takes it, the first gets ApplicationReplaced),
but its REST calls are not scoped to an application: any client may answer, bridge or `move` any channel in
Stasis. So, in a team:

- each console registers its own application, `<app>-<agent>`, for its phone legs and the calls it took;
- the customers' application `<app>` (the dialplan's) is registered by one console at a time, the holder of
  a lease in this table (renewed every poll, given up on close, taken over by another when it lapses). The
  holder only writes down what arrives (`arrived`) and what hangs up while waiting (`left`);
- every console reads the waiting calls from here (`rows`, polled), and takes one with `claim`: one
  conditional UPDATE, so of several agents exactly one wins. The winner subscribes its own application to
  the caller's channel and moves it there (`POST /channels/{id}/move`); from then on the call's events come
  to it alone. A phone that does not answer gives the call back (moved back to `<app>`, then `release`);
- the end of a call is written once (`finish`, conditional on its state): a caller who hangs up while
  waiting is abandoned in one row, which every console then shows as missed.

The table lives in the team's workspace: the local workspace's file (SQLite, shared by the consoles of one
machine or a network share) or its PostgreSQL database, through the local workspace's own connection
(`Workspace`), so the SQL is the one both storages run. Blocking: every call runs on one worker thread.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS asterisk_queue ("
    " pbx TEXT NOT NULL, channel TEXT NOT NULL, args TEXT NOT NULL, caller_name TEXT NOT NULL,"
    " caller_number TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, owner TEXT,"
    " changed_at DOUBLE PRECISION NOT NULL, said TEXT NOT NULL DEFAULT '', PRIMARY KEY (pbx, channel))",
    "CREATE TABLE IF NOT EXISTS asterisk_leases ("
    " pbx TEXT PRIMARY KEY, holder TEXT NOT NULL, until_at DOUBLE PRECISION NOT NULL)",
)
WAITING, TAKEN, ABANDONED, ENDED = "waiting", "taken", "abandoned", "ended"
# Ended rows stay readable this long, so that a console polling less often still sees how a call ended.
KEEP_ENDED_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Row:
    channel: str
    args: tuple[str, ...]
    caller_name: str
    caller_number: str
    created_at: float
    state: str
    owner: str | None
    # What the customer said while waiting (the channel variable STANDARDISTE_MESSAGES), as the holder saw it.
    said: str = ""


class TeamQueue:
    """The shared table of one PBX's customers' application (`pbx` = the adapter's workspace id)."""

    def __init__(self, target: str, pbx: str, *, clock: Any = time.time) -> None:
        self.target, self.pbx, self.clock = target, pbx, clock
        self._pool: ThreadPoolExecutor | None = None
        self._ws: Any = None

    async def _run(self, function: Any, *args: Any) -> Any:
        if self._pool is None:  # one thread, the connection's (opened again after a close)
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asterisk-team")
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    # -------------------------------------------------------------------------------- on the worker thread

    def _open(self) -> None:
        if self._ws is not None:
            return
        from ..local.workspace import Workspace

        ws = Workspace(self.target)
        try:
            with ws.transaction():
                for statement in _SCHEMA:
                    ws.db.execute(statement)
        except BaseException:
            ws.close()
            raise
        self._ws = ws

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._ws.transaction():
            return self._ws.db.execute(sql, params).fetchone()

    def _lease(self, holder: str, seconds: float) -> bool:
        now = self.clock()
        with self._ws.transaction():
            self._ws.db.execute(
                "INSERT INTO asterisk_leases (pbx, holder, until_at) VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
                (self.pbx, holder),
            )
            won = self._ws.db.execute(
                "UPDATE asterisk_leases SET holder = ?, until_at = ? WHERE pbx = ? AND (holder = ? OR until_at < ?)"
                " RETURNING holder",
                (holder, now + seconds, self.pbx, holder, now),
            ).fetchone()
        return won is not None

    def _rows(self) -> list[Row]:
        since = self.clock() - KEEP_ENDED_SECONDS
        found = self._ws.db.execute(
            "SELECT channel, args, caller_name, caller_number, created_at, state, owner, said FROM asterisk_queue"
            " WHERE pbx = ? AND (state IN (?, ?) OR changed_at >= ?) ORDER BY created_at",
            (self.pbx, WAITING, TAKEN, since),
        ).fetchall()
        return [Row(c, tuple(a.split(",")), n, num, t, s, o, said) for c, a, n, num, t, s, o, said in found]

    # ------------------------------------------------------------------------------------------ the API

    async def open(self) -> None:
        await self._run(self._open)

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await self._run(ws.close)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    async def lease(self, holder: str, seconds: float) -> bool:
        """Take or renew the right to register the customers' application; False while another holds it."""
        return bool(await self._run(self._lease, holder, seconds))

    async def give_up(self, holder: str) -> None:
        await self._run(
            self._one,
            "UPDATE asterisk_leases SET until_at = 0 WHERE pbx = ? AND holder = ? RETURNING holder",
            (self.pbx, holder),
        )

    async def arrived(
        self, channel: str, args: list[str], caller_name: str, caller_number: str, said: str = ""
    ) -> bool:
        """A customer entered the application; False when it was written already (a replay, a move back)."""
        now = self.clock()
        row = await self._run(
            self._one,
            "INSERT INTO asterisk_queue (pbx, channel, args, caller_name, caller_number, created_at, state,"
            " owner, changed_at, said) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING"
            " RETURNING channel",
            (self.pbx, channel, ",".join(args), caller_name, caller_number, now, WAITING, now, said),
        )
        return row is not None

    async def say(self, channel: str, said: str) -> bool:
        """The customer's lines so far, while the call waits (its taker reads them from its own events)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET said = ?, changed_at = ? WHERE pbx = ? AND channel = ? AND said <> ?"
            " RETURNING channel",
            (said, self.clock(), self.pbx, channel, said),
        )
        return row is not None

    async def claim(self, channel: str, agent: str) -> str | None:
        """Make `agent` the one who takes the call: None when won (or theirs already), else who has it
        (an agent, or `abandoned`/`ended` when it is over)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, owner = ?, changed_at = ? WHERE pbx = ? AND channel = ?"
            " AND ((state = ? AND owner IS NULL) OR (state = ? AND owner = ?)) RETURNING owner",
            (TAKEN, agent, self.clock(), self.pbx, channel, WAITING, TAKEN, agent),
        )
        if row is not None:
            return None
        found = await self._run(
            self._one,
            "SELECT state, owner FROM asterisk_queue WHERE pbx = ? AND channel = ?",
            (self.pbx, channel),
        )
        if found is None:
            return "nobody: the call is not in the team's queue"
        state, owner = found
        return str(owner) if state == TAKEN and owner else str(state)

    async def release(self, channel: str, agent: str, args: list[str] | None = None) -> bool:
        """The call waits for anyone again (the agent's phone did not answer, a transfer to a queue: `args`
        then name the queue it waits in now)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, owner = NULL, changed_at = ?, args = coalesce(?, args)"
            " WHERE pbx = ? AND channel = ? AND state = ? AND owner = ? RETURNING channel",
            (WAITING, self.clock(), ",".join(args) if args else None, self.pbx, channel, TAKEN, agent),
        )
        return row is not None

    async def finish(self, channel: str, state: str, agent: str | None) -> bool:
        """The call is over (`abandoned` or `ended`), written once: True for the one write that did it.
        `agent` None: only a waiting call (the holder, or a console that found the caller gone)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, changed_at = ? WHERE pbx = ? AND channel = ?"
            " AND ((state = ? AND owner IS NULL) OR (state = ? AND owner = ?)) RETURNING channel",
            (state, self.clock(), self.pbx, channel, WAITING, TAKEN, agent or ""),
        )
        return row is not None

    async def rows(self) -> list[Row]:
        """The calls waiting or being taken, and those that ended lately, oldest first."""
        return list(await self._run(self._rows))
