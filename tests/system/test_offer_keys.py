"""Push mode: an offer that arrives while the agent types a reply never takes a letter of it.

The real console on a pty, `[routing] push = true`. The agent is typing a reply to John when a chat comes
in and is offered; the typing goes on without a pause. The whole reply must reach John, the chat must not
be accepted by a letter of it, and only ctrl+o (a key no typing produces) accepts it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from app_harness import Contact, seed
from pty_console import PtyConsole, local_id, wait
from standardiste.console.core.model import Channel

CONFIG = 'agent = "alice"\nundo_seconds = 0\nbell = false\n[routing]\npush = true\n'
REPLY = "Thank you for your patience: a new parcel leaves today, and we add a voucher as an apology."


def _assignee(console: PtyConsole, conversation: str) -> object:
    return console.query("SELECT assignee FROM conversations WHERE id = ?", local_id(conversation))[0][0]


def test_an_offer_arriving_mid_reply_takes_no_key_and_ctrl_o_accepts_it(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    (john,) = seed(
        db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600)], now=time.time()
    )
    with contextlib.closing(sqlite3.connect(db)) as connection, connection:  # John's email is alice's already
        connection.execute(
            "UPDATE conversations SET assignee = 'alice', state = 'open' WHERE id = ?", (local_id(john),)
        )
    console = PtyConsole(tmp_path, db, config=CONFIG)
    try:
        console.read_until("Invoice request")
        console.write("\rr")
        console.read_until("Reply to the customer")
        half = len(REPLY) // 3
        console.type(REPLY[:half], 0.03)
        # A chat comes in now: the console offers it to alice (polled once a second) while she types on.
        [chat] = [c for c in seed_more(db) if c != john]
        mark = console.mark()
        console.type(REPLY[half:], 0.04)  # about 2.5 s of typing: the offer shows meanwhile
        assert _assignee(console, chat) is None  # no letter of the reply accepted it
        console.write("\x13")  # ctrl+s: an email
        wait(lambda: console.outbound() != [], 10, "the reply was not sent")
        assert console.outbound() == [(local_id(john), REPLY)]
        assert "ctrl+o accept" in console.shown_since(mark), "the offer was not shown while she typed"
        console.write("\x0f")  # ctrl+o
        wait(lambda: _assignee(console, chat) == "alice", 10, "ctrl+o did not accept the offer")
    finally:
        console.close()


def seed_more(db: Path) -> list[str]:
    """One more contact on the live workspace file, as another console or a channel would add it."""
    return seed(db, [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis perdu", age=1)], now=time.time())
