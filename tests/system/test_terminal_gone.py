"""A console whose terminal closes (lost SSH, a killed terminal or tmux window) leaves, signed off.

Before, reads of the hung-up pty returned end-of-file at once and Textual's input thread read again in a busy
loop: the console spun at 100% CPU for ever and its heartbeat kept the agent available to routing.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from app_harness import seed
from pty_console import PtyConsole, wait


def test_a_closed_terminal_ends_the_console_and_signs_the_agent_off(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(db)
    console = PtyConsole(tmp_path, db, env={"STANDARDISTE_LOG": str(tmp_path / "log" / "standardiste.log")})
    try:
        console.read_until("Paket")
        wait(lambda: console.query("SELECT presence FROM agents WHERE id = 'alice'") != [], 10, "alice never joined")
        console.write("P")
        time.sleep(0.3)
        console.write("1")  # available: the state a lost terminal must not leave behind
        wait(
            lambda: console.query("SELECT presence FROM agents WHERE id = 'alice'") == [("available",)],
            10,
            "alice never became available",
        )
        os.close(console.master)  # the terminal goes away
        deadline = time.monotonic() + 10
        while console.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert console.process.poll() == 129, "the console did not leave when its terminal closed"
        assert console.query("SELECT presence FROM agents WHERE id = 'alice'") == [("offline",)]
        assert "the terminal is gone" in (tmp_path / "log" / "standardiste.log").read_text("utf-8")
    finally:
        with contextlib.suppress(OSError):
            console.close()
