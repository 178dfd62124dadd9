"""ctrl+t in the email composer attaches a file: a path prompt with tab completion, the files listed with
human sizes (363 B, not "0 KB"), sent with the reply; a folder or an unreadable file is refused, said why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core import attach_files
from standardiste.console.core.attach_files import NotAttachable, attachable, complete, human_size
from standardiste.console.core.model import Channel
from standardiste.widgets.attach_prompt import AttachPrompt
from standardiste.widgets.composer import Composer
from textual.widgets import Input, Label, Static

SIZE = (120, 40)


def _attachments(db: Path) -> list[dict[str, object]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT attachments FROM messages WHERE direction = 'outbound'").fetchall()
    return [a for (raw,) in rows for a in json.loads(raw or "[]")]


def test_sizes_are_in_human_units() -> None:
    assert [human_size(n) for n in (0, 363, 1229, 5_000_000)] == ["0 B", "363 B", "1.2 KB", "4.8 MB"]


def test_completion_of_the_file_system(tmp_path: Path) -> None:
    (tmp_path / "invoice-1042.pdf").write_bytes(b"%PDF")
    (tmp_path / "invoice-1043.pdf").write_bytes(b"%PDF")
    (tmp_path / "photos").mkdir()
    (tmp_path / ".hidden").write_text("x")
    base = f"{tmp_path}/"
    assert complete(base + "inv") == (base + "invoice-104", ["invoice-1042.pdf", "invoice-1043.pdf"])
    assert complete(base + "invoice-1042") == (base + "invoice-1042.pdf", [])
    assert complete(base + "ph") == (base + "photos/", [])
    assert complete(base) == (base, ["invoice-1042.pdf", "invoice-1043.pdf", "photos/"])  # no hidden ones
    assert complete(base + "nothing") == (base + "nothing", [])


def test_a_folder_an_unreadable_file_and_a_missing_one_are_refused(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAttachable, match="is a folder"):
        attachable(str(tmp_path))
    with pytest.raises(NotAttachable, match="No such file"):
        attachable(str(tmp_path / "missing.pdf"))
    secret = tmp_path / "secret.txt"
    secret.write_text("x")

    def denied(path: Path) -> None:  # the tests may run as root, whom chmod does not stop
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(attach_files, "_open_for_reading", denied)
    with pytest.raises(NotAttachable, match="cannot be read: Permission denied"):
        attachable(str(secret))


async def test_ctrl_t_attaches_a_file_that_goes_with_the_reply(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600)])
    files = tmp_path / "files"
    files.mkdir()
    (files / "invoice-1042.txt").write_bytes(b"x" * 363)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: mail in app.store.conversations, pilot=pilot)
        await pilot.pause()
        screen = app.workspace
        screen.action_view("everyone")
        assert screen.queue.select_id(mail)
        await pilot.press("enter")
        await wait_for(lambda: screen.open_id == mail, pilot=pilot)
        await pilot.press("r", *"Here is your invoice.", "ctrl+t")
        await wait_for(lambda: isinstance(app.screen, AttachPrompt), pilot=pilot)
        prompt = app.screen
        await pilot.press(*str(files), "enter")  # a folder: refused, the prompt stays
        assert isinstance(app.screen, AttachPrompt)
        assert "is a folder" in str(prompt.query_one("#attach-error", Static).render())
        await pilot.press("/", *"inv", "tab")
        assert prompt.query_one(Input).value == f"{files}/invoice-1042.txt"
        await pilot.press("enter")
        composer = screen.query_one(Composer)
        await wait_for(lambda: app.screen is screen, pilot=pilot)
        listed = str(composer.query_one("#composer-attachments", Label).render())
        assert "invoice-1042.txt (363 B)" in listed
        assert composer.text_area.text == "Here is your invoice."  # the letters after ctrl+t were the path
        await pilot.press("ctrl+s")
        await wait_for(lambda: _attachments(db) != [], pilot=pilot)
        [sent] = _attachments(db)
        assert sent["filename"] == "invoice-1042.txt" and sent["size"] == 363


def test_the_transcript_lists_an_attachment_in_human_units() -> None:
    from standardiste.console.core.model import Attachment, Direction, Message
    from standardiste.widgets.transcript import Transcript

    message = Message(
        id="m1",
        conversation_id="local:1",
        direction=Direction.INBOUND,
        author="John",
        body="see attached",
        created_at=0.0,
        attachments=(Attachment("note.txt", "text/plain", 363),),
    )
    # The lines of one message without mounting a transcript: Transcript has no public per-message layout.
    lines = [text for text, _ in Transcript()._message_lines(message, 80)]
    assert any("note.txt  (text/plain, 363 B)" in line for line in lines), lines


async def test_a_draft_keeps_its_attachments_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600)])
    invoice = tmp_path / "invoice.txt"
    invoice.write_bytes(b"x" * 1229)
    for restart in (False, True):
        app = make_app(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda app=app: mail in app.store.conversations, pilot=pilot)
            await pilot.pause()
            screen = app.workspace
            screen.action_view("everyone")
            assert screen.queue.select_id(mail)
            await pilot.press("enter")
            await wait_for(lambda screen=screen: screen.open_id == mail, pilot=pilot)
            composer = screen.query_one(Composer)
            if not restart:
                await pilot.press("r", *"Attached.", "ctrl+t", *str(invoice), "enter")
                await wait_for(
                    lambda app=app: (d := app.load_draft(mail)) is not None and bool(d.attachments), pilot=pilot
                )
                await pilot.press("escape")
                continue
            await pilot.press("r")
            assert composer.text_area.text == "Attached."
            assert [a.filename for a in composer.outgoing().attachments] == ["invoice.txt"]
            assert "invoice.txt (1.2 KB)" in str(composer.query_one("#composer-attachments", Label).render())
