"""What quitting now would cut off, said in a few words for the confirmation ("2 live chats, 1 reply in its
undo window"). Pure: the app asks it with its store's conversations and the outbox entries still held.

Cut off: a live chat (its customer waits on an agent who left), a call in progress, and every send held in
its undo window (without the flush that follows a "yes" it would wait for the next start, maybe tomorrow).
Drafts and the outbox's retries are not: they are on disk and carry on at the next start; except drafts a
full disk kept in memory (console/core/unwritten.py), which quitting would lose.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding

from ...backends.base import CommandKind
from ..core.model import Channel, Conversation, State
from .dialogs import ConfirmDialog

_LIVE_CHAT = frozenset({State.WAITING, State.ACTIVE})
_ON_A_CALL = frozenset({State.CONNECTED, State.ON_HOLD})
# How a held command is named; anything else is "change".
_NAMES = {CommandKind.REPLY: ("reply", "replies"), CommandKind.NOTE: ("note", "notes")}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def cut_off(
    conversations: Iterable[Conversation], me: str, held: Iterable[CommandKind], unsaved_drafts: int = 0
) -> str:
    """What would be cut off, e.g. "2 live chats, 1 reply in its undo window"; "" when nothing would."""
    chats = calls = 0
    for c in conversations:
        if c.assignee != me:
            continue
        if c.channel is Channel.CHAT and c.state in _LIVE_CHAT:
            chats += 1
        elif c.channel is Channel.PHONE and c.state in _ON_A_CALL:
            calls += 1
    parts = []
    if chats:
        parts.append(_count(chats, "live chat", "live chats"))
    if calls:
        parts.append(_count(calls, "call in progress", "calls in progress"))
    kinds: dict[tuple[str, str], int] = {}
    for kind in held:
        names = _NAMES.get(kind, ("change", "changes"))
        kinds[names] = kinds.get(names, 0) + 1
    for (one, many), n in kinds.items():
        parts.append(f"{_count(n, one, many)} in {'its' if n == 1 else 'their'} undo window")
    if unsaved_drafts:  # a full disk kept them in memory: quitting loses them
        parts.append(_count(unsaved_drafts, "draft not saved", "drafts not saved"))
    return ", ".join(parts)


class QuitDialog(ConfirmDialog):
    """The confirmation; the quit keys pressed again mean yes (a modal screen hides the app's bindings)."""

    DEFAULT_CSS = ConfirmDialog.DEFAULT_CSS.replace("ConfirmDialog", "QuitDialog")
    BINDINGS = [Binding("ctrl+q,ctrl+c", "answer(True)", "Quit", id="dialog.quit")]


__all__ = ["QuitDialog", "cut_off"]
