"""Restarts, driven through the console's real hub: Asterisk stopped and started mid-call, the link between
the console and Asterisk broken mid-call, and the console itself restarted mid-call. Each time the console
says so, rebuilds from GET /channels and /bridges, and holds each call once, in the state it really is in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asterisk_server import AsteriskServer, asterisk
from helpers.asterisk_kit import LinkCutter, PhoneTraffic, bridge_members, make_backend, number_of
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import (
    Accept,
    BackendStatus,
    Event,
    HangUp,
    Hold,
    LinkState,
    MessageAdded,
    WrapUp,
)
from standardiste.backends.testing import watching
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Conversation, State
from standardiste.console.core.store import Store

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]


class Console:
    """A hub and a store, as the app runs them."""

    def __init__(self, backend: AsteriskBackend) -> None:
        self.backend = backend
        self.hub = Hub([backend])
        self.store = Store()
        self.seen: list[Event] = []

    async def until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := predicate()):
            assert time.monotonic() < deadline, f"no {what} within {timeout} s"
            batch = self.hub.drain()
            self.seen.extend(batch)
            self.store.apply(batch)
            if not batch:
                await asyncio.sleep(0.05)
        return found

    def status(self, state: LinkState) -> list[BackendStatus]:
        return [e for e in self.seen if isinstance(e, BackendStatus) and e.state is state]

    def named(self, name: str) -> list[Conversation]:
        return [c for c in self.store.conversations.values() if name in c.customer_name]

    def one(self, name: str, *states: State) -> Conversation | None:
        found = self.named(name)
        assert len(found) <= 1, f"{name} is {len(found)} conversations"
        return found[0] if found and found[0].state in states else None


async def call(asterisk: AsteriskServer, name: str) -> None:
    await asyncio.to_thread(asterisk.call, number_of(name), name)


async def test_asterisk_stopped_and_started_mid_call_is_said_and_resumed_without_duplicates(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    backend = make_backend(asterisk, tmp_path / "data")
    console = Console(backend)
    await console.hub.start()
    try:
        await console.until(lambda: console.status(LinkState.CONNECTED), 10, "connection")
        await call(asterisk, "Talking Tom")
        await call(asterisk, "Waiting Wendy")
        talking = await console.until(lambda: console.one("Talking Tom", State.RINGING), 5, "Tom ringing")
        await console.until(lambda: console.one("Waiting Wendy", State.RINGING), 5, "Wendy ringing")
        await backend.perform(Accept(conversation_id=talking.id))
        await console.until(lambda: console.one("Talking Tom", State.CONNECTED), 5, "Tom connected")

        await asyncio.to_thread(asterisk.stop)
        down = await console.until(
            lambda: console.status(LinkState.DOWN), 10, "the console saying it is down"
        )
        assert "Asterisk" in down[-1].detail and asterisk.password not in down[-1].detail
        await asyncio.sleep(1.5)  # a reconnect or two fails meanwhile
        asterisk.start()  # from the main thread (tests/asterisk_server.py: so that it dies with the tests)
        connected = len(console.status(LinkState.CONNECTED))
        await console.until(lambda: len(console.status(LinkState.CONNECTED)) > connected, 35, "reconnection")

        # The restart ended both calls: the talking one waits for its wrap-up, the waiting one is missed.
        tom = await console.until(lambda: console.one("Talking Tom", State.WRAP_UP), 5, "Tom in wrap-up")
        await console.until(lambda: console.one("Waiting Wendy", State.ABANDONED), 5, "Wendy missed")
        assert tom.assignee == "alice"
        await backend.perform(WrapUp(conversation_id=tom.id, disposition="resolved"))
        await console.until(lambda: console.one("Talking Tom", State.ENDED), 5, "Tom wrapped up")

        # And the console works on: a new call rings and is taken.
        await call(asterisk, "After Anna")
        anna = await console.until(lambda: console.one("After Anna", State.RINGING), 5, "Anna ringing")
        await backend.perform(Accept(conversation_id=anna.id))
        await console.until(lambda: console.one("After Anna", State.CONNECTED), 5, "Anna connected")
        for name in ("Talking Tom", "Waiting Wendy", "After Anna"):
            assert len(console.named(name)) == 1
        announced = [e.message.id for e in console.seen if isinstance(e, MessageAdded)]
        assert len(announced) == len(set(announced)), "a message announced twice"
    finally:
        await console.hub.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_a_broken_link_mid_call_leaves_the_call_connected_and_what_came_meanwhile_arrives_once(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    link = await LinkCutter(asterisk.http_port).start()
    backend = make_backend(asterisk, tmp_path / "data", url=link.url)
    console = Console(backend)
    traffic = PhoneTraffic(asterisk)
    await console.hub.start()
    try:
        await console.until(lambda: console.status(LinkState.CONNECTED), 10, "connection")
        await call(asterisk, "Held Hannah")
        hannah = await console.until(lambda: console.one("Held Hannah", State.RINGING), 5, "Hannah ringing")
        await backend.perform(Accept(conversation_id=hannah.id))
        await console.until(lambda: console.one("Held Hannah", State.CONNECTED), 5, "Hannah connected")
        await backend.perform(Hold(conversation_id=hannah.id))
        await console.until(lambda: console.one("Held Hannah", State.ON_HOLD), 5, "Hannah on hold")

        link.cut()
        await console.until(lambda: console.status(LinkState.DOWN), 10, "down")
        await call(asterisk, "Meanwhile Max")  # customers still call while this console is cut off
        native = hannah.id.partition(":")[2]
        await asyncio.to_thread(traffic.says, native, "are you still there?")
        link.mend()

        max_ = await console.until(
            lambda: console.one("Meanwhile Max", State.RINGING), 30, "Max after the cut"
        )
        held = await console.until(
            lambda: console.one("Held Hannah", State.ON_HOLD), 5, "Hannah still on hold"
        )
        assert held.assignee == "alice"
        said = [e for e in console.seen if isinstance(e, MessageAdded) and "still there" in e.message.body]
        await console.until(
            lambda: [
                e for e in console.seen if isinstance(e, MessageAdded) and "still there" in e.message.body
            ],
            5,
            "what Hannah said while cut off",
        )
        await asyncio.sleep(0.5)
        said = [e for e in console.seen if isinstance(e, MessageAdded) and "still there" in e.message.body]
        assert len(said) == 1
        await backend.perform(HangUp(conversation_id=held.id))
        await console.until(lambda: console.one("Held Hannah", State.WRAP_UP), 5, "Hannah hung up")
        await backend.perform(Accept(conversation_id=max_.id))
        await console.until(lambda: console.one("Meanwhile Max", State.CONNECTED), 5, "Max connected")
    finally:
        await console.hub.close()
        await link.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_a_console_restarted_mid_call_finds_the_call_connected_and_can_hold_it(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    first = make_backend(asterisk, tmp_path / "data")
    await first.connect()
    try:
        async with watching(first) as tail:
            await call(asterisk, "Restart Rita")
            rita = await tail.arrival("Restart Rita", 5)
            await first.perform(Accept(conversation_id=rita.id))
    finally:
        await first.close()

    again = make_backend(asterisk, tmp_path / "data")
    await again.connect()
    try:
        snapshot = await again.snapshot()
        found = [c for c in snapshot.conversations if c.id == rita.id]
        assert len(found) == 1 and found[0].state is State.CONNECTED and found[0].assignee == "alice"
        native = rita.id.partition(":")[2]
        async with watching(again) as tail:
            await again.perform(Hold(conversation_id=rita.id))
            await tail.wait_for(
                lambda: any(
                    getattr(e, "conversation", None) and e.conversation.state is State.ON_HOLD
                    for e in tail.events
                ),  # type: ignore[attr-defined]
                5,
                "on hold",
            )
        assert await asyncio.to_thread(bridge_members, asterisk, f"{asterisk.app}-{native}") == [
            f"{native}-agent1"
        ]
    finally:
        await again.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_a_phone_that_stopped_ringing_while_the_console_was_away_frees_the_call(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    first = make_backend(asterisk, tmp_path / "data", agent="carol", ring_seconds=1.0)  # never answers
    await first.connect()
    try:
        async with watching(first) as tail:
            await call(asterisk, "Ringing Rosa")
            rosa = await tail.arrival("Ringing Rosa", 5)
            accepting = asyncio.create_task(first.perform(Accept(conversation_id=rosa.id)))
            await tail.wait_for(
                lambda: any(
                    getattr(e, "conversation", None) and e.conversation.assignee == "carol"
                    for e in tail.events
                ),  # type: ignore[attr-defined]
                5,
                "carol's phone ringing",
            )
            accepting.cancel()
    finally:
        await first.close()  # the console goes away while carol's phone rings
    await asyncio.sleep(2.5)  # the phone's ring time runs out meanwhile

    again = make_backend(asterisk, tmp_path / "data")
    await again.connect()
    try:
        found = [c for c in (await again.snapshot()).conversations if c.id == rosa.id]
        assert len(found) == 1 and found[0].state is State.RINGING and found[0].assignee is None
        async with watching(again) as tail:
            await again.perform(Accept(conversation_id=rosa.id))
            await tail.wait_for(
                lambda: any(
                    getattr(e, "conversation", None) and e.conversation.state is State.CONNECTED
                    for e in tail.events
                ),  # type: ignore[attr-defined]
                5,
                "Rosa connected to alice",
            )
    finally:
        await again.close()
        await asyncio.to_thread(asterisk.hang_up_all)
