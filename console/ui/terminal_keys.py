"""alt+N and alt+enter from terminals that send them as ESC + key (xterm, tmux, screen, most SSH sessions).

Terminals that speak the kitty keyboard protocol (kitty, foot, WezTerm, ghostty) report alt+1 as one
unambiguous sequence, and Textual reads it. The others send ESC then the key, and Textual 8's parser reads
ESC 1 as `¡` (a macOS Option-key table) and ESC CR as a plain enter: alt+1 did nothing, and alt+enter
(documented as "new line" in a chat) sent the half-typed message. Worse, when more keys follow in the same
read, it keeps ESC waiting for the rest of a sequence that never comes and turns the burst into garbage.

This parser reads the two-character sequences itself:
- ESC + digit is alt+digit, ESC + CR (or LF) is alt+enter;
- ESC + any other printable character (that does not start a longer sequence) is esc, then that key: a
  fast typist's esc then `/` opens the filter. The console binds no alt+letter, so nothing is lost.
Everything else is Textual's own parsing. The console's driver uses it (see `install`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser
from textual.message import Message

ESC = "\x1b"
# After ESC these begin longer sequences (CSI, SS3, DCS, OSC, APC, PM, SOS): never read as esc + key.
SEQUENCE_STARTS = frozenset("[OP]_^X")


class KeysRead:
    """When the terminal last sent keys, written by the driver's input thread as it reads them.

    Work that runs in slices on the interpreter that draws (a filter pass over 100k rows) steps aside
    while a key read is on its way to its handler: a key crosses a few turns of the event loop, and a
    2 ms slice in each turn made a letter typed in the prompt wait 6 ms before the app even saw it."""

    def __init__(self) -> None:
        self.at = 0.0  # time.monotonic(); one float, assigned whole: safe to read from another thread

    def within(self, seconds: float) -> bool:
        return time.monotonic() - self.at < seconds


KEYS_READ = KeysRead()


class EscPrefixParser(XTermParser):
    def feed(self, data: str) -> Iterable[Message]:
        if data:
            KEYS_READ.at = time.monotonic()
        return super().feed(data)

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if len(sequence) == 2 and sequence[0] == ESC:
            second = sequence[1]
            if second in "\r\n":
                yield events.Key("alt+enter", None)
                return
            if second.isdigit():
                yield events.Key(f"alt+{second}", None)
                return
            if second.isprintable() and second not in SEQUENCE_STARTS and sequence not in ANSI_SEQUENCES_KEYS:
                yield events.Key("escape", ESC)
                yield from super()._sequence_to_key_events(second)
                return
        yield from super()._sequence_to_key_events(sequence, alt)


def install() -> None:
    """Make Textual's Linux driver read keys with `EscPrefixParser` (it builds its parser by this name)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = EscPrefixParser  # type: ignore[misc]
