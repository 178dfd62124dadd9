"""The same agent in two consoles: one outbox, one console delivering it, nothing sent twice or lost.

Two real console processes (each on its own pty) of agent alice share her data dir, so her outbox journal
and her drafts file. The first one started delivers (it holds the workspace's lock); the second journals into
the same file, with the undo window, and takes over when the first dies. A reply sent from the second is
delivered once, by the first, after the undo window; a reply held in the first's undo window when it is
killed is delivered once, by the second.

The drafts side (a reply sent from one console cannot come back as a draft in the other) is tested on the
drafts file from two processes' worth of `Drafts` below.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from pathlib import Path

import pytest
from app_harness import Contact, seed
from standardiste.console.core.drafts import AlreadySent, Drafts
from test_console_crash import Console, _wait

CONFIG = 'agent = "alice"\nundo_seconds = 2\nbell = false\n'


def _outbound(db: Path, cid: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND direction = 'outbound' ORDER BY id",
            (int(cid.split(":")[1]),),
        ).fetchall()
    return [r[0] for r in rows]


def _journal(data: Path) -> list[tuple[str, str]]:
    path = data / "outbox-alice.db"
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute(
            "SELECT conversation_id, state FROM entries WHERE kind = 'reply'"
        ).fetchall()


def _draft(data: Path, cid: str) -> str | None:
    path = data / "drafts-alice.db"
    if not path.exists():
        return None
    with contextlib.closing(sqlite3.connect(path)) as connection:
        row = connection.execute("SELECT body FROM drafts WHERE conversation_id = ?", (cid,)).fetchone()
    return row[0] if row else None


def _lock_held(data: Path) -> bool:
    """A console delivers the workspace: its lock cannot be taken (the test's own try is released at once)."""
    for path in data.glob("outbox-alice.db.*.lock"):
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
    return False


def _reply(console: Console, data: Path, cid: str, subject: str, body: str) -> None:
    console.type("/")
    time.sleep(0.3)
    console.type(subject)
    time.sleep(0.3)
    console.type("\r")  # the filter stays, the prompt closes
    time.sleep(0.3)
    console.type("\r")  # open the one row
    time.sleep(0.4)
    console.type("r")
    console.type(body, pause=0.02)
    _wait(lambda: _draft(data, cid) == body)
    console.type("\x13")  # ctrl+s


@pytest.mark.timeout(120)
async def test_two_consoles_of_one_agent_send_each_reply_once(tmp_path: Path) -> None:
    from standardiste.console.core.model import Channel

    db = tmp_path / "workspace.db"
    data = tmp_path / "data"
    john, anna = seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
            Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300),
        ],
    )
    (tmp_path / "config.toml").write_text(CONFIG)
    first = Console(tmp_path, db)
    second: Console | None = None
    try:
        first.read_until(b"Invoice request")
        _wait(lambda: _lock_held(data))  # the first console owns the outbox
        second = Console(tmp_path, db)
        second.read_until(b"Invoice request")
        time.sleep(1.0)

        # From the second console: journalled (not sent past the outbox), held for its undo window, then
        # delivered by the first.
        _reply(second, data, john, "Invoice", "From the second console")
        _wait(lambda: _journal(data) == [(john, "scheduled")])
        time.sleep(1.0)
        assert _outbound(db, john) == []  # the undo window holds in the second console too
        _wait(lambda: _outbound(db, john) == ["From the second console"])
        assert _draft(data, john) is None

        # From the first console, killed inside the undo window: the second takes over and delivers it.
        _reply(first, data, anna, "Rechnung", "From the first console")
        _wait(lambda: (anna, "scheduled") in _journal(data))
        first.kill()
        _wait(lambda: _outbound(db, anna) == ["From the first console"], timeout=15)
        time.sleep(2.0)  # time for anything to go out twice
    finally:
        with contextlib.suppress(Exception):
            first.kill()
        if second is not None:
            second.kill()
    assert _outbound(db, john) == ["From the second console"]
    assert _outbound(db, anna) == ["From the first console"]
    assert sorted(_journal(data)) == sorted([(john, "done"), (anna, "done")])


def test_a_reply_sent_from_one_console_cannot_come_back_as_a_draft_in_the_other(tmp_path: Path) -> None:
    """Both consoles' composers held the same draft (key k1); the first sends it. The second's next save of
    that draft is refused (it would revive a sent reply), and neither offers it again."""
    path = tmp_path / "drafts-alice.db"
    with Drafts(path) as first, Drafts(path) as second:
        first.save("local:1", "Dear John", key="k1")
        assert second.load("local:1") is not None  # the second console restored the same draft
        first.discard("local:1", key="k1")  # the first journalled it: its draft goes
        with pytest.raises(AlreadySent):
            second.save("local:1", "Dear John", key="k1")  # the second's debounced save, too late
        assert first.load("local:1") is None and second.load("local:1") is None
        second.save("local:1", "Dear John, and one more thing", key="k2")  # a new reply is the agent's own
        assert first.load("local:1").body == "Dear John, and one more thing"  # type: ignore[union-attr]
