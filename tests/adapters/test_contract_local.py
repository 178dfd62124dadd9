"""The contract kit (backends/testing.py) on the local workspace: a real SQLite file in tmp_path, with the
customers' traffic written by another `Workspace` connection on the same file, as another process writes it."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from standardiste.backends.base import Backend, Capabilities, Command, CommandResult, Event, Snapshot
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.backends.testing import BackendContract
from standardiste.console.core.model import Channel, Conversation, Customer, Direction, Message

POLL = 0.05  # the change log is read this often: the kit waits for events, a short poll keeps it quick


class WorkspaceTraffic:
    """Customers on the workspace file, through a connection of their own."""

    channels: Sequence[Channel] = tuple(Channel)

    def __init__(self, path: Path) -> None:
        self.ws = Workspace(path)

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        who = Customer(
            id=f"c-{customer}",
            name=customer.title(),
            email=f"{customer}@customer.test",
            phone="+33 1 23 45 67 89",
        )
        row = self.ws.create_conversation(
            channel=channel,
            customer=who,
            subject=f"Contract {token}",
            callback_number=who.phone if channel is Channel.CALLBACK else "",
        )
        self.ws.add_message(row, direction=Direction.INBOUND, body=f"Hello {token}", author=who.name)

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        self.ws.add_message(
            conversation.id,
            direction=Direction.INBOUND,
            body=f"Again {token}",
            author=conversation.customer_name,
        )


class TestLocalContract(BackendContract):
    @pytest.fixture
    async def backend(self, tmp_path: Path) -> AsyncIterator[LocalBackend]:
        backend = LocalBackend(tmp_path / "workspace.db", agent_id="alice", poll_interval=POLL)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()

    @pytest.fixture
    def traffic(self, backend: LocalBackend) -> Iterator[WorkspaceTraffic]:
        traffic = WorkspaceTraffic(backend.path)
        try:
            yield traffic
        finally:
            traffic.ws.close()

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        """The file fails under this console (a disk I/O error on every read of the change log), while the
        other connection, another process, keeps writing."""
        assert isinstance(backend, LocalBackend)

        def failing(*args: Any, **kwargs: Any) -> Any:
            raise sqlite3.OperationalError("disk I/O error")

        backend._read_changes = failing  # type: ignore[method-assign]
        try:
            yield
        finally:
            del backend._read_changes

    async def reopen(self, backend: Backend) -> Backend:
        assert isinstance(backend, LocalBackend)
        return LocalBackend(backend.path, agent_id=backend.agent_id, poll_interval=POLL)


def test_an_adapter_without_from_config_cannot_be_built() -> None:
    """`from_config` is part of the contract (the console builds every adapter from its table): a class that
    leaves it out is refused when instantiated, not when a user's config first names it."""

    class Incomplete(Backend):
        name = "incomplete"
        capabilities = Capabilities(channels=frozenset({Channel.CHAT}), commands=frozenset())

        async def connect(self) -> None: ...
        async def close(self) -> None: ...
        async def snapshot(self) -> Snapshot:
            return Snapshot()

        async def events(self) -> AsyncIterator[Sequence[Event]]:
            yield []

        async def history(self, conversation_id: str) -> list[Message]:
            return []

        async def perform(self, command: Command) -> CommandResult:
            return CommandResult()

    with pytest.raises(TypeError, match="from_config"):
        Incomplete()  # type: ignore[abstract]
