"""The timeline typed ahead on a real pty: `T`, `k`, enter and `X` in one burst. The keys after `T` must wait
until the thread shows: `k` then moves to the line above the newest (the refund's reply, interleaved after the
call), enter opens that solved mail and `X` reopens it, instead of the keys falling into the queue."""

from __future__ import annotations

import time
from pathlib import Path

from pty_console import PtyConsole, wait
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Customer, Direction, State


def test_t_k_enter_x_at_once_reopen_the_mail_above_the_newest_line(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    now = time.time()
    day = 86_400
    ws = Workspace(db)
    anna = Customer("c-anna", "Anna Müller", "de", email="anna@example.com")
    refund = ws.create_conversation(
        channel=Channel.EMAIL, customer=anna, subject="Erstattung 1042", created_at=now - 30 * day
    )
    ws.add_message(
        refund, direction=Direction.INBOUND, body="Wann kommt das Geld?", created_at=now - 30 * day
    )
    call = ws.create_conversation(
        channel=Channel.PHONE, customer=anna, subject="Rückruf Zahlung", created_at=now - 10 * day
    )
    ws.update_conversation(call, state=State.DONE, closed_at=now - 10 * day + 300)
    ws.add_message(
        refund,
        direction=Direction.OUTBOUND,
        body="Das Geld ist unterwegs.",
        author="alice",
        created_at=now - 5 * day,
    )
    ws.update_conversation(refund, state=State.SOLVED, closed_at=now - 5 * day)
    chat = ws.create_conversation(
        channel=Channel.CHAT, customer=anna, subject="Paket verloren", created_at=now - 60
    )
    ws.add_message(chat, direction=Direction.INBOUND, body="Wo ist mein Paket?", created_at=now - 60)
    ws.close()
    console = PtyConsole(tmp_path, db, size=(120, 36))
    chat_state = [("waiting",)]
    try:
        console.read_until("Paket verloren")
        console.write("Tk\rX")  # the timeline, up one line, open it, reopen it: at once
        wait(
            lambda: console.query("SELECT state FROM conversations WHERE id = ?", refund) == [("open",)],
            15,
            "the mail above the newest line was not reopened",
        )
        time.sleep(0.3)
        assert console.query("SELECT state FROM conversations WHERE id = ?", chat) == chat_state
        assert console.query("SELECT state FROM conversations WHERE id = ?", call) == [("done",)]
    finally:
        console.close()
