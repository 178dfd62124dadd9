"""Search typed ahead on a real pty: ctrl+f and the words in one burst, then enter and X in one burst. X must
reopen the old result enter opened (outside every view), not the row the queue's cursor is on."""

from __future__ import annotations

import time
from pathlib import Path

from pty_console import PtyConsole, wait
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Customer, Direction, State


def test_ctrl_f_words_then_enter_and_x_at_once_reopen_the_found_mail(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    now = time.time()
    ws = Workspace(db)
    anna = Customer("c-anna", "Anna Müller", "de", email="anna@example.com")
    today = ws.create_conversation(channel=Channel.EMAIL, customer=anna, subject="Paket nicht angekommen")
    ws.add_message(today, direction=Direction.INBOUND, body="Wo ist mein Paket?")
    old = ws.create_conversation(
        channel=Channel.EMAIL,
        customer=anna,
        subject="Erstattung Bestellung 1042",
        created_at=now - 30 * 86400,
    )
    ws.add_message(old, direction=Direction.INBOUND, body="Wann kommt das Geld?", created_at=now - 30 * 86400)
    ws.update_conversation(old, state=State.SOLVED, closed_at=now - 29 * 86400)
    ws.close()
    console = PtyConsole(tmp_path, db, size=(120, 36))
    try:
        console.read_until("Paket nicht angekommen")
        console.write("\x06erstatt")  # ctrl+f and the words, at once
        console.read_until("1 found")
        console.write("\rX")  # open it, and reopen it, at once
        wait(
            lambda: console.query("SELECT state FROM conversations WHERE id = ?", old) == [("open",)],
            15,
            "the found mail was not reopened",
        )
        time.sleep(0.3)
        assert console.query("SELECT state FROM conversations WHERE id = ?", today) == [("new",)]
    finally:
        console.close()
