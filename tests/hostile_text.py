"""Hostile strings for every field outside text can reach, and the check that a screen drew none of them.

Each payload is something a customer, a helpdesk integration or a scenario file can write: Rich/Textual markup
that crashes (`[/bold]`), links or actions (`[link=…]`, `[@click=…]`), and terminal sequences that retitle the
window, write the clipboard, plant a hyperlink, clear the screen, ask the terminal to answer (a report request
types into the console), or reorder the line (bidi overrides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.segment import Segment

MARKUP = [
    "Ann [/bold] Smith",
    "[link='http://evil.example/']click me[/link]",
    "[@click=app.quit]press[/]",
    "[b]loud[/b] [red on white]x",
    "[/]",
]
TERMINAL = [
    "title\x1b]0;pwned\x07",
    "clip\x1b]52;c;cHduZWQ=\x07",
    "link\x1b]8;;http://evil.example/\x1b\\here\x1b]8;;\x1b\\",
    "clear\x1b[2J\x1b[H",
    "dcs\x1bP+q544e\x1b\\",
    "report\x1b[6n\x1b[c",
    "kitty\x1b_Gf=100;AAAA\x1b\\",
    "c1\x9b31m\x9d0;t\x9c",
    "nul\x00del\x7f",
    "bidi\u202eevil\u202c",
    "cr\rover",
]
ALL = MARKUP + TERMINAL


def hostile(index: int, label: str = "") -> str:
    """A different mix of payloads per field (short enough to be drawn, not cut off)."""
    first = ALL[index % len(ALL)]
    second = ALL[(index * 7 + 3) % len(ALL)]
    return f"{label}{first} {second}"


# What may never reach the screen's cells: C0 (but none is drawn anyway), DEL, C1, bidi overrides.
FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def screen_problems(strips: Iterable[Iterable[Segment]]) -> list[str]:
    """Control characters, live links and click actions in what a screen drew."""
    problems: list[str] = []
    for y, strip in enumerate(strips):
        for segment in strip:
            if segment.control:
                continue
            if FORBIDDEN.search(segment.text):
                problems.append(f"line {y}: control or bidi character in {segment.text!r}")
            style = segment.style
            if style is not None:
                if style.link:
                    problems.append(f"line {y}: a link to {style.link!r} on {segment.text!r}")
                meta = style.meta or {}
                if "@click" in meta:
                    problems.append(f"line {y}: an action {meta!r} on {segment.text!r}")
    return problems
