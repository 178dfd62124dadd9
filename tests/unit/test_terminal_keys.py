"""The console's key parser on what xterm, tmux and SSH sessions send: ESC-prefixed alt keys, and esc typed
fast before a key (EscPrefixParser, console/ui/terminal_keys.py), against Textual's own parser."""

from __future__ import annotations

import pytest
from standardiste.console.ui.terminal_keys import EscPrefixParser
from textual import events
from textual._xterm_parser import XTermParser  # Textual's parser is not public; EscPrefixParser extends it


def _keys(parser: XTermParser, data: str) -> list[str]:
    keys = [m.key for m in parser.feed(data) if isinstance(m, events.Key)]
    keys += [m.key for m in parser.tick() if isinstance(m, events.Key)]  # nothing is left waiting
    return keys


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("\x1b\r", ["alt+enter"]),  # alt+enter: Textual reads a plain enter (a chat reply sent)
        ("\x1b1", ["alt+1"]),  # alt+1: Textual reads `¡`
        ("\x1b9", ["alt+9"]),
        ("hi\x1b\rthere", ["h", "i", "alt+enter", "t", "h", "e", "r", "e"]),
        ("\x1b/Emma\r", ["escape", "slash", "E", "m", "m", "a", "enter"]),  # esc then the filter
        ("\x1bj", ["escape", "j"]),
    ],
)
def test_esc_prefixed_keys_in_one_read(sent: str, expected: list[str]) -> None:
    assert _keys(EscPrefixParser(), sent) == expected


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("\x1b[A", ["up"]),
        ("\x1bOP", ["f1"]),
        ("\x1b[1;5C", ["ctrl+right"]),
        ("\x1b\x7f", ["ctrl+w"]),  # alt+backspace: Textual's word delete, kept
        ("a", ["a"]),
    ],
)
def test_real_sequences_read_as_textual_reads_them(sent: str, expected: list[str]) -> None:
    assert _keys(EscPrefixParser(), sent) == _keys(XTermParser(), sent) == expected


def test_textual_alone_gets_these_wrong() -> None:
    """Why the parser exists: what Textual 8 makes of the same bytes (if this changes, look again)."""
    assert _keys(XTermParser(), "\x1b1") != ["alt+1"]
    assert _keys(XTermParser(), "\x1b/Emma\r")[:2] != ["escape", "slash"]
