"""Cross-process visibility: a write by another real process reaches a `LocalBackend`'s events within 1 s.

The child (tests/helpers/writer.py) opens the same workspace file and writes; it reports the wall-clock
time just after each commit. The test process tails `LocalBackend.events()` and notes when each event
arrives. Both use `time.time()` on one machine, so the difference is the delay a console would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from standardiste.backends.base import (
    AgentUpdated,
    ConversationUpserted,
    Event,
    MessageAdded,
    Reply,
)
from standardiste.backends.local import LocalBackend
from standardiste.console.core.model import Channel, Direction, Presence, State

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
ROUNDS = 5
MAX_DELAY = 1.0
WAIT_TIMEOUT = 10.0


class Child:
    """The writer process, spoken to one JSON line at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        await self.process.stdin.drain()

    async def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), WAIT_TIMEOUT)
        if not line:
            assert self.process.stderr is not None
            raise AssertionError(f"writer died: {(await self.process.stderr.read()).decode()}")
        return json.loads(line)

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        await self.send(request)
        return await self.read()


class Tail:
    """Every event of a backend with the time its batch arrived."""

    def __init__(self, backend: LocalBackend) -> None:
        self.queue: asyncio.Queue[tuple[float, Event]] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(backend))

    async def _run(self, backend: LocalBackend) -> None:
        async for batch in backend.events():
            arrived = time.time()
            for event in batch:
                self.queue.put_nowait((arrived, event))

    async def wait_for(self, match: Callable[[Event], bool]) -> tuple[float, Event]:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the event never arrived")
            arrived, event = await asyncio.wait_for(self.queue.get(), remaining)
            if match(event):
                return arrived, event


@pytest.fixture
async def backend(workspace_path: Path) -> AsyncIterator[LocalBackend]:
    # A fast poll would hide a slow feed; this is the interval the console really uses.
    backend = LocalBackend(workspace_path, agent_id="watcher")
    await backend.connect()
    await backend.snapshot()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def child(workspace_path: Path, backend: LocalBackend) -> AsyncIterator[Child]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HELPERS / "writer.py"),
        str(workspace_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    writer = Child(process)
    try:
        assert await writer.read() == {"ready": True}
        yield writer
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.mark.timeout(60)
async def test_writes_by_another_process_arrive_within_a_second(backend: LocalBackend, child: Child) -> None:
    tail = Tail(backend)
    delays: dict[str, list[float]] = {"create": [], "message": [], "presence": []}
    try:
        for n in range(ROUNDS):
            subject = f"cross {n}"
            created = await child.ask({"op": "create", "channel": "chat", "subject": subject})
            arrived, event = await tail.wait_for(
                lambda e, wanted=created["id"]: (
                    isinstance(e, ConversationUpserted) and e.conversation.id == wanted
                )
            )
            assert isinstance(event, ConversationUpserted)
            assert event.conversation.subject == subject
            assert event.conversation.channel is Channel.CHAT
            assert event.conversation.state is State.WAITING
            delays["create"].append(arrived - created["at"])

            body = f"hello from the other process {n}"
            added = await child.ask({"op": "message", "id": created["id"], "body": body})
            arrived, event = await tail.wait_for(
                lambda e, wanted=added["message_id"]: isinstance(e, MessageAdded) and e.message.id == wanted
            )
            assert isinstance(event, MessageAdded)
            assert event.message.body == body
            assert event.message.conversation_id == created["id"]
            assert event.message.direction is Direction.INBOUND
            delays["message"].append(arrived - added["at"])

            presence = (Presence.AWAY, Presence.AVAILABLE)[n % 2]
            changed = await child.ask({"op": "presence", "agent": "remote", "presence": presence.value})
            arrived, event = await tail.wait_for(
                lambda e, p=presence: (
                    isinstance(e, AgentUpdated) and e.agent.id == "remote" and e.agent.presence is p
                )
            )
            delays["presence"].append(arrived - changed["at"])
    finally:
        tail.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tail.task

    for kind, measured in delays.items():
        assert len(measured) == ROUNDS
        # Negative would mean the event came before the write: the clocks or the test are wrong.
        assert all(d >= 0 for d in measured), (kind, measured)
        assert max(measured) < MAX_DELAY, (kind, measured)
    everything = [d for measured in delays.values() for d in measured]
    print(
        f"\ncross-process delay over {len(everything)} writes: median {statistics.median(everything) * 1000:.0f} ms, "
        f"max {max(everything) * 1000:.0f} ms"
    )


@pytest.mark.timeout(60)
async def test_a_reply_performed_here_is_seen_by_the_other_process_within_a_second(
    backend: LocalBackend, child: Child
) -> None:
    delays = []
    for n in range(ROUNDS):
        created = await child.ask({"op": "create", "channel": "chat", "subject": f"reverse {n}"})
        body = f"reply {n} from the console"
        await child.send({"op": "watch", "id": created["id"], "body": body, "timeout": WAIT_TIMEOUT})
        assert await child.read() == {"watching": True}
        result = await backend.perform(Reply(conversation_id=created["id"], body=body))
        written = time.time()
        assert result.message is not None and result.message.body == body
        seen = await child.read()
        assert seen["seen_at"] is not None, "the other process never saw the reply"
        delays.append(seen["seen_at"] - written)
    # The watcher polls every 10 ms; the bound is the contract, the figure is printed.
    assert max(delays) < MAX_DELAY, delays
    print(f"\nreverse delay: max {max(delays) * 1000:.0f} ms")
