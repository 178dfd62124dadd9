"""A Chatwoot workspace as the console builds it: its [workspaces.NAME] table, its token stored by
`standardiste login NAME`, and a console that combines it with the local workspace's phone and keeps working
on the local one while Chatwoot is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_harness import fake_chatwoot, make_backend
from helpdesk_harness import MemoryKeyring, connected, hub_of, login, memory_keyring, open_configured
from standardiste.backends.base import BackendStatus, Event, LinkState
from standardiste.console.core.config import ConfigError
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Channel, Customer
from standardiste.console.core.secrets import SERVICE


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    with memory_keyring(monkeypatch, "chat") as store:
        yield store


@pytest.fixture
async def fake() -> AsyncIterator[FakeChatwoot]:
    async with fake_chatwoot() as fake:
        yield fake


def config_file(tmp_path: Path, fake: FakeChatwoot, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[workspaces.chat]\nbackend = "chatwoot"\nurl = "{fake.base_url}"\naccount = {fake.account}\n'
        f'agent = "ann@example.test"\n{extra}',
        encoding="utf-8",
    )
    return path


async def test_login_stores_the_token_and_the_workspace_connects_with_it(
    fake: FakeChatwoot, tmp_path: Path, keys: MemoryKeyring
) -> None:
    path = config_file(tmp_path, fake)
    code, out, err = login("chat", fake.token, path)
    assert code == 0, err
    assert keys.store[(SERVICE, "chat")] == fake.token
    assert fake.token not in out + err

    backend, warnings = open_configured(path, "chat", tmp_path / "data")
    assert warnings == []
    async with connected(backend):
        fake.add_conversation("email", "Logged in", "hello", broadcast=False)
        snapshot = await backend.snapshot()
        assert [c.subject for c in snapshot.conversations] == ["Logged in"] and snapshot.me == "ann@example.test"


async def test_a_token_in_the_config_file_is_refused_with_the_login_to_run(fake: FakeChatwoot, tmp_path: Path) -> None:
    path = config_file(tmp_path, fake, 'token = "abc123secret"\n')
    with pytest.raises(ConfigError) as caught:
        open_configured(path, "chat", tmp_path)
    assert "standardiste login chat" in str(caught.value) and "abc123secret" not in str(caught.value)


async def test_chatwoot_chat_beside_the_local_phone_and_the_local_one_works_while_chatwoot_is_down(
    fake: FakeChatwoot, ws: Any, workspace_path: Path, tmp_path: Path
) -> None:
    from standardiste.backends.local import LocalBackend

    ws.create_conversation(channel=Channel.PHONE, customer=Customer(id="local:carl", name="Carl"), subject="Call from Carl")
    fake.add_conversation("chat", "Widget question", "hi", broadcast=False)
    local = LocalBackend(workspace_path, agent_id="alice")
    chat = make_backend(fake, tmp_path / "cw", name="chat")
    async with hub_of(local, chat) as reader:
        await reader.until(lambda: {"Call from Carl", "Widget question"} <= reader.subjects(), "both workspaces")
        channels = {c.subject: (c.id.partition(":")[0], c.channel) for c in reader.store.conversations.values()}
        assert channels["Widget question"] == ("chat", Channel.CHAT)
        assert channels["Call from Carl"][1] is Channel.PHONE

        await fake.set_down(True)
        def said_down(e: Event) -> bool:
            return isinstance(e, BackendStatus) and e.backend == "chat" and e.state is LinkState.DOWN

        await reader.until(lambda: any(said_down(e) for e in reader.seen), "chat said down")
        down = next(e for e in reader.seen if said_down(e))
        assert "chatwoot chat" in down.detail and down.retry_in is not None
        # The local workspace goes on while Chatwoot is away.
        ws.create_conversation(channel=Channel.PHONE, customer=Customer(id="local:dora", name="Dora"), subject="Call from Dora")
        await reader.until(lambda: "Call from Dora" in reader.subjects(), "the local call while chatwoot is down")

        fake.add_conversation("chat", "While away", "are you there?")
        await fake.set_down(False)
        await reader.until(lambda: "While away" in reader.subjects(), "the chat made while chatwoot was down")


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
