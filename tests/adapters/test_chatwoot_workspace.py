"""A Chatwoot workspace as the console builds it: its [workspaces.NAME] table, its token stored by
`standardiste login NAME`, and a console that combines it with the local workspace's phone and keeps working
on the local one while Chatwoot is down."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_harness import make_backend
from keyring.backend import KeyringBackend
from standardiste.backends.base import BackendContext, BackendStatus, Event, LinkState
from standardiste.console.core.config import ConfigError
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Channel, Customer
from standardiste.console.core.secrets import SERVICE, login_command, secret_for
from standardiste.console.core.store import Store
from standardiste.console.core.workspaces import open_workspace


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


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("STANDARDISTE_SECRET_CHAT", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
async def fake() -> AsyncIterator[FakeChatwoot]:
    fake = FakeChatwoot(ping_every=0.5)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.violations == []


def config_file(tmp_path: Path, fake: FakeChatwoot, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[workspaces.chat]\nbackend = "chatwoot"\nurl = "{fake.base_url}"\naccount = {fake.account}\n'
        f'agent = "ann@example.test"\n{extra}',
        encoding="utf-8",
    )
    return path


async def test_login_stores_the_token_and_the_workspace_connects_with_it(
    fake: FakeChatwoot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = config_file(tmp_path, fake)
    out, err = io.StringIO(), io.StringIO()
    code = login_command("chat", stdin_secret=True, stdin=io.StringIO(fake.token + "\n"), stdout=out,
                         stderr=err, config_path=path)
    assert code == 0, err.getvalue()
    assert memory_keyring.store[(SERVICE, "chat")] == fake.token
    assert fake.token not in out.getvalue() + err.getvalue()

    import tomllib

    table = tomllib.loads(path.read_text())["workspaces"]["chat"]
    context = BackendContext(agent_id="ann", data_dir=tmp_path / "data", secret=secret_for)
    backend, warnings = open_workspace("chat", table, context, path)
    assert warnings == []
    await backend.connect()
    try:
        fake.add_conversation("email", "Logged in", "hello", broadcast=False)
        snapshot = await backend.snapshot()
        assert [c.subject for c in snapshot.conversations] == ["Logged in"] and snapshot.me == "ann@example.test"
    finally:
        await backend.close()


async def test_a_token_in_the_config_file_is_refused_with_the_login_to_run(fake: FakeChatwoot, tmp_path: Path) -> None:
    path = config_file(tmp_path, fake, 'token = "abc123secret"\n')
    import tomllib

    table = tomllib.loads(path.read_text())["workspaces"]["chat"]
    context = BackendContext(agent_id="ann", data_dir=tmp_path, secret=secret_for)
    with pytest.raises(ConfigError) as caught:
        open_workspace("chat", table, context, path)
    assert "standardiste login chat" in str(caught.value) and "abc123secret" not in str(caught.value)


async def test_chatwoot_chat_beside_the_local_phone_and_the_local_one_works_while_chatwoot_is_down(
    fake: FakeChatwoot, ws: Any, workspace_path: Path, tmp_path: Path
) -> None:
    from standardiste.backends.local import LocalBackend

    ws.create_conversation(channel=Channel.PHONE, customer=Customer(id="local:carl", name="Carl"), subject="Call from Carl")
    fake.add_conversation("chat", "Widget question", "hi", broadcast=False)
    local = LocalBackend(workspace_path, agent_id="alice")
    chat = make_backend(fake, tmp_path / "cw", name="chat")
    hub, store = Hub([local, chat]), Store()
    seen: list[Event] = []
    await hub.start()

    async def until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"no {what} within {timeout} s"
            batch = hub.drain()
            seen.extend(batch)
            store.apply(batch)
            if not batch:
                await asyncio.sleep(0.05)

    def subjects() -> set[str]:
        return {c.subject for c in store.conversations.values()}

    try:
        await until(lambda: {"Call from Carl", "Widget question"} <= subjects(), "both workspaces")
        channels = {c.subject: (c.id.partition(":")[0], c.channel) for c in store.conversations.values()}
        assert channels["Widget question"] == ("chat", Channel.CHAT)
        assert channels["Call from Carl"][1] is Channel.PHONE

        await fake.set_down(True)
        await until(lambda: any(isinstance(e, BackendStatus) and e.backend == "chat" and e.state is LinkState.DOWN
                                for e in seen), "chat said down")
        down = next(e for e in seen if isinstance(e, BackendStatus) and e.backend == "chat" and e.state is LinkState.DOWN)
        assert "chatwoot chat" in down.detail and down.retry_in is not None
        # The local workspace goes on while Chatwoot is away.
        ws.create_conversation(channel=Channel.PHONE, customer=Customer(id="local:dora", name="Dora"), subject="Call from Dora")
        await until(lambda: "Call from Dora" in subjects(), "the local call while chatwoot is down")

        fake.add_conversation("chat", "While away", "are you there?")
        await fake.set_down(False)
        await until(lambda: "While away" in subjects(), "the chat made while chatwoot was down")
    finally:
        await hub.close()


async def test_a_rate_limited_chatwoot_is_not_asked_again_before_the_server_says(
    fake: FakeChatwoot, tmp_path: Path
) -> None:
    fake.fail("GET", r"/api/v1/profile$", 429, headers={"Retry-After": "120"}, body={"error": "slow down"})
    hub = Hub([make_backend(fake, tmp_path / "cw", name="chat")])
    seen: list[Event] = []
    await hub.start()
    try:
        deadline = time.monotonic() + 10
        while not any(isinstance(e, BackendStatus) and e.state is LinkState.DOWN for e in seen):
            assert time.monotonic() < deadline, seen
            seen.extend(hub.drain())
            await asyncio.sleep(0.05)
        down = next(e for e in seen if isinstance(e, BackendStatus) and e.state is LinkState.DOWN)
        assert down.backend == "chat" and "120" in down.detail
        assert down.retry_in is not None and down.retry_in >= 120
        assert len([s for s in fake.seen if s.path == "/api/v1/profile"]) == 1
    finally:
        await hub.close()
