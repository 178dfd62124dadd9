"""The team's database server stopped and started under running consoles: said, survived, nothing lost, nothing
twice. A server of its own (tests/postgres_server.py), durable as a team's is (fsync on), stopped with
`pg_ctl -m immediate` as a crash would.

The console side is the hub and store the app runs on, with the local backend on PostgreSQL; another
connection (another machine) writes before, and after the restart, what the console must show exactly once.
A reply the agent sent while the server was down waits in the outbox, and lands once when it is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres_server import running_postgres
from standardiste.backends.base import BackendStatus, LinkState, MessageAdded, Reply
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Channel, Customer, Direction
from standardiste.console.core.store import Store

ANN = Customer(id="c-ann", name="Ann", email="ann@example.com")


@pytest.fixture
def server() -> Iterator[Any]:
    with running_postgres(durable=True) as pg:
        pg.admin("CREATE DATABASE team")
        yield pg


@pytest.mark.timeout(120)
async def test_a_database_restart_is_said_and_loses_nothing(server: Any, tmp_path: Path) -> None:
    dsn = server.dsn("team")
    seed = Workspace(dsn)
    first = seed.create_conversation(channel=Channel.EMAIL, customer=ANN, subject="Before the restart")
    seed.add_message(first, direction=Direction.INBOUND, body="where is my parcel?")
    seed.close()

    backend = LocalBackend(dsn, agent_id="alice", catch_up_interval=0.5)
    hub, store = Hub([backend]), Store()
    seen: list[Any] = []
    await hub.start()

    async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"no {what} within {timeout} s"
            batch = hub.drain()
            seen.extend(batch)
            store.apply(batch)
            if not batch:
                await asyncio.sleep(0.05)

    def states() -> list[LinkState]:
        return [e.state for e in seen if isinstance(e, BackendStatus)]

    def subjects() -> list[str]:
        return sorted(c.subject for c in store.conversations.values())

    try:
        await until(lambda: "Before the restart" in subjects(), 15, "first snapshot")
        server.stop()
        await until(lambda: LinkState.DOWN in states(), 15, "BackendStatus down")
        down = next(e for e in seen if isinstance(e, BackendStatus) and e.state is LinkState.DOWN)
        assert "team" in down.detail or "database" in down.detail.lower()
        with pytest.raises(Exception):  # noqa: B017 - what the outbox sees: a failure it retries
            await backend.perform(Reply(conversation_id=f"local:{first}", body="On its way", key="k-restart"))

        server.start()
        other = Workspace(dsn)  # another machine writes as soon as the server is back
        try:
            second = other.create_conversation(channel=Channel.CHAT, customer=ANN, subject="After the restart")
            other.add_message(second, direction=Direction.INBOUND, body="hello again")
        finally:
            other.close()
        await until(lambda: "After the restart" in subjects(), 30, "the change made after the restart")
        # The outbox's retry of the reply, after the link is back; then again, as after a crash: applied once.
        for _ in range(2):
            await backend.perform(Reply(conversation_id=f"local:{first}", body="On its way", key="k-restart"))
        await until(
            lambda: any(isinstance(e, MessageAdded) and e.message.body == "On its way" for e in seen), 10, "reply"
        )
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            await until(lambda: True, 1, "")
            await asyncio.sleep(0.1)

        assert subjects() == ["After the restart", "Before the restart"]
        history = await backend.history(f"local:{first}")
        assert [m.body for m in history].count("On its way") == 1
        assert [m.body for m in history].count("where is my parcel?") == 1
        replies = [e for e in seen if isinstance(e, MessageAdded) and e.message.body == "On its way"]
        assert len({e.message.id for e in replies}) == 1
        assert LinkState.CONNECTED in states()[states().index(LinkState.DOWN) :]
    finally:
        await hub.close()
