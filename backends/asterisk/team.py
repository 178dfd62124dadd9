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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..local.database import is_postgres
from .team_schema import migrate

WAITING, TAKEN, ABANDONED, ENDED = "waiting", "taken", "abandoned", "ended"
# Handed by its taker to another agent (a transfer), for that agent's console to take.
OFFERED = "offered"
# An offer nobody took in this long (the agent's console gone meanwhile) goes back to the team.
OFFER_SECONDS = 5.0
# How long a lease or a console's session lasts unrenewed (teamwork.py renews them): a console that died
# hands the customers' application on, and the calls it was ringing for go back to the team, after this.
LEASE_SECONDS = 2.0
# Ended rows stay readable this long, so that a console polling less often still sees how a call ended.
KEEP_ENDED_SECONDS = 120.0
# Where a write tells the consoles on PostgreSQL that the queue changed (the payload: the pbx).
NOTIFY_CHANNEL = "standardiste_asterisk"
# The claim's console is not alive: no member row of its session renewed lately (`?` = now).
_CLAIMER_DEAD = (
    "NOT EXISTS (SELECT 1 FROM asterisk_members WHERE asterisk_members.pbx = asterisk_queue.pbx"
    " AND asterisk_members.session = asterisk_queue.session AND asterisk_members.until_at >= ?)"
)
# A claim the holder gives back: a dead console's whose phone never answered, or an offer not taken.
_TO_GIVE_BACK = (
    f"((state = '{TAKEN}' AND answered_at IS NULL AND {_CLAIMER_DEAD})"
    f" OR (state = '{OFFERED}' AND changed_at < ?))"
)
_COLUMNS = "channel, args, caller_name, caller_number, created_at, state, owner, said, session, answered_at"


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
    session: str | None = None  # the console that claimed it
    answered_at: float | None = None  # its taker's phone answered

    @property
    def is_callback(self) -> bool:
        return self.channel.startswith("cb-")


def _row(found: tuple[Any, ...]) -> Row:
    channel, args, name, number, created, state, owner, said, session, answered = found
    return Row(channel, tuple(args.split(",")), name, number, created, state, owner, said, session, answered)


