"""Three agents' consoles on one phone queue of the real Asterisk (docs/asterisk.md, "A team"): each has its own
Stasis application and phone, the customers' application is held by one of them at a time, and the calls are
taken through the team's shared workspace file. Every caller rings in every console, is answered by exactly
one agent (all three racing for each call), a caller who hangs up while waiting is abandoned once, and a
console that quits, the one holding the customers' application too, leaves the others taking calls.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from asterisk_server import AsteriskServer, asterisk
from helpers.asterisk_kit import eventually, make_backend
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import Accept, Conflict, ConversationUpserted, HangUp, MessageAdded, split_id
from standardiste.backends.testing import Tail, watching
from standardiste.console.core.model import Conversation, State

pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]

AGENTS = ("alice", "bob", "carol")


def team_backend(
    server: AsteriskServer, tmp_path: Path, agent: str, *, phone: str = "", team: str = "", ring: float = 3.0
) -> AsteriskBackend:
    return make_backend(
        server,
        tmp_path / agent,
        agent=agent,
        # Every one of them answers (carol's kit phone does not), unless told otherwise.
        phone=phone or f"Local/{agent}@agent-phones",
        agent_phones=[],
        team=team or str(tmp_path / "team.sqlite"),
        ring_seconds=ring,
    )


@asynccontextmanager
async def consoles(
    server: AsteriskServer,
    tmp_path: Path,
    agents: tuple[str, ...] = AGENTS,
    *,
    phones: dict[str, str] | None = None,
    team: str = "",
    ring: float = 3.0,
) -> AsyncIterator[dict[str, tuple[AsteriskBackend, Tail]]]:
    async with AsyncExitStack() as stack:
        found: dict[str, tuple[AsteriskBackend, Tail]] = {}
        for agent in agents:
            phone = (phones or {}).get(agent, "")
            backend = team_backend(server, tmp_path, agent, phone=phone, team=team, ring=ring)
            await backend.connect()
            stack.push_async_callback(backend.close)
            found[agent] = (backend, await stack.enter_async_context(watching(backend)))
        stack.push_async_callback(asyncio.to_thread, server.hang_up_all)
        # One console holds the customers' application before any customer calls.
        await eventually(
            lambda: sum(b._queue_ari is not None for b, _ in found.values()) == 1, 5, "a queue holder"
        )
        yield found


def latest(tail: Tail) -> dict[str, Conversation]:
    seen: dict[str, Conversation] = {}
    for event in tail.events:
        if isinstance(event, ConversationUpserted):
            seen[event.conversation.id] = event.conversation
    return seen


def lines(tail: Tail, start: str) -> Counter[str]:
    return Counter(
        e.message.conversation_id
        for e in tail.events
        if isinstance(e, MessageAdded) and e.message.body.startswith(start)
    )


def call(server: AsteriskServer, n: int) -> None:
    server.call(f"+3361000{n:04d}", f"Caller {n}", "queue-sales", context="from-customer-team")


async def test_every_caller_rings_everywhere_and_is_answered_by_exactly_one_agent(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    callers = 6
    async with consoles(asterisk, tmp_path) as team:
        started = time.monotonic()
        await asyncio.gather(*(asyncio.to_thread(call, asterisk, n) for n in range(callers)))

        def ringing_everywhere() -> bool:
            return all(
                sum(c.state is State.RINGING for c in latest(tail).values()) == callers
                for _, tail in team.values()
            )

        await eventually(ringing_everywhere, 5, "six calls ringing in the three consoles")
        rang_in = time.monotonic() - started
        ids = sorted(latest(team["alice"][1]))
        assert all(sorted(latest(tail)) == ids for _, tail in team.values())  # the same ids everywhere

        # All three agents try to take every call at the same moment.
        won: dict[str, list[str]] = {agent: [] for agent in AGENTS}

        async def take(agent: str, conversation_id: str) -> None:
            backend = team[agent][0]
            try:
                await backend.perform(Accept(conversation_id=conversation_id, agent_id=agent))
            except Conflict:
                return
            won[agent].append(conversation_id)

        for conversation_id in ids:
            await asyncio.gather(*(take(agent, conversation_id) for agent in AGENTS))
        taken = [cid for agent_ids in won.values() for cid in agent_ids]
        assert sorted(taken) == ids, f"each call taken exactly once: {won}"

        # Asterisk agrees: each caller is bridged with exactly one agent's phone, of the agent who won it.
        def bridged() -> dict[str, list[str]]:
            bridges = asterisk.ari("GET", "/bridges")
            return {b["id"]: b["channels"] for b in bridges if len(b["channels"]) == 2}

        found = await eventually(lambda: len(bridged()) == callers and bridged(), 5, "six bridges")
        for conversation_id in taken:
            native = split_id(conversation_id)[1]
            members = found[f"{asterisk.app}-{native}"]
            assert native in members and sum(m.startswith(f"{native}-agent") for m in members) == 1
        apps = {a["name"]: a for a in asterisk.ari("GET", "/applications")}
        for agent in AGENTS:
            assert {split_id(c)[1] for c in won[agent]} <= set(apps[f"{asterisk.app}-{agent}"]["channel_ids"])

        # Each console: one "answered by" per call it took, and the calls of the others shown as theirs.
        for agent, (_, tail) in team.items():
            assert set(lines(tail, "answered by")) == set(won[agent])
            shown = latest(tail)
            for other, other_ids in won.items():
                for conversation_id in other_ids:
                    assert shown[conversation_id].assignee == other

        for agent, agent_ids in won.items():
            for conversation_id in agent_ids:
                await team[agent][0].perform(HangUp(conversation_id=conversation_id, agent_id=agent))

        def ended_everywhere() -> bool:
            return all(
                all(c.state in (State.WRAP_UP, State.ENDED) for c in latest(tail).values())
                for _, tail in team.values()
            )

        await eventually(ended_everywhere, 5, "the calls ended in every console")
        for agent, (_, tail) in team.items():
            shown = latest(tail)
            assert {cid for cid, c in shown.items() if c.state is State.WRAP_UP} == set(won[agent])
        print(
            f"\n{callers} calls rang in 3 consoles in {rang_in:.2f} s; taken {Counter(map(len, won.values()))}"
        )


async def test_an_abandoned_call_is_missed_once_and_a_console_that_quits_leaves_the_others_working(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    async with consoles(asterisk, tmp_path) as team:
        caller = await asyncio.to_thread(
            asterisk.call, "+33610009001", "Gone Soon", "queue-sales", context="from-customer-team"
        )
        await eventually(lambda: all(len(latest(t)) == 1 for _, t in team.values()), 5, "the call everywhere")
        await asyncio.to_thread(asterisk.ari, "DELETE", f"/channels/{caller['id']}")

        def missed_everywhere() -> bool:
            return all([c.state for c in latest(t).values()] == [State.ABANDONED] for _, t in team.values())

        await eventually(missed_everywhere, 5, "the missed call in every console")
        await asyncio.sleep(0.5)  # a second abandon would come within a poll or two
        for _, tail in team.values():
            assert list(lines(tail, "missed call").values()) == [1]
        team_db = team["alice"][0].team
        assert team_db is not None
        rows = await team_db.rows()
        assert [r.state for r in rows] == ["abandoned"]

        # The console holding the customers' application quits while a caller waits; another takes it
        # over, that caller's hang-up is still seen, and calls go on.
        waiting = await asyncio.to_thread(
            asterisk.call, "+33610009003", "Waits Through", "queue-sales", context="from-customer-team"
        )
        await eventually(lambda: all(len(latest(t)) == 2 for _, t in team.values()), 5, "the waiting call")
        holder = next(agent for agent, (b, _) in team.items() if b._queue_ari is not None)
        await team[holder][0].close()
        rest = {agent: team[agent] for agent in AGENTS if agent != holder}
        quit_at = time.monotonic()
        await asyncio.to_thread(
            asterisk.call, "+33610009002", "After The Quit", "queue-sales", context="from-customer-team"
        )

        def ringing(tail: Tail) -> list[str]:
            return [cid for cid, c in latest(tail).items() if c.state is State.RINGING]

        await eventually(lambda: all(len(ringing(t)) == 2 for _, t in rest.values()), 8, "the next call")
        handed_on = time.monotonic() - quit_at
        assert sum(b._queue_ari is not None for b, _ in rest.values()) == 1
        await asyncio.to_thread(asterisk.ari, "DELETE", f"/channels/{waiting['id']}")
        await eventually(
            lambda: all(
                Counter(c.state for c in latest(t).values())[State.ABANDONED] == 2 for _, t in rest.values()
            ),
            5,
            "the caller who waited through the hand-over missed",
        )
        conversation_id = next(
            cid
            for cid, c in latest(next(iter(rest.values()))[1]).items()
            if c.customer_name == "After The Quit"
        )
        results = await asyncio.gather(
            *(
                backend.perform(Accept(conversation_id=conversation_id, agent_id=agent))
                for agent, (backend, _) in rest.items()
            ),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["CommandResult", "Conflict"], results
        print(f"\nthe queue was handed on and the next call rang {handed_on:.2f} s after the holder quit")


async def test_calls_placed_while_the_holder_is_dead_ring_when_another_takes_the_queue(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    async with consoles(asterisk, tmp_path, ("alice", "bob")) as team:
        holder, (dead, _) = next((a, bt) for a, bt in team.items() if bt[0]._queue_ari is not None)
        alive_agent, (alive, tail) = next((a, bt) for a, bt in team.items() if a != holder)
        # It dies without a word: no more polls, its websocket for the customers' application gone, the
        # lease not given up (it lapses).
        assert dead._team_task is not None and dead._queue_ari is not None
        dead._team_task.cancel()
        await dead._queue_ari.close()
        died = time.monotonic()
        await asyncio.to_thread(
            asterisk.call, "+33610009004", "During The Gap", "queue-sales", context="from-customer-team"
        )
        await eventually(
            lambda: (
                [c.customer_name for c in latest(tail).values() if c.state is State.RINGING]
                == ["During The Gap"]
            ),
            8,
            "the call placed during the gap",
        )
        rang_after = time.monotonic() - died
        assert alive._queue_ari is not None
        conversation_id = next(iter(latest(tail)))
        result = await alive.perform(Accept(conversation_id=conversation_id, agent_id=alive_agent))
        assert result.ok
        print(f"\nthe holder died; the call placed meanwhile rang {rang_after:.2f} s later (lease: 2 s)")
