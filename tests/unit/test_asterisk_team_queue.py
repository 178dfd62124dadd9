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

        # Given back by its console only, it is anyone's again; ended by its taker, once; abandoned only
        # while waiting.
        owner = rows[calls[0]].owner
        assert owner is not None
        taker = consoles[int(owner.removeprefix("agent"))]
        assert rows[calls[0]].session == taker.session
        others = [queue for queue in consoles if queue is not taker]
        assert not any(await asyncio.gather(*(queue.release(calls[0]) for queue in others)))
        assert await taker.release(calls[0])
        assert await consoles[5].claim(calls[0], "agent5") is None
        assert not await first.finish(calls[0], ABANDONED, mine=False)  # taken: not the holder's to end
        assert await consoles[5].finish(calls[0], ENDED)
        assert not await consoles[5].finish(calls[0], ENDED)
        assert await first.claim(calls[0], "agent0") == ENDED
        assert await first.arrived("1733.99", ["queue-sales"], "Bo", "+33600000000")
        done = await asyncio.gather(*(queue.finish("1733.99", ABANDONED, mine=False) for queue in consoles))
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


async def test_a_dead_consoles_unanswered_claim_is_given_back_once_and_a_restarted_one_adopts_its_own(
    workspace_target: Any,
) -> None:
    """A console that died while its phone rang leaves a claim nobody renews: the holder takes it over (one
    of several racing), a call in talk is never taken back, a caller gone meanwhile is abandoned (in talk:
    ended), and the same agent's console back after a restart takes back only what no live console has."""
    clock = Clock()
    target = str(workspace_target)
    alice, holder, other = (TeamQueue(target, "pbx", clock=clock, session=s) for s in ("a1", "h", "o"))
    try:
        for queue in (alice, holder, other):
            await queue.open()
            assert isinstance(await queue.lease(queue.session, 2.0, "agent"), bool)
        for channel in ("ringing", "talking", "hung-up", "cb-request"):
            assert await holder.arrived(channel, ["queue-sales"], "Ann", "+33612345678")
            assert await alice.claim(channel, "alice") is None
        assert await alice.answered("talking")
        assert await alice.orphans() == []  # alice is alive
        assert not await holder.take_over("ringing")
        assert not await holder.gone("hung-up")  # a live console's call: its own to end

        clock.now += 2.5  # alice died: her session lapsed
        for queue in (holder, other):
            await queue.lease(queue.session, 2.0, "agent")
        orphans = await holder.orphans()
        # The callback request stays with alice; the call in talk stays hers too.
        assert sorted(row.channel for row in orphans) == ["hung-up", "ringing"]
        assert {row.owner for row in orphans} == {"alice"}
        # alice was only cut off from the database: her phone answering and the take-over exclude each
        # other, whichever comes first.
        assert await holder.arrived("answers-first", ["queue-sales"], "Cy", "+33600000001")
        assert await holder.arrived("taken-first", ["queue-sales"], "Di", "+33600000002")
        clock.now -= 2.5
        assert await alice.claim("answers-first", "alice") is None
        assert await alice.claim("taken-first", "alice") is None
        clock.now += 2.5
        assert await alice.answered("answers-first")
        assert not await holder.take_over("answers-first")
        assert await holder.take_over("taken-first")
        assert not await alice.answered("taken-first")
        assert await holder.release("taken-first")
        won = await asyncio.gather(holder.take_over("ringing"), other.take_over("ringing"))
        assert sorted(won) == [False, True]
        giver = holder if won[0] else other
        assert await giver.release("ringing", ["queue-support"])
        waiting = {row.channel: row for row in await holder.rows()}["ringing"]
        assert (waiting.state, waiting.owner, waiting.session, waiting.args) == (
            WAITING,
            None,
            None,
            ("queue-support",),
        )
        assert await holder.gone("hung-up") and not await holder.gone("hung-up")
        assert await holder.gone("talking")
        states = {row.channel: row.state for row in await holder.rows()}
        assert states == {
            "ringing": WAITING,
            "talking": ENDED,
            "hung-up": ABANDONED,
            "cb-request": TAKEN,
            "answers-first": TAKEN,
            "taken-first": WAITING,
        }

        # alice's console comes back: the callback request is hers again; a call another console has
        # taken back meanwhile is not.
        back = TeamQueue(target, "pbx", clock=clock, session="a2")
        await back.open()
        try:
            await back.lease("a2", 2.0, "alice")
            assert await back.adopt("cb-request", "alice")
            assert not await holder.take_over("cb-request")  # alive again, and never an orphan anyway
            assert await other.claim("ringing", "bob") is None
            assert not await back.adopt("ringing", "alice")
            assert not await back.adopt("ringing", "bob")  # bob's console is alive
            assert await back.finish("cb-request", ENDED)
        finally:
            await back.close()
    finally:
        for queue in (alice, holder, other):
            await queue.close()


