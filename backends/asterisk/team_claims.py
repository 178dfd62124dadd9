"""The claims on a team's shared queue (team.py has the design), each one conditional statement so that of
several consoles exactly one wins: taking a call (`claim`), its phone's answer (`answered`), handing it to
another agent (`offer`), taking back this agent's calls after a restart (`adopt`), the holder taking over and
giving back a dead console's (`orphans`, `take_over`), giving a call back (`release`), and its end, written
once (`finish`, `gone`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .team_rows import (
    ABANDONED,
    CLAIMER_DEAD,
    COLUMNS,
    ENDED,
    OFFER_SECONDS,
    OFFERED,
    TAKEN,
    TO_GIVE_BACK,
    WAITING,
    Row,
    row_of,
)


class Claims:
    """TeamQueue's claims (team.py gives the connection, its thread and this console's session)."""

    pbx: str
    session: str
    clock: Any
    _ws: Any

    # team.py's: a call on the connection's thread, and one statement in a write transaction.
    _run: Callable[..., Awaitable[Any]]
    _one: Callable[..., Any]

    def _orphans(self) -> list[Row]:
        found = self._ws.db.execute(
            f"SELECT {COLUMNS} FROM asterisk_queue WHERE pbx = ? AND channel NOT LIKE 'cb-%'"
            f" AND {TO_GIVE_BACK} ORDER BY created_at",
            (self.pbx, self.clock(), self.clock() - OFFER_SECONDS),
        ).fetchall()
        return [row_of(r) for r in found]

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
            f" AND (session = ? OR session IS NULL OR {CLAIMER_DEAD}) RETURNING channel",
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
            f"UPDATE asterisk_queue SET state = ?, session = ? WHERE pbx = ? AND channel = ? AND {TO_GIVE_BACK}"
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
            f" OR (state = ? AND {CLAIMER_DEAD})) RETURNING channel",
            (ABANDONED, ENDED, now, self.pbx, channel, WAITING, OFFERED, TAKEN, now),
        )
        return row is not None
