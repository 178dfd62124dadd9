"""Undo says what was undone in words, naming the customer, never a command's internal name."""

from __future__ import annotations

from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, State

SIZE = (160, 50)


def _said(app: object) -> list[str]:
    return [n.message for n in app.said]  # type: ignore[attr-defined]


async def test_undoing_a_close_names_the_conversation_and_what_it_did(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    mails = seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600),
            Contact(Channel.EMAIL, "María García", "es", "Devolución", age=700),
        ],
    )
    app = make_app(tmp_path, config_text='agent = "alice"\nundo_seconds = 3\nbell = false\n')
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: all(m in app.store.conversations for m in mails), pilot=pilot)
        await pilot.pause()
        for mail in mails:  # two marked: the bulk close (it had no words at all: "set_status")
            app.workspace.queue.select_id(mail)
            await pilot.press("space")
        await pilot.press("x")
        await wait_for(lambda: any("ctrl+z to undo" in m for m in _said(app)), pilot=pilot)
        await pilot.press("ctrl+z")
        await wait_for(lambda: any(m.startswith("Undone:") for m in _said(app)), pilot=pilot)
        undone = [m for m in _said(app) if m.startswith("Undone:")]
        assert len(undone) == 1
        assert "set_status" not in undone[0] and "solved" in undone[0], undone
        assert "John Smith's email" in undone[0] or "María García's email" in undone[0], undone
        solved = lambda: sum(app.store.conversations[m].state is State.SOLVED for m in mails)  # noqa: E731
        await wait_for(lambda: solved() == 1, timeout=8, pilot=pilot)
    ws = Workspace(db)
    assert sum(ws.require(m).state is State.SOLVED for m in mails) == 1  # the last one only was undone