async def test_a_team_queue_made_before_the_versions_is_migrated_with_its_rows(workspace_target: Any) -> None:
    from standardiste.backends.asterisk.team_schema import MIGRATIONS, VERSION
    from standardiste.backends.local.workspace import Workspace

    ws = Workspace(workspace_target)
    try:
        with ws.transaction():
            for statement in MIGRATIONS[0]:  # the shape the first team mode wrote, without a version
                ws.db.execute(statement)
            ws.db.execute(
                "INSERT INTO asterisk_queue (pbx, channel, args, caller_name, caller_number, created_at,"
                " state, owner, changed_at) VALUES ('pbx', '1733.1', 'queue-sales', 'Ann', '+336', 1000,"
                " 'taken', 'alice', 1000)"
            )
    finally:
        ws.close()
    clock = Clock()
    queues = [TeamQueue(str(workspace_target), "pbx", clock=clock) for _ in range(3)]
    try:
        await asyncio.gather(*(queue.open() for queue in queues))  # at once: migrated once
        rows = await queues[0].rows()
        assert [(r.channel, r.state, r.owner, r.session, r.answered_at) for r in rows] == [
            ("1733.1", TAKEN, "alice", None, None)
        ]
        # The old claim has no session: nobody alive holds it, so it is an orphan to give back.
        assert [r.channel for r in await queues[1].orphans()] == ["1733.1"]
        assert await queues[1].take_over("1733.1") and await queues[1].release("1733.1")
        assert await queues[2].claim("1733.1", "bob") is None
    finally:
        for queue in queues:
            await queue.close()
    ws = Workspace(workspace_target)
    try:
        assert ws.db.execute("SELECT version FROM asterisk_schema").fetchall() == [(VERSION,)]
        with ws.transaction():
            ws.db.execute("UPDATE asterisk_schema SET version = ?", (VERSION + 1,))
    finally:
        ws.close()
    newer = TeamQueue(str(workspace_target), "pbx")
    try:
        try:
            await newer.open()
        except RuntimeError as error:
            assert "newer than this console" in str(error)
        else:
            raise AssertionError("a newer team queue was opened")
    finally:
        await newer.close()


async def test_on_postgresql_a_change_of_the_queue_is_notified_with_its_pbx(pg_dsn: str) -> None:
    import psycopg
    from standardiste.backends.asterisk.team import NOTIFY_CHANNEL

    queue = TeamQueue(pg_dsn, "asterisk:pbx#app")
    listener = await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True)
    try:
        await queue.open()
        assert queue.notifies
        await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        await queue.lease(queue.session, 2.0, "alice")  # a heartbeat is no change of the queue
        assert await queue.arrived("1733.1", ["queue-sales"], "Ann", "+336")
        assert await queue.claim("1733.1", "alice") is None
        assert not await queue.arrived("1733.1", ["queue-sales"], "Ann", "+336")  # no change: no word
        heard: list[str] = []

        async def hear() -> None:
            async for notification in listener.notifies():
                heard.append(notification.payload)
                if len(heard) == 2:
                    return

        await asyncio.wait_for(hear(), 5)
        assert heard == ["asterisk:pbx#app"] * 2
    finally:
        await listener.close()
        await queue.close()


async def test_a_call_handed_to_an_agent_is_theirs_to_take_and_goes_back_when_nobody_does(
    workspace_target: Any,
) -> None:
    from standardiste.backends.asterisk.team import OFFER_SECONDS, OFFERED

    clock = Clock()
    alice, bob, carol = (TeamQueue(str(workspace_target), "pbx", clock=clock, session=s) for s in "abc")
    try:
        for queue, agent in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            await queue.open()
            await queue.alive(agent, 60.0)
        assert await alice.live("bob") and not await alice.live("dave")
        for channel in ("kept", "left", "hung-up"):
            assert await alice.arrived(channel, ["queue-sales"], "Ann", "+336")
            assert await alice.claim(channel, "alice") is None
            assert await alice.answered(channel)
            assert not await bob.offer(channel, "carol")  # not bob's claim to hand over
            assert await alice.offer(channel, "bob")
        rows = {row.channel: row for row in await carol.rows()}
        assert (rows["kept"].state, rows["kept"].owner, rows["kept"].session) == (OFFERED, "bob", None)
        assert await carol.claim("kept", "carol") == "bob"  # shown as bob's; not carol's to take
        assert await alice.claim("kept", "alice") == "bob"
        assert not await alice.release("kept")
        assert await bob.claim("kept", "bob") is None
        assert await carol.orphans() == []  # bob's console is alive, the others not stale yet

        clock.now += OFFER_SECONDS + 1  # bob's console never took "left"
        for queue, agent in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            await queue.alive(agent, 60.0)
        assert sorted(row.channel for row in await carol.orphans()) == ["hung-up", "left"]
        assert await carol.take_over("left") and not await alice.take_over("left")
        assert await carol.release("left")
        assert await carol.gone("hung-up") and not await carol.gone("kept")  # bob's is bob's to end
        states = {row.channel: row.state for row in await carol.rows()}
        assert states == {"kept": TAKEN, "left": WAITING, "hung-up": ENDED}  # it had been answered
    finally:
        for queue in (alice, bob, carol):
            await queue.close()
