"""The real console, in a real pseudo-terminal, killed with SIGKILL: the draft and the queued reply survive.

The console runs as a separate process (`python -m standardiste`) on a workspace file; the test types into
it through the pty, kills it, then starts the console again and checks the draft is back and the reply
was sent exactly once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.model import Channel
from standardiste.widgets.composer import Composer


class Console:
    """The console on a pty. A thread drains its output all the time: a full pty buffer would block the
    console's writes, and with them the console itself."""

    def __init__(self, tmp: Path, db: Path) -> None:
        env = dict(
            os.environ,
            TERM="xterm-256color",
            STANDARDISTE_CONFIG=str(tmp / "config.toml"),
            STANDARDISTE_DATA=str(tmp / "data"),
        )
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "standardiste", "--db", str(db)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = b""
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if ready:
                    data = os.read(self.master, 65536)
                    if not data:
                        return
                    with self._lock:
                        self.output = (self.output + data)[-200_000:]
            except OSError:
                return

    def read_until(self, marker: bytes, timeout: float = 30.0) -> None:
        _wait(lambda: marker in self.output, timeout)

    def type(self, text: str, pause: float = 0.05) -> None:
        for char in text:
            os.write(self.master, char.encode())
            time.sleep(pause)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reader.join(timeout=2)
        os.close(self.master)


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
        await pilot.pause(1.0)
    assert _outbound(db) == ["Guten Tag"]  # once
