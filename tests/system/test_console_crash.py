"""The real console, in a real pseudo-terminal, killed with SIGKILL: the draft and the queued reply survive.

The console runs as a separate process (`python -m standardiste`) on a workspace file; the test types into
it through the pty, kills it, then starts the console again and checks the draft is back and the reply
was sent exactly once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from app_harness import A_DUPLICATE_WOULD_SHOW, Contact, make_app, seed, stays, wait_for
from pty_console import PtyConsole
from standardiste.console.core.model import Channel
from standardiste.widgets.composer import Composer


class Console(PtyConsole):
    """The console on a pty (tests/pty_console.py), with the config.toml the test wrote in `tmp`, typed into
    key by key and killed with SIGKILL."""

    def __init__(self, tmp: Path, db: Path) -> None:
        super().__init__(tmp, db, config=None)

    def read_until(self, marker: bytes, timeout: float = 30.0) -> None:  # type: ignore[override]
        _wait(lambda: marker in self.output, timeout)

    def type(self, text: str, pause: float = 0.05) -> None:  # type: ignore[override]
        for char in text:
            self.write(char)
            time.sleep(pause)

    def kill(self) -> None:
        self.close()


def _wait(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _draft(tmp: Path, conversation_id: str) -> str | None:
    path = tmp / "data" / "drafts-alice.db"
    if not path.exists():
        return None
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT body FROM drafts WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
    return row[0] if row else None


def _journalled(tmp: Path) -> int:
    path = tmp / "data" / "outbox-alice.db"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM entries").fetchone()[0])


def _outbound(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return [r[0] for r in connection.execute("SELECT body FROM messages WHERE direction = 'outbound'")]


async def test_a_draft_and_a_queued_reply_survive_a_killed_console(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    mail, _ = seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
            Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300),
        ],
    )
    (tmp_path / "config.toml").write_text('agent = "alice"\nundo_seconds = 3\nbell = false\n')
    console = Console(tmp_path, db)
    try:
        console.read_until(b"Invoice request")
        console.type("\r")  # open the first email (John's: the older SLA deadline)
        console.type("r")
        console.type("Dear John, the invoice is attached")
        # Saved 0.3 s after the last key; on a loaded machine the console may take longer to get there.
        _wait(lambda: _draft(tmp_path, mail) == "Dear John, the invoice is attached")
        console.type("\x1b")  # leave the composer, draft kept
        time.sleep(0.3)  # an ESC followed at once by a key would read as alt+key
        console.type("j\r")  # the second email: reply and send; it waits 3 s for a possible undo
        console.type("r")
        console.type("Guten Tag")
        console.type("\x13")  # ctrl+s
        _wait(lambda: _journalled(tmp_path) == 1)
    finally:
        console.kill()  # inside the undo window: the reply is journalled, not sent
    assert _outbound(db) == []
    assert _draft(tmp_path, mail) == "Dear John, the invoice is attached"

    # Start again: the outbox sends the journalled reply once, and the draft is back in the composer.
    app = make_app(tmp_path, config_text='agent = "alice"\nundo_seconds = 3\nbell = false\n')
    app.drafts_path = tmp_path / "data" / "drafts-alice.db"
    app.outbox_path = tmp_path / "data" / "outbox-alice.db"
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(lambda: mail in app.store.conversations, pilot=pilot)
        await wait_for(lambda: _outbound(db) == ["Guten Tag"], timeout=10, pilot=pilot)
        app.workspace.action_view("everyone")
        app.workspace.queue.select_id(mail)
        await pilot.press("enter", "r")
        composer = app.workspace.query_one(Composer)
        assert composer.text_area.text == "Dear John, the invoice is attached"
        await stays(lambda: _outbound(db) == ["Guten Tag"], A_DUPLICATE_WOULD_SHOW, pilot)  # once
