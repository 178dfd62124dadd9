"""Merge asks first naming both conversations, can be undone in the undo window, and the merged
timeline is in time order (Pilot over a real workspace file)."""

from __future__ import annotations

from pathlib import Path

from app_harness import make_app, stays, wait_for
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Customer, Direction, State
from standardiste.console.ui.dialogs import ConfirmDialog, PickDialog
from standardiste.widgets.transcript import Transcript

SIZE = (160, 50)
NOW = 1_764_000_000.0
# A merge made by mistake reaches the store within this: sent at once (undo 0), seen at the next 0.2 s poll.
A_MERGE_WOULD_SHOW = 0.5
UNDO_SECONDS = 2
# An undone merge is watched past its window, plus a second for a delivery that would be late.
PAST_THE_UNDO_WINDOW = UNDO_SECONDS + 1.0


def _two_conversations(db: Path) -> tuple[str, str]:
    """An email (messages at -3000 and -1000 s) and a chat of the same customer (a message at -2000 s)."""
    ws = Workspace(db, clock=lambda: NOW)
    anna = Customer("cust-anna", "Anna Müller", "de", email="anna@example.com")
    mail = ws.create_conversation(
        channel=Channel.EMAIL, customer=anna, subject="Paket fehlt", created_at=NOW - 3000
    )
    chat = ws.create_conversation(
        channel=Channel.CHAT, customer=anna, subject="Wo ist mein Paket?", created_at=NOW - 2000
    )
    for cid, at, body in (
        (mail, -3000, "first mail"),
        (chat, -2000, "the chat"),
        (mail, -1000, "second mail"),
    ):
        ws.add_message(cid, direction=Direction.INBOUND, body=body, author="Anna", created_at=NOW + at)
    ws.close()
    return f"local:{mail}", f"local:{chat}"


async def _merge(pilot: object, app: object, mail: str) -> None:
    app.workspace.queue.select_id(mail)  # type: ignore[attr-defined]
    await pilot.press("ctrl+g")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, PickDialog), pilot=pilot)  # type: ignore[attr-defined]
    await pilot.press("1")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot=pilot)  # type: ignore[attr-defined]


async def test_merge_asks_naming_both_and_keeps_the_timeline_in_time_order(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    mail, chat = _two_conversations(db)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            lambda: mail in app.store.conversations and chat in app.store.conversations, pilot=pilot
        )
        await pilot.pause()
        await _merge(pilot, app, mail)
        question = app.screen.question  # type: ignore[attr-defined]
        assert "Paket fehlt" in question and "Wo ist mein Paket?" in question
        await pilot.press("n")  # no: nothing merged
        await wait_for(lambda: not isinstance(app.screen, ConfirmDialog), pilot=pilot)
        await stays(lambda: not app.store.conversations[chat].is_closed, A_MERGE_WOULD_SHOW, pilot)
        await _merge(pilot, app, mail)
        await pilot.press("y")
        await wait_for(lambda: app.store.conversations[chat].is_closed, pilot=pilot)
        app.workspace.open_conversation(mail)
        await wait_for(lambda: len(app.workspace.query_one(Transcript).messages) == 4, pilot=pilot)
        shown = [m.body for m in app.workspace.query_one(Transcript).messages]
        assert shown[:3] == ["first mail", "the chat", "second mail"], shown
    inbound = [m.body for m in Workspace(db).messages(mail) if m.direction is Direction.INBOUND]
    assert inbound == ["first mail", "the chat", "second mail"]


async def test_a_merge_is_undone_in_the_undo_window(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    mail, chat = _two_conversations(db)
    app = make_app(tmp_path, config_text=f'agent = "alice"\nundo_seconds = {UNDO_SECONDS}\nbell = false\n')
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            lambda: mail in app.store.conversations and chat in app.store.conversations, pilot=pilot
        )
        await pilot.pause()
        await _merge(pilot, app, mail)
        await pilot.press("y")
        said = lambda: [n.message for n in app.said]  # noqa: E731
        await wait_for(lambda: any("ctrl+z to undo" in m for m in said()), pilot=pilot)
        await pilot.press("ctrl+z")
        await wait_for(lambda: any(m.startswith("Undone:") for m in said()), pilot=pilot)
        await stays(lambda: not app.store.conversations[chat].is_closed, PAST_THE_UNDO_WINDOW, pilot)
    ws = Workspace(db)
    assert ws.require(chat).state is State.WAITING and [m.body for m in ws.messages(chat)] == ["the chat"]
