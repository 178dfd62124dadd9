"""A file Alice attaches to a reply is kept in the workspace with it: Bob, in another console of the same
workspace (the file is not on his machine), saves it with `S` and gets the same bytes. Pilot over a real
workspace file, two consoles one after the other; the path Alice attached from is gone by then."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for, wait_for_screen
from standardiste.backends.local import LocalBackend
from standardiste.console.core.model import Channel
from standardiste.widgets.attach_prompt import AttachPrompt

SIZE = (120, 40)
CONTENT = bytes(range(256)) * 40 + "Rechnung für Müller 📎".encode()  # binary, not only text


def _sent(db: Path) -> list[dict[str, object]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT attachments FROM messages WHERE direction = 'outbound'").fetchall()
    return [a for (raw,) in rows for a in json.loads(raw or "[]")]


async def _open(pilot, app, cid: str) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: cid in app.store.conversations, pilot=pilot)
    await pilot.pause()
    app.workspace.action_view("everyone")
    assert app.workspace.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: app.workspace.open_id == cid, pilot=pilot)


async def test_an_attachment_the_agent_sent_is_saved_by_another_console(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600)])
    invoice = tmp_path / "alice-laptop" / "Rechnung 1042.pdf"
    invoice.parent.mkdir()
    invoice.write_bytes(CONTENT)
    alice = make_app(tmp_path)
    async with alice.run_test(size=SIZE) as pilot:
        await _open(pilot, alice, mail)
        await pilot.press("r", *"Here is your invoice.", "ctrl+t")
        await wait_for(lambda: isinstance(alice.screen, AttachPrompt), pilot=pilot)
        await pilot.press(*str(invoice), "enter")
        await wait_for(lambda: alice.screen is alice.workspace, pilot=pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: _sent(db) != [], pilot=pilot)
    [sent] = _sent(db)
    assert sent["filename"] == "Rechnung 1042.pdf" and sent["size"] == len(CONTENT)
    invoice.unlink()  # Bob's machine never had it
    invoice.parent.rmdir()

    home = tmp_path / "bob"
    home.mkdir()
    config = 'agent = "bob"\nname = "Bob"\nundo_seconds = 0\nbell = false\n'
    bob = make_app(home, config_text=config, backend=LocalBackend(db, agent_id="bob"))
    folder = home / "saved"
    async with bob.run_test(size=SIZE) as pilot:
        await _open(pilot, bob, mail)
        transcript = bob.workspace.query_one("#transcript")
        await wait_for(lambda: any(m.attachments for m in transcript.messages), pilot=pilot)  # type: ignore[attr-defined]
        await pilot.press("S")
        await wait_for_screen(bob, "TextDialog", pilot)
        await pilot.press("ctrl+u", *str(folder), "enter")
        await wait_for(lambda: folder.exists() and any(folder.iterdir()), pilot=pilot)
        errors = [s.message for s in bob.said if s.severity == "error"]
        assert errors == []
    assert (folder / "Rechnung 1042.pdf").read_bytes() == CONTENT
