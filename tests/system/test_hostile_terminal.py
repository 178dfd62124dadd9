"""The real console on a real pseudo-terminal, over a workspace full of hostile text: what reaches the terminal.

Pilot checks the cells a screen holds; this checks the bytes the terminal receives, where an escape sequence
would act: no window title, clipboard write, hyperlink, DCS, APC, terminal report request, 8-bit C1 control or
bidi override from the workspace ever gets there, while the payloads' visible text does (drawn as text).
"""

from __future__ import annotations

import time
from pathlib import Path

from hostile_workspace import CONFIG, seed_hostile
from pty_console import PtyConsole, wait

# Each would act on the terminal if written to it; none of them is ever written by the console itself.
SEQUENCES = {
    b"\x1b]0;": "window title (OSC 0)",
    b"\x1b]52;": "clipboard write (OSC 52)",
    b"\x1b]8;;http://evil": "hyperlink (OSC 8)",
    b"\x1bP+q": "DCS request",
    b"\x1b_G": "kitty graphics (APC)",
    b"\x1b[6n": "cursor position report request",
    b"\xc2\x9b": "8-bit CSI",
    b"\xc2\x9d": "8-bit OSC",
    "\u202e".encode(): "bidi override",
    b"pwned": "the title payload",
    b"cHduZWQ=": "the clipboard payload",
}


def test_no_hostile_sequence_reaches_the_terminal(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed_hostile(db)
    console = PtyConsole(tmp_path, db, config=CONFIG)
    try:
        console.read_until("subject", timeout=30)
        for keys in ("6", "\r", "j\r", "j\r", "jj\r", "t", "\x1b", "P", "\x1b", "W"):
            console.write(keys)
            time.sleep(0.4)  # an ESC followed at once by a key would read as alt+key
        wait(lambda: "Agents" in console.screen_text(), 15, "the wallboard never showed")
        time.sleep(1.0)
        assert console.process.poll() is None, "the console stopped"
    finally:
        console.close()
    written = console.everything()
    found = [what for sequence, what in SEQUENCES.items() if sequence in written]
    assert found == []
    # The markup payloads were drawn literally (as text), not swallowed.
    assert b"[/bold]" in written


def test_textual_itself_writes_none_of_these_sequences(tmp_path: Path) -> None:
    """The check above means something only if the console's own output never holds these bytes."""
    db = tmp_path / "workspace.db"
    from app_harness import seed

    seed(db)
    console = PtyConsole(tmp_path, db, config='agent = "alice"\nbell = false\n')
    try:
        console.read_until("Paket", timeout=30)
        console.write("6")
        time.sleep(0.3)
        console.write("\r")
        time.sleep(1.0)
    finally:
        console.close()
    written = console.everything()
    assert [what for sequence, what in SEQUENCES.items() if sequence in written] == []
