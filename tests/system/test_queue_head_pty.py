"""The first screenful before the rest (issues 16 and 17), in the real console on a pty: the queue's head is
drawn while the snapshot of 60,000 conversations is still read, in the order the whole queue has, and keys
typed on it act on the rows the agent saw."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from app_harness import Contact, seed
from pty_console import PtyConsole, local_id, wait
from standardiste.console.core.model import Channel

JOHN_EMMA = [
    Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
    Contact(Channel.EMAIL, "Emma de Vries", "nl", "Bestelling wijzigen", age=300),
]
FILLER = 60_000


def _fill_after(db: Path, count: int) -> None:
    """`count` open emails that sort after John's and Emma's (newer, no deadline sooner)."""
    now = time.time()
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO conversations (channel, state, subject, customer_id, customer_name, language, queue, "
            "priority, tags, created_at, updated_at, last_customer_at) "
            "VALUES ('email', 'new', 'Parcel question', ?, 'Filler Person', 'fi', 'general', 0, '', ?, ?, ?)",
            [(f"filler-{i}", now - 60 + i / 1e3, now, now) for i in range(count)],
        )


def test_keys_typed_on_the_head_act_on_the_rows_it_showed(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    _john, emma = seed(db, JOHN_EMMA, now=time.time())
    _fill_after(db, FILLER)
    console = PtyConsole(tmp_path, db, size=(140, 40))
    try:
        # The view bar's `1/200+`: the head is on screen, the rest is still being read.
        console.read_until("/200+ ", timeout=60)
        head = console.screen_text()
        console.write("j\rrHello Emma, from the head\x13")  # row 2, open, reply, send: typed at once
        wait(lambda: console.outbound() != [], 60, "no reply was sent")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(emma), "Hello Emma, from the head")]
        shown = head[head.index("/200+ ") :]
        # In the order of the whole queue, and not a row of the rest in between.
        assert (
            shown.index("Invoice request")
            < shown.index("Bestelling wijzigen")
            < shown.index("Parcel question")
        )
        assert not re.search(rf"All {FILLER + 2}\b", head)
    finally:
        console.close()
