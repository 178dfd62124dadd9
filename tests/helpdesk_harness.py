"""What the help-desk tests (Chatwoot, Zendesk) share, whatever the fake: a fake running for one test and
checked for requests outside its API document when it stops, an adapter connected for one test, the events
read in the background as the hub reads them, a hub read into a store, a keyring in memory for
`standardiste login`, and the workspace opened from its config file as the console opens it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from standardiste.backends.base import Backend, BackendContext, ConversationUpserted, Event, MessageAdded
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Channel, Conversation
from standardiste.console.core.secrets import login_command, secret_for
from standardiste.console.core.store import Store
from standardiste.console.core.workspaces import open_workspace


class Fake(Protocol):
    """What every fake help desk of the tests offers."""

    token: str
    seen: list[Any]

    @property
    def violations(self) -> list[Any]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


FakeT = TypeVar("FakeT", bound=Fake)
BackendT = TypeVar("BackendT", bound=Backend)


@contextlib.asynccontextmanager
async def running(fake: FakeT, outside: str) -> AsyncIterator[FakeT]:
    """The fake serving for the `with` block; afterwards no request (`outside` says of what) may have been
    outside its API document, so that a wrong request fails the test that made it."""
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.violations == [], outside


@contextlib.asynccontextmanager
async def away(fake: Any) -> AsyncIterator[None]:
    """The whole fake server gone for the `with` block, back on the same port after it."""
    await fake.set_down(True)
    try:
        yield
    finally:
        await fake.set_down(False)


@contextlib.asynccontextmanager
async def connected(backend: BackendT) -> AsyncIterator[BackendT]:
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def context_for(fake: Fake, data_dir: Path) -> BackendContext:
    """The context the console gives an adapter, with the fake's token as the stored secret."""
    return BackendContext(agent_id="ann", data_dir=data_dir, secret=lambda _name: fake.token)


class Traffic:
    """Customers writing in, for the contract kit: each help desk's harness says how a conversation starts."""

    channels: Sequence[Channel] = ()

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        await self.fake.customer_writes(int(conversation.id.partition(":")[2]), f"Again {token}")


def calls(fake: Fake, method: str, ending: str) -> list[Any]:
    """The requests the fake received with this method on a path ending so."""
    return [s for s in fake.seen if s.method == method and s.path.endswith(ending)]


class Events:
    """`backend.events()` read in the background, as the hub reads it."""

    # How often `wait` looks (a polling adapter's events come less often: it may look less often too).
    step: ClassVar[float] = 0.01

    def __init__(self, backend: Backend) -> None:
        self.seen: list[Event] = []
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._run(backend))

    async def _run(self, backend: Backend) -> None:
        try:
            async for batch in backend.events():
                self.seen.extend(batch)
        except Exception as error:
            self.error = error

    async def wait(self, predicate: Callable[[], Any], timeout: float = 5.0) -> float:
        start = time.monotonic()
        while not predicate():
            assert self.error is None, repr(self.error)
            assert time.monotonic() - start < timeout, f"not within {timeout} s: {self.seen[-10:]}"
            await asyncio.sleep(self.step)
        return time.monotonic() - start

    def messages(self, text: str) -> list[MessageAdded]:
        return [e for e in self.seen if isinstance(e, MessageAdded) and e.message.body == text]

    def last(self, cid: str) -> Any:
        """The conversation as the last event about it said, None before any."""
        found = [e.conversation for e in self.seen if isinstance(e, ConversationUpserted) and e.conversation.id == cid]
        return found[-1] if found else None

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


EventsT = TypeVar("EventsT", bound=Events)


@contextlib.asynccontextmanager
async def following(backend: Backend, kind: type[EventsT]) -> AsyncIterator[EventsT]:
    """The events after a first snapshot (read as `kind`), for the `with` block."""
    await backend.snapshot()
    events = kind(backend)
    try:
        yield events
    finally:
        await events.stop()


class HubReader:
    """A started hub read into a store, as the console reads it; every event kept in `seen`."""

    def __init__(self, hub: Hub, store: Store) -> None:
        self.hub, self.store = hub, store
        self.seen: list[Event] = []

    async def until(self, predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"no {what} within {timeout} s"
            batch = self.hub.drain()
            self.seen.extend(batch)
            self.store.apply(batch)
            if not batch:
                await asyncio.sleep(0.05)

    def subjects(self) -> set[str]:
        return {c.subject for c in self.store.conversations.values()}


@contextlib.asynccontextmanager
async def hub_of(*backends: Backend) -> AsyncIterator[HubReader]:
    """A hub over these backends, started for the `with` block and read into a fresh store."""
    hub = Hub(list(backends))
    await hub.start()
    try:
        yield HubReader(hub, Store())
    finally:
        await hub.close()


class MemoryKeyring(KeyringBackend):
    """A keyring service for machines (this one, CI) that have none."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@contextlib.contextmanager
def memory_keyring(monkeypatch: pytest.MonkeyPatch, workspace: str) -> Iterator[MemoryKeyring]:
    """A keyring in memory for the `with` block, and no environment variable holding the workspace's
    secret (which the lookup would take first)."""
    monkeypatch.delenv(f"STANDARDISTE_SECRET_{workspace.upper()}", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def login(workspace: str, token: str, config: Path) -> tuple[int, str, str]:
    """`standardiste login WORKSPACE` given the token on its standard input: the exit code, out and err."""
    out, err = io.StringIO(), io.StringIO()
    code = login_command(
        workspace, stdin_secret=True, stdin=io.StringIO(token + "\n"), stdout=out, stderr=err, config_path=config
    )
    return code, out.getvalue(), err.getvalue()


def table_of(config: Path, workspace: str) -> dict[str, Any]:
    return tomllib.loads(config.read_text())["workspaces"][workspace]


def open_configured(config: Path, workspace: str, data_dir: Path) -> tuple[Backend, list[str]]:
    """The workspace built as the console builds it: its table, the secret from the keyring."""
    context = BackendContext(agent_id="ann", data_dir=data_dir, secret=secret_for)
    backend, warnings = open_workspace(workspace, table_of(config, workspace), context, config)
    return backend, warnings


__all__ = [
    "Events",
    "HubReader",
    "MemoryKeyring",
    "Traffic",
    "away",
    "calls",
    "connected",
    "context_for",
    "following",
    "hub_of",
    "login",
    "memory_keyring",
    "open_configured",
    "running",
    "table_of",
]
