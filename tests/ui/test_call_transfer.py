"""Transfer from the console: only agents who can take the call are offered, it asks first, and the
call leaves the agent who handed it over (Pilot over a real workspace file)."""

from __future__ import annotations

from pathlib import Path

from app_harness import Contact, make_app, seed, stays, wait_for
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Agent, Channel, Presence, Skills, State
from standardiste.console.ui.dialogs import ConfirmDialog, PickDialog

SIZE = (160, 50)
# A transfer sent by mistake reaches the store within this: sent at once (undo 0), seen at the next 0.2 s poll.
A_TRANSFER_WOULD_SHOW = 0.5


def _agents(db: Path) -> None:
    ws = Workspace(db)
    phone_de = Skills(channels={Channel.PHONE: 2}, languages=("de", "en"))
    ws.upsert_agent(Agent("bob", "Bob", skills=phone_de))
    ws.upsert_agent(Agent("carol", "Carol", skills=phone_de))
    ws.upsert_agent(Agent("dan", "Dan", skills=Skills(channels={Channel.PHONE: 2}, languages=("fr",))))
    ws.set_presence("bob", Presence.AVAILABLE)
    ws.set_presence("dan", Presence.AVAILABLE)  # carol stays offline
    ws.close()


def _connect_to_alice(db: Path, cid: str) -> None:
    ws = Workspace(db)
    ws.update_conversation(cid, state=State.CONNECTED, assignee="alice", answered_at=ws.now())
    ws.close()


async def test_transfer_offers_who_can_take_it_asks_then_releases_the_call(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [call] = seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=40)])
    _agents(db)
    _connect_to_alice(db, call)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: call in app.store.conversations and "dan" in app.store.agents, pilot=pilot)
        await pilot.pause()
        app.workspace.queue.select_id(call)
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, PickDialog), pilot=pilot)
        dialog = app.screen
        assert isinstance(dialog, PickDialog)
        values = [value for value, _label in dialog.options]
        assert "agent:bob" in values
        assert "agent:carol" not in values and "agent:dan" not in values
        assert "Carol (offline)" in dialog.note and "Dan (language not spoken)" in dialog.note
        await pilot.press(str(values.index("agent:bob") + 1))
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot=pilot)
        assert "Anna Müller" in app.screen.question and "Bob" in app.screen.question  # type: ignore[attr-defined]
        assert app.store.conversations[call].assignee == "alice"  # nothing sent before the answer
        await pilot.press("y")
        await wait_for(lambda: app.store.conversations[call].assignee == "bob", pilot=pilot)
    ws = Workspace(db)
    moved = ws.require(call)
    # Bob's phone rings: the call is no longer connected to anyone until he answers it.
    assert (moved.assignee, moved.state) == ("bob", State.RINGING)


async def test_transfer_by_command_to_an_agent_who_cannot_take_it_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [call] = seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=40)])
    _agents(db)
    _connect_to_alice(db, call)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: call in app.store.conversations and "carol" in app.store.agents, pilot=pilot)
        await pilot.pause()
        app.workspace.queue.select_id(call)
        await pilot.press("colon", *"transfer carol", "enter")
        said = lambda: [n.message for n in app.said]  # noqa: E731
        await wait_for(lambda: any("Carol cannot take it now (offline)" in m for m in said()), pilot=pilot)
        await stays(lambda: app.store.conversations[call].assignee == "alice", A_TRANSFER_WOULD_SHOW, pilot)
    moved = Workspace(db).require(call)
    assert (moved.assignee, moved.state) == ("alice", State.CONNECTED)
