"""The console over the local workspace's chat and a Zendesk account's mail (the fake Zendesk of
tests/zendesk_fake.py): a reply typed in the console becomes a public comment on the ticket, through the
outbox; Zendesk down, the status line says which backend and when it retries, and the local chat is handled
all the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.local import LocalBackend
from standardiste.console.core.model import Channel
from standardiste.console.ui.app import StandardisteApp
from standardiste.widgets.status_bar import StatusBar
from zendesk_fake import FakeZendesk
from zendesk_harness import fake_zendesk, make_backend

SIZE = (160, 50)


@pytest.fixture
async def fake() -> AsyncIterator[FakeZendesk]:
    # The shared fake: its export's window 1 s, and no request outside Zendesk's API reference at the end.
    async with fake_zendesk() as fake:
        yield fake


async def test_a_reply_from_the_keyboard_is_a_zendesk_comment_and_zendesk_down_is_said(
    tmp_path: Path, fake: FakeZendesk
) -> None:
    [chat] = seed(tmp_path / "workspace.db", [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=10)])
    number = fake.add_ticket("email", "Where is my order 1042?", "Hello, any news?")
    config = make_app(tmp_path).config
    desk = make_backend(fake, tmp_path / "zd", name="desk", views=["All unsolved tickets"])
    local = LocalBackend(tmp_path / "workspace.db", agent_id="alice")
    app = StandardisteApp(
        config, [local, desk], drafts_path=tmp_path / "drafts.db", outbox_path=tmp_path / "outbox.db"
    )
    ticket = f"desk:{number}"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            lambda: ticket in app.store.conversations and chat in app.store.conversations,
            timeout=15,
            pilot=pilot,
        )
        assert app.store.conversations[ticket].channel is Channel.EMAIL
        app.workspace.action_view("email")
        assert app.workspace.queue.select_id(ticket)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace.open_id == ticket, pilot=pilot)
        await pilot.press("r", *"It left our warehouse today.", "ctrl+s")
        await wait_for(
            lambda: any(
                c["body"] == "It left our warehouse today." and c["public"] for c in fake.comments[number]
            ),
            timeout=10,
            pilot=pilot,
        )
        assert [c["body"] for c in fake.comments[number]].count("It left our warehouse today.") == 1

        await fake.set_down(True)
        await wait_for(
            lambda: "desk" in app.store.links and app.store.links["desk"].state.value == "down",
            timeout=15,
            pilot=pilot,
        )
        await pilot.pause(0.1)
        status = str(app.workspace.query_one(StatusBar).render())
        assert "desk: cannot reach: zendesk desk" in status and "retrying in" in status
        assert fake.token not in status
        app.workspace.action_view("chat")
        assert app.workspace.queue.select_id(chat)
        await pilot.press("enter", "a")  # the local chat is answered all the same
        await wait_for(lambda: app.store.conversations[chat].assignee == "alice", pilot=pilot)
        await fake.set_down(False)
        await wait_for(lambda: app.store.links["desk"].state.value == "connected", timeout=15, pilot=pilot)