class TeamQueue:
    """The shared table of one PBX's customers' application (`pbx` = the adapter's workspace id), as seen
    by one console (`session`)."""

    def __init__(self, target: str, pbx: str, *, session: str = "", clock: Any = time.time) -> None:
        self.target, self.pbx, self.clock = target, pbx, clock
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

        ws = Workspace(self.target)
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
            f"SELECT {_COLUMNS} FROM asterisk_queue"
            " WHERE pbx = ? AND (state IN (?, ?, ?) OR changed_at >= ?) ORDER BY created_at",
            (self.pbx, WAITING, TAKEN, OFFERED, since),
        ).fetchall()
        return [_row(r) for r in found]

    def _orphans(self) -> list[Row]:
        found = self._ws.db.execute(
            f"SELECT {_COLUMNS} FROM asterisk_queue WHERE pbx = ? AND channel NOT LIKE 'cb-%'"
            f" AND {_TO_GIVE_BACK} ORDER BY created_at",
            (self.pbx, self.clock(), self.clock() - OFFER_SECONDS),
        ).fetchall()
        return [_row(r) for r in found]

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

    async def claim(self, channel: str, agent: str) -> str | None:
        """Make `agent` (on this console) the one who takes the call: None when won (or this console's
        already), else who has it (an agent, or `abandoned`/`ended` when it is over)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, owner = ?, session = ?, answered_at = NULL, changed_at = ?"
            " WHERE pbx = ? AND channel = ? AND ((state = ? AND owner IS NULL) OR (state = ? AND owner = ?)"
            " OR (state = ? AND owner = ? AND session = ?)) RETURNING owner",
            (
                TAKEN,
                agent,
                self.session,
                self.clock(),
                self.pbx,
                channel,
                WAITING,
                OFFERED,
                agent,
                TAKEN,
                agent,
                self.session,
            ),
        )
        if row is not None:
            return None
        found = await self._run(
            self._one,
            "SELECT state, owner FROM asterisk_queue WHERE pbx = ? AND channel = ?",
            (self.pbx, channel),
            notify=False,
        )
        if found is None:
            return "nobody: the call is not in the team's queue"
        state, owner = found
        return str(owner) if state in (TAKEN, OFFERED) and owner else str(state)

    async def answered(self, channel: str) -> bool:
        """This console's phone answered the call it claimed: False when the claim is not its own any more
        (taken back while this console could not renew its session)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET answered_at = ?, changed_at = ? WHERE pbx = ? AND channel = ?"
            " AND state = ? AND session = ? RETURNING channel",
            (self.clock(), self.clock(), self.pbx, channel, TAKEN, self.session),
        )
        return row is not None

    async def offer(self, channel: str, agent: str) -> bool:
        """Hand the call this console claimed to `agent` (a transfer), for their console to take: False when
        the claim is not this console's any more."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, owner = ?, session = NULL, changed_at = ? WHERE pbx = ?"
            " AND channel = ? AND state = ? AND session = ? RETURNING channel",
            (OFFERED, agent, self.clock(), self.pbx, channel, TAKEN, self.session),
        )
        return row is not None

    async def live(self, agent: str) -> bool:
        """A console of `agent` is alive in the team (it would take a call handed to them)."""
        found = await self._run(
            self._one,
            "SELECT session FROM asterisk_members WHERE pbx = ? AND agent = ? AND until_at >= ?",
            (self.pbx, agent, self.clock()),
            notify=False,
        )
        return found is not None

    async def mine(self, channel: str) -> bool:
        """The call is this console's claim (not given back meanwhile by the holder)."""
        found = await self._run(
            self._one,
            "SELECT channel FROM asterisk_queue WHERE pbx = ? AND channel = ? AND state = ? AND session = ?",
            (self.pbx, channel, TAKEN, self.session),
            notify=False,
        )
        return found is not None

    async def adopt(self, channel: str, agent: str) -> bool:
        """A call `agent` claimed from an earlier console (a restart) is this console's now, unless another
        live console has it meanwhile (it was taken back): True when it is this console's."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET session = ? WHERE pbx = ? AND channel = ? AND state = ? AND owner = ?"
            f" AND (session = ? OR session IS NULL OR {_CLAIMER_DEAD}) RETURNING channel",
            (self.session, self.pbx, channel, TAKEN, agent, self.session, self.clock()),
            notify=False,
        )
        return row is not None

    async def orphans(self) -> list[Row]:
        """Calls claimed by a console that is not alive any more, whose phone never answered: the holder
        gives them back (`take_over`, then as its own claim)."""
        return list(await self._run(self._orphans))

    async def take_over(self, channel: str) -> bool:
        """The claim of a dead console is this console's (to give back): True for the one that got it.
        Never once its phone answered: of this and that console's `answered` (it may only have been cut
        off from the database), exactly one wins."""
        row = await self._run(
            self._one,
            f"UPDATE asterisk_queue SET state = ?, session = ? WHERE pbx = ? AND channel = ? AND {_TO_GIVE_BACK}"
            " RETURNING channel",
            (TAKEN, self.session, self.pbx, channel, self.clock(), self.clock() - OFFER_SECONDS),
            notify=False,
        )
        return row is not None

    async def release(self, channel: str, args: list[str] | None = None) -> bool:
        """The call this console claimed waits for anyone again (its phone did not answer, a transfer to a
        queue: `args` then name the queue it waits in now)."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, owner = NULL, session = NULL, answered_at = NULL,"
            " changed_at = ?, args = coalesce(?, args) WHERE pbx = ? AND channel = ? AND state = ?"
            " AND session = ? RETURNING channel",
            (WAITING, self.clock(), ",".join(args) if args else None, self.pbx, channel, TAKEN, self.session),
        )
        return row is not None

    async def finish(self, channel: str, state: str, *, mine: bool = True) -> bool:
        """The call is over (`abandoned` or `ended`), written once: True for the one write that did it.
        A waiting call, or (`mine`) the one this console claimed."""
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = ?, changed_at = ? WHERE pbx = ? AND channel = ?"
            " AND ((state = ? AND owner IS NULL) OR (state = ? AND session = ?)) RETURNING channel",
            (state, self.clock(), self.pbx, channel, WAITING, TAKEN, self.session if mine else ""),
        )
        return row is not None

    async def gone(self, channel: str) -> bool:
        """The caller's channel was destroyed (the holder hears it, wherever the call is): a waiting call is
        abandoned; one claimed by a console that died is abandoned if its phone never answered, else ended.
        A live console's call is its own to end. True for the one write that did it."""
        now = self.clock()
        row = await self._run(
            self._one,
            "UPDATE asterisk_queue SET state = CASE WHEN answered_at IS NULL THEN ? ELSE ? END, changed_at = ?"
            " WHERE pbx = ? AND channel = ? AND ((state = ? AND owner IS NULL) OR state = ?"
            f" OR (state = ? AND {_CLAIMER_DEAD})) RETURNING channel",
            (ABANDONED, ENDED, now, self.pbx, channel, WAITING, OFFERED, TAKEN, now),
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
                _row(r)
                for r in self._ws.db.execute(
                    f"SELECT {_COLUMNS} FROM asterisk_queue WHERE pbx = ? AND channel IN ({marks})",
                    (self.pbx, *chunk),
                ).fetchall()
            ]
        return found
