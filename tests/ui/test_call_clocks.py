"""The call panel's clocks and hints follow the call: a hold timer on hold, a wrap-up timer (not the talk
clock) after hang-up, and `m unmute` while muted (Pilot over a real workspace file)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from rich.console import Console
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, State
from standardiste.widgets.call_panel import CallPanel

SIZE = (160, 50)


def panel_text(app: object) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(app.workspace.query_one(CallPanel).content)  # type: ignore[attr-defined]
    return console.export_text()


async def test_hold_and_wrap_up_have_their_own_clocks_and_mute_says_unmute(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [call] = seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=600)], now=time.time())
    ws = Workspace(db)
    ws.update_conversation(call, state=State.CONNECTED, assignee="alice", answered_at=time.time() - 300)
    ws.close()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: call in app.store.conversations, pilot=pilot)
        await pilot.pause()
        app.workspace.queue.select_id(call)
        app.workspace.open_conversation(call)
        await wait_for(lambda: "Talking   5m" in panel_text(app), pilot=pilot)
        assert "m mute" in panel_text(app)

        await pilot.press("m")
        await wait_for(lambda: app.store.conversations[call].muted, pilot=pilot)
        await wait_for(lambda: "m unmute" in panel_text(app), pilot=pilot)

        await pilot.press("h")
        await wait_for(lambda: app.store.conversations[call].state is State.ON_HOLD, pilot=pilot)
        await wait_for(lambda: "On hold" in panel_text(app), pilot=pilot)
        assert "Talking   5m" in panel_text(app)  # the talk goes on, the customer waits in the music

        await pilot.press("h")
        await wait_for(lambda: app.store.conversations[call].state is State.CONNECTED, pilot=pilot)
        await pilot.press("H")
        await wait_for(lambda: app.store.conversations[call].state is State.WRAP_UP, pilot=pilot)
        await wait_for(lambda: "Wrap-up" in panel_text(app), pilot=pilot)
        text = panel_text(app)
        assert "Talking" not in text and re.search(r"Wrap-up +\d+s\b", text), text


async def test_the_call_panel_names_the_keys_as_remapped_in_the_config(tmp_path: Path) -> None:
    """`[keys]` moves hang-up to ctrl+k and hold to o: the panel says so, and pressing what it says works."""
    db = tmp_path / "workspace.db"
    [call] = seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=600)], now=time.time())
    ws = Workspace(db)
    ws.update_conversation(call, state=State.CONNECTED, assignee="alice", answered_at=time.time() - 300)
    ws.close()
    config = (
        'agent = "alice"\nname = "Alice"\nundo_seconds = 0\nbell = false\n'
        '[keys]\n"call.hang_up" = "ctrl+k"\n"call.hold" = "o"\n'
    )
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: call in app.store.conversations, pilot=pilot)
        await pilot.pause()
        app.workspace.queue.select_id(call)
        app.workspace.open_conversation(call)
        await wait_for(lambda: "hang up" in panel_text(app), pilot=pilot)
        hint = panel_text(app)
        assert "^k hang up" in hint and "o hold" in hint
        assert "H hang up" not in hint and "h hold" not in hint
        await pilot.press("o")
        await wait_for(lambda: app.store.conversations[call].state is State.ON_HOLD, pilot=pilot)
        await wait_for(lambda: "o resume" in panel_text(app), pilot=pilot)
