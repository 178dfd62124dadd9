"""One "Incoming call" toast for every call ringing for me: replaced as calls come, never stacked (a toast
per call covered the composer at the bottom of the screen)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App

from ..core.model import Agent, Channel, Conversation, State
from ..core.sanitize import sanitize

RING_TITLE = "Incoming call"
NAMED = 2  # callers named in a toast for several calls; the others are counted


def ringing_for(conversations: Iterable[Conversation], me: Agent) -> list[Conversation]:
    """The calls ringing now that I could answer (mine or nobody's, in a language I speak), oldest first."""
    return sorted(
        (
            c
            for c in conversations
            if c.channel is Channel.PHONE
            and c.state is State.RINGING
            and c.assignee in (None, me.id)
            and me.skills.covers(Channel.PHONE, c.language)
        ),
        key=lambda c: c.created_at,
    )


def ring_text(calls: list[Conversation]) -> str:
    def caller(call: Conversation) -> str:
        return f"{sanitize(call.customer_name, single_line=True)} ({call.language.upper()})"

    if len(calls) == 1:
        call = calls[0]
        name = sanitize(call.customer_name, single_line=True)
        return f"☎ {name} is calling ({call.language.upper()}): press n or a"
    names = ", ".join(caller(c) for c in calls[:NAMED])
    more = f" and {len(calls) - NAMED} more" if len(calls) > NAMED else ""
    return f"☎ {len(calls)} calls ringing: {names}{more}. n takes the first"


def show_ring(app: App[object], calls: list[Conversation], *, timeout: float = 4.0) -> None:
    """Say the ringing calls in one toast, in place of the one shown before."""
    # Textual has no public "replace this toast": its collection is removed from by notification.
    for notification in [n for n in app._notifications if n.title == RING_TITLE]:
        app._unnotify(notification, refresh=False)
    app.notify(ring_text(calls), title=RING_TITLE, timeout=timeout)
