"""Accepting a chat opens its composer: what the agent types next is the reply (a real console on a pty).

Before, `a` answered the chat and left the keys on the list: "Bonjour" typed next ran `u` (release), `n`
(next) and `r`, and the customer got nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_harness import Contact, seed
from pty_console import PtyConsole, local_id, wait
from standardiste.console.core.model import Channel

CONFIG = 'agent = "alice"\nundo_seconds = 0\nbell = false\n[profile]\nlanguages = ["fr", "en"]\n' + (
    "channels = { phone = 2, chat = 2, email = 2 }\n"
)


@pytest.mark.parametrize("gap", [0.0, 0.02], ids=["burst", "typed"])
def test_a_then_text_answers_the_chat_customer(tmp_path: Path, gap: float) -> None:
    db = tmp_path / "workspace.db"
    [chat] = seed(db, [Contact(Channel.CHAT, "Jean Dupont", "fr", "Où est mon colis ?", age=20)], now=time.time())
    console = PtyConsole(tmp_path, db, config=CONFIG)
    try:
        console.read_until("Jean Dupont")
        console.write("\r")
        console.read_until("customer0@example.com")
        keys = "aBonjour Jean, je regarde\r"
        if gap:
            console.type(keys, gap)
        else:
            console.write(keys)
        wait(lambda: console.outbound() != [], 15, "no reply reached the customer")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(chat), "Bonjour Jean, je regarde")]
        assert console.query(
            "SELECT state, assignee FROM conversations WHERE id = ?", local_id(chat)
        ) == [("active", "alice")]
    finally:
        console.close()
