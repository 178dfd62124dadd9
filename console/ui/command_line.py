"""The `:` command line's one vocabulary: every word it runs besides the actions (console/ui/actions.py) is
listed here with what it takes, and tab completion is derived from the same list, so completion never offers
a line the console cannot run and a new word cannot be forgotten by one of them (tests/ui/test_command_line.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ...themes import SHORT_NAMES
from ..core.config import Config
from ..core.presence import choices as presence_choices
from ..core.views import VIEW_SCOPES
from .actions import ACTIONS


@dataclass(frozen=True, slots=True)
class LineWord:
    name: str
    takes: str  # what follows the name, said when it is missing or wrong
    lines: Callable[[Config], Iterable[str]]  # the whole lines tab offers for it


WORDS: tuple[LineWord, ...] = (
    LineWord("view", "a view name", lambda _: [f"view {name}" for name in VIEW_SCOPES]),
    LineWord("theme", "a theme name", lambda _: [f"theme {name}" for name in SHORT_NAMES]),
    LineWord(
        "presence",
        "a presence and an optional reason",
        lambda config: [
            f"presence {c.presence.value} {c.reason}".strip() for c in presence_choices(config.presence)
        ],
    ),
    LineWord("priority", "low, normal, high or urgent", lambda _: [f"priority {p}" for p in ("low", "normal", "high", "urgent")]),
    LineWord("status", "pending, open or solved", lambda _: ["status pending", "status open", "status solved"]),
    LineWord("snooze", "a time span (30m, 2h, 1d)", lambda _: ["snooze 1h"]),
    LineWord("tag", "tags to add (+tag) or remove (-tag)", lambda _: ["tag "]),
    LineWord("transfer", "an agent or a queue", lambda _: ["transfer "]),
    LineWord("dtmf", "tones: 0-9 * # A-D, w / W a pause", lambda _: ["dtmf "]),
    LineWord("filter", "filter words (as after /)", lambda _: ["filter "]),
    LineWord("search", "words to search for (as in ctrl+f)", lambda _: ["search "]),
    LineWord("messages", "nothing", lambda _: ["messages"]),
    LineWord("quit", "nothing", lambda _: ["quit"]),
)
BY_WORD = {word.name: word for word in WORDS}


def completions(config: Config) -> list[str]:
    """Every line tab can offer: the actions by name, then each word's lines."""
    lines = [action.name for action in ACTIONS]
    for word in WORDS:
        lines += word.lines(config)
    return sorted(set(lines))


def split(line: str) -> tuple[str, list[str]] | None:
    """`Transfer  Sales` -> ("transfer", ["Sales"]): the word lower-cased, its arguments as typed."""
    words = line.strip().split()
    if not words:
        return None
    return words[0].lower(), words[1:]


__all__ = ["BY_WORD", "WORDS", "LineWord", "completions", "split"]
