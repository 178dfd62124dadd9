"""Tones from the console (`#`, `:dtmf 1234`): sent as a SendDtmf on a call the agent is on, by a backend
that supports them; offered as disabled, and refused with "does not support", by one that does not (the
local workspace: its calls are simulated, there is no line to key into)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.base import Capabilities, Command, CommandKind, CommandResult, SendDtmf
from standardiste.backends.local import LocalBackend
from standardiste.console.core.model import Channel, State
from standardiste.console.ui.dialogs import TextDialog
from standardiste.widgets.call_panel import CallPanel

SIZE = (120, 40)


class KeysTones(LocalBackend):
    """The local workspace, plus tones: each SendDtmf it is asked to carry out is recorded (a phone system
    would play it on the line; nothing in the workspace changes)."""

    capabilities = Capabilities(
        channels=LocalBackend.capabilities.channels,
        commands=LocalBackend.capabilities.commands | {CommandKind.SEND_DTMF},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tones: list[SendDtmf] = []

    async def perform(self, command: Command) -> CommandResult:
        if isinstance(command, SendDtmf):
            self.tones.append(command)
            return CommandResult(True, detail="sent")
        return await super().perform(command)


async def _on_the_call(pilot: Any, app: Any, cid: str) -> None:
    await wait_for(lambda: cid in app.store.conversations, pilot=pilot)
    screen = app.workspace
    screen.action_view("everyone")
    assert screen.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: screen.open_id == cid, pilot=pilot)
    await pilot.press("a")
    await wait_for(lambda: app.store.conversations[cid].state is State.CONNECTED, pilot=pilot)


def _said(app: Any) -> list[str]:
    return [s.message for s in app.said]


async def test_tones_are_keyed_with_hash_and_with_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [call, chat] = seed(
        db,
        [
            Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=5),
            Contact(Channel.CHAT, "Jean", "fr", "Colis"),
        ],
    )
    backend = KeysTones(db, agent_id="alice")
    app = make_app(tmp_path, backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.workspace
        # A ringing call: nobody on the line to key into yet.
        await wait_for(lambda: call in app.store.conversations, pilot=pilot)
        screen.action_view("everyone")
        assert screen.queue.select_id(call)
        screen.run_command_line("dtmf 1")
        await wait_for(lambda: "Tones go on a call you are on." in _said(app), pilot=pilot)

        await _on_the_call(pilot, app, call)
        assert screen.check_action("dtmf", ()) is True
        await wait_for(
            lambda: "# tones" in screen.query_one(CallPanel).key_hint(app.store.conversations[call]),
            pilot=pilot,
        )

        await pilot.press("number_sign")
        await wait_for(lambda: isinstance(app.screen, TextDialog), pilot=pilot)
        await pilot.press(*"12#9", "enter")
        await wait_for(lambda: len(backend.tones) == 1, pilot=pilot)
        assert backend.tones[0].conversation_id == call and backend.tones[0].digits == "12#9"
        await wait_for(lambda: "Sent 4 tones" in _said(app), pilot=pilot)

        screen.run_command_line("dtmf 5w6*")
        await wait_for(lambda: len(backend.tones) == 2, pilot=pilot)
        assert backend.tones[1].digits == "5w6*"

        screen.run_command_line("dtmf 12x")  # not a tone: said, nothing sent
        await wait_for(lambda: any(m.startswith("Not tones") for m in _said(app)), pilot=pilot)

        await pilot.press("h")
        await wait_for(lambda: app.store.conversations[call].state is State.ON_HOLD, pilot=pilot)
        screen.run_command_line("dtmf #")  # on hold too: an IVR does not wait for the music to stop
        await wait_for(lambda: len(backend.tones) == 3, pilot=pilot)

        # A chat has no line.
        assert screen.queue.select_id(chat)
        screen.run_command_line("dtmf 1")
        await wait_for(lambda: "That works on a call." in _said(app), pilot=pilot)
        await pilot.pause(0.3)
        assert [t.digits for t in backend.tones] == ["12#9", "5w6*", "#"]


async def test_the_local_workspace_offers_no_tones(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [call] = seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=5)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _on_the_call(pilot, app, call)
        screen = app.workspace
        assert screen.check_action("dtmf", ()) is None  # shown disabled (greyed in `?`)
        assert "tones" not in screen.query_one(CallPanel).key_hint(app.store.conversations[call])
        await pilot.press("number_sign")  # a disabled key does nothing, no dialog
        await pilot.pause(0.2)
        assert not isinstance(app.screen, TextDialog)
        screen.run_command_line("dtmf 1234")
        await wait_for(lambda: "local does not support send dtmf." in _said(app), pilot=pilot)
