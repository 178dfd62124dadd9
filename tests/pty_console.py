"""The real console (`python -m standardiste`) on a real pseudo-terminal, for tests of what keys do.

Keys are written as bytes, a whole sequence at once if asked, exactly as a terminal would send them to a
fast typist's console: nothing is paced by the test. What the keys did is read back from the workspace
file (SQLite), not from the screen. A thread drains the output all the time (a full pty buffer would block
the console's writes, and with them the console itself); `screen_text` gives it without escape sequences
for waiting on a marker.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
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

_CONTROL = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class PtyConsole:
    def __init__(
        self,
        tmp: Path,
        db: Path,
        *,
        config: str | None = 'agent = "alice"\nundo_seconds = 0\nbell = false\n',
        size: tuple[int, int] = (140, 40),
        env: dict[str, str] | None = None,
    ) -> None:
        if config is not None:  # None: the config.toml the test wrote in `tmp` already
            (tmp / "config.toml").write_text(config, encoding="utf-8")
        environment = dict(
            os.environ,
            TERM="xterm-256color",
            STANDARDISTE_CONFIG=str(tmp / "config.toml"),
            STANDARDISTE_DATA=str(tmp / "data"),
            **(env or {}),
        )
        master, slave = os.openpty()
        width, height = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "standardiste", "--db", str(db)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            start_new_session=True,
        )
        os.close(slave)
        self.db = db
        self.master = master
        self.output = b""
        self.written: list[bytes] = []  # every byte the console wrote, for tests of what reaches a terminal
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
                        self.output = (self.output + data)[-400_000:]
                        self.written.append(data)
            except OSError:
                return

    def everything(self) -> bytes:
        with self._lock:
            return b"".join(self.written)

    def screen_text(self) -> str:
        with self._lock:
            raw = self.output
        return _CONTROL.sub(b"", raw).decode("utf-8", "replace")

    def read_until(self, marker: str, timeout: float = 30.0) -> None:
        try:
            wait(lambda: marker in self.screen_text(), timeout, f"{marker!r} never shown")
        except AssertionError as error:  # what was on the screen instead says why
            raise AssertionError(f"{error}; the screen's last 1,500 characters:\n{self.screen_text()[-1500:]}") from None

    def mark(self) -> int:
        """Where the output is now: `shown_since` looks only at what was drawn after it."""
        with self._lock:
            return len(self.output)

    def shown_since(self, mark: int) -> str:
        with self._lock:
            raw = self.output[mark:] if mark <= len(self.output) else self.output
        return _CONTROL.sub(b"", raw).decode("utf-8", "replace")

    def write(self, keys: str | bytes) -> None:
        """The whole sequence in one write: the console reads it as one burst, as from a fast typist."""
        data = keys.encode() if isinstance(keys, str) else keys
        while data:
            written = os.write(self.master, data)
            data = data[written:]

    def type(self, keys: str, gap: float) -> None:
        """One key at a time, `gap` seconds apart: the rhythm of a fast typist rather than of a paste."""
        for key in keys:
            self.write(key)
            time.sleep(gap)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reader.join(timeout=2)
        with contextlib.suppress(OSError):
            os.close(self.master)

    # ------------------------------------------------------------------ the workspace file, read back

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with contextlib.closing(sqlite3.connect(self.db, timeout=5)) as connection:
            return list(connection.execute(sql, args))

    def outbound(self) -> list[tuple[int, str]]:
        """(conversation id, body) of every message an agent wrote to a customer."""
        rows = self.query(
            "SELECT conversation_id, body FROM messages WHERE direction = 'outbound' ORDER BY id"
        )
        return [(int(r[0]), str(r[1])) for r in rows]  # type: ignore[call-overload]

    def state(self, conversation: str) -> str:
        return str(self.query("SELECT state FROM conversations WHERE id = ?", local_id(conversation))[0][0])


def local_id(conversation: str) -> int:
    return int(conversation.rpartition(":")[2])


def wait(
    condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition not met in time"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.05)
