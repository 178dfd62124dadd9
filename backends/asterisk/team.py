"""Several agents' consoles on one phone queue: the routing point they share (docs/asterisk.md, "A team").

ARI gives a Stasis application to one websocket (a second one takes it, the first gets ApplicationReplaced),
but its REST calls are not scoped to an application: any client may answer, bridge or `move` any channel in
Stasis. So, in a team:

- each console registers its own application, `<app>-<agent>`, for its phone legs and the calls it took,
  and says it is alive in `asterisk_members` (its session, renewed with the lease round, lapsing when it dies);
- the customers' application `<app>` (the dialplan's) is registered by one console at a time, the holder of
  a lease in this table (renewed every round, given up on close, taken over by another when it lapses). The
  holder writes down what arrives (`arrived`) and what hangs up while waiting (`gone`), and gives back the
  calls that a console which died was still ringing its phone for (`orphans`, `take_over`);
- every console reads the waiting calls from here (`rows`: on PostgreSQL when a write NOTIFYs the channel
  `standardiste_asterisk`, on a file by polling), and takes one with `claim`: one conditional UPDATE, so of
  several agents exactly one wins. The winner subscribes its own application to the caller's channel and
  moves it there (`POST /channels/{id}/move`); from then on the call's events come to it alone. A phone that
  does not answer gives the call back (moved back to `<app>`, then `release`); a phone that answers is
  written down (`answered`: a call in talk is never taken back, even from a console that died);
- the end of a call is written once (`finish`, conditional on its state): a caller who hangs up while
  waiting is abandoned in one row, which every console then shows as missed;
- a transfer to an agent whose console is alive hands the call over (`offer`: `offered` to that agent, who
  alone may claim it; not taken within `OFFER_SECONDS`, the holder gives it back);
- a callback request is a row too (its channel `cb-<id>`): anyone takes it, and it stays with the agent who
  did, in every console, until that agent is done with it.

A row's claim belongs to a console's session (`session`), not only to an agent: a console that comes back
after a restart takes its calls over (`adopt`) only if no live console has them meanwhile.

The table lives in the team's workspace: the local workspace's file (SQLite, shared by the consoles of one
machine or a network share) or its PostgreSQL database, through the local workspace's own connection
(`Workspace`), so the SQL is the one both storages run. Its shape is versioned and migrated on open
(team_schema.py). Blocking: every call runs on one worker thread.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from ..local.database import is_postgres
from .team_claims import Claims
from .team_rows import (
    ABANDONED,
    COLUMNS,
    ENDED,
    KEEP_ENDED_SECONDS,
    LEASE_SECONDS,
    NOTIFY_CHANNEL,
    OFFER_SECONDS,
    OFFERED,
    TAKEN,
    WAITING,
    Row,
    row_of,
)
from .team_schema import migrate

__all__ = [
    "ABANDONED",
    "ENDED",
    "KEEP_ENDED_SECONDS",
    "LEASE_SECONDS",
    "NOTIFY_CHANNEL",
    "OFFERED",
    "OFFER_SECONDS",
    "TAKEN",
    "WAITING",
    "Row",
    "TeamQueue",
]


class TeamQueue(Claims):
    """The shared table of one PBX's customers' application (`pbx` = the adapter's workspace id), as seen
    by one console (`session`)."""

    def __init__(
        self,
        target: str,
        pbx: str,
        *,
        session: str = "",
        clock: Any = time.time,
        password: Callable[[], str | None] | None = None,
    ) -> None:
        self.target, self.pbx, self.clock = target, pbx, clock
        # PostgreSQL's password when the DSN has none (asked for at open: the keyring, or None for libpq's
        # own PGPASSWORD and ~/.pgpass).
        self.password = password or (lambda: None)
        self.session = session or uuid.uuid4().hex
        self.notifies = is_postgres(target)  # else the consoles poll
        self._pool: ThreadPoolExecutor | None = None
        self._ws: Any = None

    async def _run(self, function: Any, *args: Any, **keywords: Any) -> Any:
        if self._pool is None:  # one thread, the connection's (opened again after a close)
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asterisk-team")
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, partial(function, *args, **keywords)
        )

    # -------------------------------------------------------------------------------- on the worker thread

    def _open(self) -> None:
        if self._ws is not None:
            return
        from ..local.workspace import Workspace

        ws = Workspace(self.target, password=self.password() if self.notifies else None)
        try:
            migrate(ws)
        except BaseException:
            ws.close()
            raise
        self._ws = ws

    def _one(self, sql: str, params: tuple[Any, ...], *, notify: bool = True) -> Any:
        """One statement in a write transaction; on PostgreSQL a change NOTIFYs the team (on commit)."""
        with self._ws.transaction():
            found = self._ws.db.execute(sql, params).fetchone()
            if found is not None and notify and self.notifies:
                self._ws.db.execute("SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, self.pbx))
            return found

    def _alive(self, agent: str, seconds: float) -> None:
        now = self.clock()
        with self._ws.transaction():
            self._ws.db.execute(
                "INSERT INTO asterisk_members (pbx, session, agent, until_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (pbx, session) DO UPDATE SET until_at = excluded.until_at",
                (self.pbx, self.session, agent, now + seconds),
            )
            self._ws.db.execute(
                "DELETE FROM asterisk_members WHERE pbx = ? AND until_at < ?", (self.pbx, now - 3600)
            )

    def _lease(self, holder: str, seconds: float, agent: str) -> bool:
        now = self.clock()
        with self._ws.transaction():
            self._alive(agent or holder, seconds)  # joins this transaction
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
            f"SELECT {COLUMNS} FROM asterisk_queue"
            " WHERE pbx = ? AND (state IN (?, ?, ?) OR changed_at >= ?) ORDER BY created_at",
            (self.pbx, WAITING, TAKEN, OFFERED, since),
        ).fetchall()
        return [row_of(r) for r in found]

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

    async def lease(self, holder: str, seconds: float, agent: str = "") -> bool:
        """This console is alive for `seconds` more (its claims are its own); and take or renew the right to
        register the customers' application: False while another holds it."""
        return bool(await self._run(self._lease, holder, seconds, agent))

    async def alive(self, agent: str, seconds: float) -> None:
        """This console is alive for `seconds` more: the calls it claims are not taken back meanwhile."""
        await self._run(self._alive, agent, seconds)

    async def give_up(self, holder: str) -> None:
        await self._run(
            self._one,
            "UPDATE asterisk_leases SET until_at = 0 WHERE pbx = ? AND holder = ? RETURNING holder",
            (self.pbx, holder),
            notify=False,
        )

    async def leave(self) -> None:
        """This console quits: its session is not alive any more (what it still held is taken back)."""
        await self._run(
            self._one,
            "DELETE FROM asterisk_members WHERE pbx = ? AND session = ? RETURNING session",
            (self.pbx, self.session),
            notify=False,
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

    async def rows(self) -> list[Row]:
        """The calls waiting or being taken, and those that ended lately, oldest first."""
        return list(await self._run(self._rows))

    async def rows_of(self, channels: list[str]) -> list[Row]:
        """These calls' rows, however long ago they ended (a console back after a while: how they ended)."""
        return list(await self._run(self._rows_of, channels)) if channels else []

    def _rows_of(self, channels: list[str]) -> list[Row]:
        found: list[Row] = []
        for start in range(0, len(channels), 500):  # SQLite's bound on parameters, with room
            chunk = channels[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            found += [
                row_of(r)
                for r in self._ws.db.execute(
                    f"SELECT {COLUMNS} FROM asterisk_queue WHERE pbx = ? AND channel IN ({marks})",
                    (self.pbx, *chunk),
                ).fetchall()
            ]
        return found
