"""A queue head read before the console asked (the workspace file's reader process, issue 16) is on the
console's first screen: the agent sees the queue while the backend is still connecting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app_harness import T0, make_app, row_text, seed, wait_for
from standardiste.backends.base import Snapshot
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.hub import HEAD_ROWS
from standardiste.widgets.queue_list import QueueList


class _StillConnecting(LocalBackend):
    """Its head was read ahead; it connects only once the test lets it."""

    def __init__(self, path: Path, head: Snapshot) -> None:
        super().__init__(path, agent_id="alice")
        self._head = head
        self.may_connect = asyncio.Event()

    def ready_head(self, limit: int) -> Snapshot | None:
        return self._head

    async def connect(self) -> None:
        await self.may_connect.wait()
        await super().connect()


def _head(path: Path) -> Snapshot:
    ws = Workspace(path)
    try:
        return Snapshot(conversations=ws.queue_head(HEAD_ROWS), agents=ws.agents(), me="alice")
    finally:
        ws.close()


async def test_the_first_screen_shows_the_head_before_the_backend_connects(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    head = _head(tmp_path / "workspace.db")
    backend = _StillConnecting(tmp_path / "workspace.db", head)
    app = make_app(tmp_path, clock=lambda: T0, backend=backend)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        queue = app.workspace.query_one(QueueList)
        first = head.conversations[0]
        assert queue.cursor_id == first.id
        assert first.customer_name in row_text(queue, first.id)
        assert len(app.store.conversations) == len(head.conversations)


async def test_a_conversation_opened_before_the_backend_connects_loads_once_it_does(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    head = _head(tmp_path / "workspace.db")
    backend = _StillConnecting(tmp_path / "workspace.db", head)
    app = make_app(tmp_path, clock=lambda: T0, backend=backend)
    first = head.conversations[0]
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert app.workspace.open_id == first.id
        await pilot.pause(0.3)
        assert app.workspace.transcript.messages == []  # asked, and waiting for the backend
        backend.may_connect.set()
        await wait_for(lambda: app.workspace.transcript.messages != [], pilot=pilot)
        await wait_for(lambda: first.customer_id in app.store.customers, pilot=pilot)
        assert not any(n.severity == "error" for n in app._notifications)
