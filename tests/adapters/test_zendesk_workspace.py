"""A Zendesk workspace as the console builds it: its [workspaces.NAME] table, its token stored by
`standardiste login NAME`, and one console over Zendesk's email and web-form tickets, Chatwoot's chats and
the local workspace's phone, which keeps working on the others while Zendesk is rate limited or down."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_harness import fake_chatwoot
from chatwoot_harness import make_backend as make_chatwoot
from helpdesk_harness import (
    MemoryKeyring,
    connected,
    hub_of,
    login,
    memory_keyring,
    open_configured,
)
from standardiste.backends.base import BackendContext, BackendStatus, LinkState
from standardiste.console.core.config import ConfigError
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Channel, Customer
from standardiste.console.core.secrets import SERVICE
from standardiste.console.core.store import Store
from standardiste.console.core.workspaces import open_workspace
from zendesk_fake import FakeZendesk
from zendesk_harness import fake_zendesk, make_backend


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    with memory_keyring(monkeypatch, "desk") as store:
        yield store


@pytest.fixture
async def fake() -> AsyncIterator[FakeZendesk]:
    async with fake_zendesk() as fake:
        yield fake


@pytest.fixture
async def chatwoot() -> AsyncIterator[FakeChatwoot]:
    async with fake_chatwoot() as fake:
        yield fake


def config_file(tmp_path: Path, fake: FakeZendesk, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[workspaces.desk]\nbackend = "zendesk"\nurl = "{fake.base_url}"\nemail = "ann@example.test"\n'
        f'views = ["Your unsolved tickets", "360002"]\npoll = 0.2\nexport_interval = 0.5\n{extra}',
        encoding="utf-8",
    )
    return path


async def test_login_stores_the_token_and_the_workspace_connects_with_it(
    fake: FakeZendesk, tmp_path: Path, keys: MemoryKeyring
) -> None:
    path = config_file(tmp_path, fake)
    code, out, err = login("desk", fake.token, path)
    assert code == 0, err
    assert keys.store[(SERVICE, "desk")] == fake.token
    assert fake.token not in out + err

    backend, warnings = open_configured(path, "desk", tmp_path / "data")
    assert warnings == []
    async with connected(backend):
        fake.add_ticket("email", "Logged in", "hello")
        snapshot = await backend.snapshot()
        assert [c.subject for c in snapshot.conversations] == ["Logged in"] and snapshot.me == "ann@example.test"


async def test_a_token_in_the_config_file_is_refused_and_an_unknown_view_is_named(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    path = config_file(tmp_path, fake, 'token = "abc123secret"\n')
    table = tomllib.loads(path.read_text())["workspaces"]["desk"]
    context = BackendContext(agent_id="ann", data_dir=tmp_path, secret=lambda _name: fake.token)
    with pytest.raises(ConfigError) as caught:
        open_workspace("desk", table, context, path)
    assert "standardiste login desk" in str(caught.value) and "abc123secret" not in str(caught.value)
    from standardiste.backends.base import Invalid

    backend = make_backend(fake, tmp_path, name="desk", views=["Tickets of Narnia"])
    with pytest.raises(Invalid, match="Tickets of Narnia"):
        await backend.connect()


async def test_one_console_over_zendesk_mail_and_forms_chatwoot_chat_and_the_local_phone(
    fake: FakeZendesk, chatwoot: FakeChatwoot, ws: Any, workspace_path: Path, tmp_path: Path
) -> None:
    """Zendesk down: the console says which backend and retries; the local phone and Chatwoot's chats go on;
    what Zendesk received meanwhile arrives once it is back."""
    from standardiste.backends.local import LocalBackend

    ws.create_conversation(
        channel=Channel.PHONE, customer=Customer(id="local:carl", name="Carl"), subject="Call from Carl"
    )
    chatwoot.add_conversation("chat", "Widget question", "hi", broadcast=False)
    fake.add_ticket("email", "Mail to support", "hello by mail")
    fake.add_ticket("form", "Contact form", "hello by form")
    local = LocalBackend(workspace_path, agent_id="alice")
    chat = make_chatwoot(chatwoot, tmp_path / "cw", name="chat")
    desk = make_backend(fake, tmp_path / "zd", name="desk", views=["All unsolved tickets"])
    async with hub_of(local, chat, desk) as reader:
        everything = {"Call from Carl", "Widget question", "Mail to support", "Contact form"}
        await reader.until(lambda: everything <= reader.subjects(), "the three workspaces")
        shown = {c.subject: (c.id.partition(":")[0], c.channel) for c in reader.store.conversations.values()}
        assert shown["Mail to support"] == ("desk", Channel.EMAIL)
        assert shown["Contact form"] == ("desk", Channel.FORM)
        assert shown["Widget question"] == ("chat", Channel.CHAT)
        assert shown["Call from Carl"][1] is Channel.PHONE

        await fake.set_down(True)
        await reader.until(
            lambda: reader.store.links.get("desk") is not None and reader.store.links["desk"].state is LinkState.DOWN,
            "desk said down",
        )
        down = reader.store.links["desk"]
        assert "zendesk desk" in down.detail and down.retry_in is not None
        # The others go on while Zendesk is away.
        ws.create_conversation(
            channel=Channel.PHONE, customer=Customer(id="local:dora", name="Dora"), subject="Call from Dora"
        )
        chatwoot.add_conversation("chat", "Chat while Zendesk is away", "hello?")
        await reader.until(lambda: {"Call from Dora", "Chat while Zendesk is away"} <= reader.subjects(), "the others")
        assert (
            reader.store.links["chat"].state is LinkState.CONNECTED
            and reader.store.links["local"].state is LinkState.CONNECTED
        )

        fake.add_ticket("email", "Mail while away", "are you there?")
        await fake.set_down(False)
        await reader.until(lambda: "Mail while away" in reader.subjects(), "the mail Zendesk received while away")
        await reader.until(lambda: reader.store.links["desk"].state is LinkState.CONNECTED, "desk back")
        assert sum(c.subject == "Mail while away" for c in reader.store.conversations.values()) == 1


async def test_a_rate_limited_zendesk_is_not_asked_again_before_it_says_and_the_others_go_on(
    fake: FakeZendesk, ws: Any, workspace_path: Path, tmp_path: Path
) -> None:
    from standardiste.backends.local import LocalBackend

    fake.fail(
        "GET",
        r"/api/v2/users/me",
        429,
        headers={"Retry-After": "120"},
        body={"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"},
    )
    local = LocalBackend(workspace_path, agent_id="alice")
    hub, store = Hub([make_backend(fake, tmp_path / "zd", name="desk"), local]), Store()
    await hub.start()
    try:
        deadline = time.monotonic() + 10
        while not (store.links.get("desk") and store.links["desk"].state is LinkState.DOWN):
            assert time.monotonic() < deadline, store.links
            store.apply(hub.drain())
            await asyncio.sleep(0.05)
        down = store.links["desk"]
        assert "zendesk desk" in down.detail and "120" in down.detail
        assert down.retry_in is not None and down.retry_in >= 120
        ws.create_conversation(
            channel=Channel.PHONE, customer=Customer(id="local:eve", name="Eve"), subject="Call from Eve"
        )
        while "Call from Eve" not in {c.subject for c in store.conversations.values()}:
            assert time.monotonic() < deadline + 10
            store.apply(hub.drain())
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert len([s for s in fake.seen if s.path == "/api/v2/users/me.json"]) == 1
        assert not any(
            isinstance(e, BackendStatus) for e in hub.drain() if getattr(e, "backend", "") == "desk"
        )
    finally:
        await hub.close()


async def test_the_hub_reads_talks_queue_figures_for_the_wallboard_and_skips_who_cannot(
    fake: FakeZendesk, ws: Any, workspace_path: Path, tmp_path: Path
) -> None:
    """Hub.queue_figures, which the console's wallboard (W) reads every 10 s for its telephony line."""
    from standardiste.backends.local import LocalBackend

    desk = make_backend(fake, tmp_path / "zd", name="desk")
    hub = Hub([LocalBackend(workspace_path, agent_id="alice"), desk])
    assert await hub.queue_figures() == []  # not connected yet: left out, not an error
    await desk.connect()
    try:
        (figures,) = await hub.queue_figures()
        assert (figures.backend, figures.calls_waiting, figures.longest_wait_seconds) == ("desk", 5, 120.0)
        assert [s.path for s in fake.seen][-1] == "/api/v2/channels/voice/stats/current_queue_activity.json"
        fake.talk = False  # an account without Talk answers 403
        assert await hub.queue_figures() == []
    finally:
        await desk.close()
