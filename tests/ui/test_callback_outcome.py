"""A callback nobody answers: the call placed for it ends (it no longer holds the agent) and the request
is rescheduled; the panel's hint names the key that schedules (Pilot over a real workspace file)."""

from __future__ import annotations

import io
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from rich.console import Console
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, State
from standardiste.console.ui.dialogs import PickDialog
from standardiste.widgets.call_panel import CallPanel

SIZE = (160, 50)


def panel_text(app: object) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(app.workspace.query_one(CallPanel).content)  # type: ignore[attr-defined]
    return console.export_text()


async def test_no_answer_ends_the_call_and_reschedules(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [request] = seed(db, [Contact(Channel.CALLBACK, "Luca Rossi", "it", "Richiamata: rimborso", age=300)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: request in app.store.conversations, pilot=pilot)
        await pilot.pause()
        app.workspace.queue.select_id(request)
        app.workspace.open_conversation(request)
        await pilot.pause()
        hint = panel_text(app)
        assert "s schedule" in hint and "z schedule" not in hint
        await pilot.press("d")
        await wait_for(lambda: app.store.conversations[request].state is State.DIALLING, pilot=pilot)
        await wait_for(
            lambda: any(c.channel is Channel.PHONE for c in app.store.conversations.values()), pilot=pilot
        )
        app.workspace.queue.select_id(request)
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, PickDialog), pilot=pilot)
        await pilot.press("2")  # no answer: retry later
        await wait_for(lambda: app.store.conversations[request].state is State.SCHEDULED, pilot=pilot)
    ws = Workspace(db)
    calls = [c for c in ws.conversations() if c.channel is Channel.PHONE]
    assert len(calls) == 1
    assert calls[0].state is State.ENDED and calls[0].closed_at is not None
    assert ws.require(request).state is State.SCHEDULED
