"""The Asterisk team's shared queue (backends/asterisk/team.py) on both storages of the team's workspace, a file
and PostgreSQL: consoles racing for a call, each on its own connection and thread, get it exactly once; the
lease of the customers' application has one holder at a time and passes on when given up or lapsed; a call's
end is written once."""

from __future__ import annotations

import asyncio
from typing import Any

from standardiste.backends.asterisk.team import ABANDONED, ENDED, TAKEN, WAITING, TeamQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_racing_consoles_take_each_call_once_and_the_lease_has_one_holder(
    workspace_target: Any,
) -> None:
    clock = Clock()
    consoles = [TeamQueue(str(workspace_target), "asterisk:pbx#app", clock=clock) for _ in range(6)]
    try:
        for queue in consoles:
            await queue.open()
        first = consoles[0]
        calls = [f"1733.{n}" for n in range(20)]
        for channel in calls:
            assert await first.arrived(channel, ["queue-sales"], "Ann", "+33612345678")
        assert not await consoles[1].arrived(calls[0], ["queue-sales"], "Ann", "+33612345678")  # once

        results = await asyncio.gather(
            *(queue.claim(channel, f"agent{i}") for channel in calls for i, queue in enumerate(consoles))
        )
        for n, channel in enumerate(calls):
            mine = results[n * len(consoles) : (n + 1) * len(consoles)]
            winners = [i for i, owner in enumerate(mine) if owner is None]
            assert len(winners) == 1, (channel, mine)
            assert {owner for owner in mine if owner is not None} == {f"agent{winners[0]}"}
        rows = {row.channel: row for row in await consoles[3].rows()}
        assert {row.state for row in rows.values()} == {TAKEN}
        assert rows[calls[0]].args == ("queue-sales",) and rows[calls[0]].caller_number == "+33612345678"

        # Given back, it is anyone's again; ended by its taker, once; abandoned only while waiting.
        owner = rows[calls[0]].owner
        assert owner is not None
        assert not await first.release(calls[0], "somebody-else")
        assert await first.release(calls[0], owner)
        assert await consoles[5].claim(calls[0], "agent5") is None
        assert not await first.finish(calls[0], ABANDONED, None)  # taken: not the holder's to end
        assert await consoles[5].finish(calls[0], ENDED, "agent5")
        assert not await consoles[5].finish(calls[0], ENDED, "agent5")
        assert await first.claim(calls[0], "agent0") == ENDED
        assert await first.arrived("1733.99", ["queue-sales"], "Bo", "+33600000000")
        done = await asyncio.gather(*(queue.finish("1733.99", ABANDONED, None) for queue in consoles))
        assert sorted(done) == [False] * 5 + [True]
        assert await first.claim("1733.99", "agent0") == ABANDONED

        # The lease: one holder; renewed by it; taken over when given up or lapsed.
        held = await asyncio.gather(*(queue.lease(f"h{i}", 2.0) for i, queue in enumerate(consoles)))
        assert sum(held) == 1
        holder = held.index(True)
        other = (holder + 1) % len(consoles)
        assert await consoles[holder].lease(f"h{holder}", 2.0)
        assert not await consoles[other].lease(f"h{other}", 2.0)
        await consoles[holder].give_up(f"h{holder}")
        assert await consoles[other].lease(f"h{other}", 2.0)
        clock.now += 2.5  # the holder died without giving it up
        assert await consoles[holder].lease(f"h{holder}", 2.0)
        assert not await consoles[other].lease(f"h{other}", 2.0)
        waiting = [row for row in await first.rows() if row.state == WAITING]
        assert waiting == []
    finally:
        for queue in consoles:
            await queue.close()
