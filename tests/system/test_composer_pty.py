"""The email composer's fields typed at once on a real pty: tab moves to the next field even in a burst."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app_harness import Contact, seed
from pty_console import PtyConsole, local_id, wait
from standardiste.console.core.model import Channel

MAILS = [
    Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
    Contact(Channel.EMAIL, "Emma de Vries", "nl", "Bestelling wijzigen", age=300),
]


def test_fields_typed_in_one_burst_with_tab_and_shift_tab(tmp_path: Path) -> None:
    """r, tab, an extra To, tab, a Cc, tab tab, a subject, tab, the body, shift+tab tab, ctrl+s: all at once.
    Before, tab was "next activity": the letters after it went to the list, as commands."""
    db = tmp_path / "workspace.db"
    john, emma = seed(db, MAILS, now=time.time())
    console = PtyConsole(tmp_path, db, size=(140, 40))
    try:
        console.read_until("Invoice request")
        console.read_until("Bestelling wijzigen")
        console.write("\r")  # open John's email, the first row
        console.read_until("customer0@example.com")
        console.write("r\t, boss@example.com\tanna@example.com\t\tYour invoice\tHere it is\x1b[Z\t.\x13")
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        time.sleep(0.3)
        rows = console.query("SELECT conversation_id, body, email FROM messages WHERE direction = 'outbound'")
        assert [(int(r[0]), r[1]) for r in rows] == [(local_id(john), "Here it is.")]  # type: ignore[call-overload]
        headers = json.loads(str(rows[0][2]))
        assert headers["to"][-1] == "boss@example.com"
        assert headers["cc"] == ["anna@example.com"]
        assert headers["subject"] == "Your invoice"
        state = console.query("SELECT state, assignee FROM conversations WHERE id = ?", local_id(emma))
        assert state == [("new", None)]  # nothing typed landed on Emma
    finally:
        console.close()


def test_an_attachment_typed_in_the_same_burst(tmp_path: Path) -> None:
    """r, the body, ctrl+t, a path, enter, ctrl+s at once: the path goes to the prompt (not into the body)
    and the file with the reply."""
    db = tmp_path / "workspace.db"
    john, _ = seed(db, MAILS, now=time.time())
    invoice = tmp_path / "invoice.txt"
    invoice.write_bytes(b"x" * 363)
    console = PtyConsole(tmp_path, db, size=(140, 40))
    try:
        console.read_until("Invoice request")
        console.write("\r")
        console.read_until("customer0@example.com")
        console.write(f"rHere it is\x14{invoice}\r\x13")
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        time.sleep(0.3)
        rows = console.query(
            "SELECT conversation_id, body, attachments FROM messages WHERE direction = 'outbound'"
        )
        assert [(int(r[0]), r[1]) for r in rows] == [(local_id(john), "Here it is")]  # type: ignore[call-overload]
        assert [(a["filename"], a["size"]) for a in json.loads(str(rows[0][2]))] == [("invoice.txt", 363)]
    finally:
        console.close()
