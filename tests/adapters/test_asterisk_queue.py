"""Fifty customers call at once: the console's queue holds them all in order, and agents taking calls by the
console's routing rules (console/core/routing.py: language, skills, capacity, wrap-up) over the store the
events build are each given one call at a time, and each call goes to exactly one agent."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from asterisk_server import AsteriskServer, asterisk
from helpers.asterisk_kit import make_backend
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import Accept, Conflict, ConversationUpserted, HangUp, MessageAdded, WrapUp
from standardiste.backends.testing import Tail, watching
from standardiste.console.core.model import Agent, Channel, Presence, Skills, State
from standardiste.console.core.routing import Load, RoutingRules, best_for
from standardiste.console.core.store import Store

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]

CALLERS = 50
AGENTS = (
    Agent("alice", "Alice", Skills({Channel.PHONE: 2}, ("en", "fr")), Presence.AVAILABLE),
    Agent("bob", "Bob", Skills({Channel.PHONE: 2}, ("en", "de")), Presence.AVAILABLE),
    Agent("erin", "Erin", Skills({Channel.PHONE: 1}, ("en",)), Presence.AVAILABLE),
    Agent("fred", "Fred", Skills({Channel.PHONE: 1}, ("fr", "de")), Presence.AVAILABLE),
)
PHONES = [f"{a.id}=Local/{a.id}@agent-phones" for a in AGENTS if a.id != "alice"]


def caller(n: int) -> tuple[str, str, str]:
    """Name, number and queue argument of the n-th caller: a third French numbers, a third the German
    support queue, the rest English."""
    if n % 3 == 0:
        return f"Caller {n:02d} fr", f"+331000000{n:02d}", "queue-sales"
    if n % 3 == 1:
        return f"Caller {n:02d} de", f"+441000000{n:02d}", "queue-support"
    return f"Caller {n:02d} en", f"+441000000{n:02d}", "queue-sales"


async def test_fifty_callers_queue_and_are_routed_without_a_double_assignment(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    backend: AsteriskBackend = make_backend(asterisk, tmp_path / "data", agent_phones=PHONES)
    await backend.connect()
    store, rules = Store(), RoutingRules()
    try:
        async with watching(backend) as tail:
            started = time.monotonic()
            await asyncio.gather(
                *(
                    asyncio.to_thread(asterisk.call, number, name, arg)
                    for name, number, arg in map(caller, range(CALLERS))
                )
            )
            await tail.wait_for(
                lambda: (
                    len({e.conversation.id for e in tail.events if isinstance(e, ConversationUpserted)})
                    >= CALLERS
                ),
                20,
                "fifty ringing calls",
            )
            queued_in = time.monotonic() - started
            store.apply(tail.events)
            waiting = [c for c in store.conversations.values() if c.state is State.RINGING]
            assert len(waiting) == CALLERS
            languages = Counter(c.language for c in waiting)
            assert languages == {"fr": 17, "de": 17, "en": 16}

            served: dict[str, list[str]] = {a.id: [] for a in AGENTS}
            in_hand: dict[str, int] = Counter()
            most_at_once: dict[str, int] = Counter()
            seen = len(tail.events)

            def refresh() -> None:
                nonlocal seen
                store.apply(tail.events[seen:])
                seen = len(tail.events)

            async def work(agent: Agent) -> None:
                """Take the best call the rules give this agent, talk, hang up, wrap up; until none is left."""
                while True:
                    refresh()
                    load = Load.of(store.conversations.values(), agent.id)
                    best = best_for(agent, store.conversations.values(), load, time.time(), rules, limit=3)
                    if not best:
                        if not any(c.is_waiting for c in store.conversations.values()):
                            return
                        await asyncio.sleep(0.05)
                        continue
                    try:
                        await backend.perform(Accept(conversation_id=best[0].id, agent_id=agent.id))
                    except Conflict:
                        # Another agent was faster; the store learns it from the events, which come while
                        # this agent waits a moment (a refusal is decided without awaiting anything).
                        await asyncio.sleep(0.02)
                        continue
                    in_hand[agent.id] += 1
                    most_at_once[agent.id] = max(most_at_once[agent.id], in_hand[agent.id])
                    served[agent.id].append(best[0].id)
                    await asyncio.sleep(0.05)  # a very short conversation
                    await backend.perform(HangUp(conversation_id=best[0].id, agent_id=agent.id))
                    await tail.wait_for(
                        lambda cid=best[0].id: store_state(tail, cid) is State.WRAP_UP,
                        5,
                        f"{best[0].id} hung up",
                    )
                    in_hand[agent.id] -= 1
                    await backend.perform(
                        WrapUp(conversation_id=best[0].id, agent_id=agent.id, disposition="resolved")
                    )
                    await tail.wait_for(
                        lambda cid=best[0].id: store_state(tail, cid) is State.ENDED, 5, "wrapped up"
                    )

            routed = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*(work(a) for a in AGENTS)), 90)
            routed_in = time.monotonic() - routed
        refresh()
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)

    every = [cid for ids in served.values() for cid in ids]
    assert len(every) == len(set(every)) == CALLERS, "a call served twice, or one never"
    assert all(n == 1 for n in most_at_once.values()), f"an agent held two calls at once: {most_at_once}"
    by_agent = {a.id: a for a in AGENTS}
    for agent_id, ids in served.items():
        for cid in ids:
            conversation = store.conversations[cid]
            assert conversation.assignee == agent_id and conversation.state is State.ENDED
            assert conversation.language in by_agent[agent_id].skills.languages, (
                agent_id,
                conversation.language,
            )
    # Each call was answered once: one "answered by" line, by the agent it was given to.
    answered = Counter(
        e.message.conversation_id
        for e in tail.events
        if isinstance(e, MessageAdded) and e.message.body.startswith("answered by")
    )
    assert set(answered.values()) == {1} and len(answered) == CALLERS
    print(f"\n50 callers queued in {queued_in:.2f} s, routed and served by 4 agents in {routed_in:.2f} s")


def store_state(tail: Tail, conversation_id: str) -> State | None:
    found = [
        e.conversation
        for e in tail.events
        if isinstance(e, ConversationUpserted) and e.conversation.id == conversation_id
    ]
    return found[-1].state if found else None
