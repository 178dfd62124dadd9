"""The top line: who I am and my presence, my queue per channel, the longest live wait, backend trouble,
and what the outbox has not delivered yet ("2 unsent": queued, retrying, failed or waiting for a workspace).

It reads counts from the views (kept current incrementally), never by scanning the store: at 100k
conversations a scan per second would cost more than everything else on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from ..backends.base import LinkState
from ..console.core.model import Presence
from ..console.core.sla import format_duration
from ..console.core.store import Store
from ..console.core.views import ViewSet
from .steady_static import SteadyLine

PRESENCE_MARK = {
    Presence.AVAILABLE: "● available",
    Presence.BUSY: "◐ busy",
    Presence.AWAY: "○ away",
    Presence.WRAP_UP: "◑ wrap-up",
    Presence.OFFLINE: "× offline",
}
# (view name, mark): the shape tells the channel, as in the queue's rows.
COUNTED_VIEWS: tuple[tuple[str, str], ...] = (
    ("phone", "☎"),
    ("chat", "◆"),
    ("email", "✉"),
    ("callbacks", "↺"),
)


def unsent_summary(entries: Sequence[Any], outbox: Any) -> Text | None:
    """ "3 unsent: 1 failed, 1 for another workspace, 1 retrying" for the outbox's listed entries (None: all
    sent). Counts only: subjects and errors are in the outbox view."""
    if not entries:
        return None
    from ..console.core.outbox import EntryState

    failed = sum(1 for e in entries if e.state is EntryState.FAILED)
    elsewhere = sum(1 for e in entries if outbox.waiting_for_workspace(e))
    retrying = sum(
        1 for e in entries if e.state is EntryState.RETRYING and not outbox.waiting_for_workspace(e)
    )
    parts = [
        f"{n} {what}"
        for n, what in ((failed, "failed"), (elsewhere, "for another workspace"), (retrying, "retrying"))
        if n
    ]
    text = Text(f"✉ {len(entries)} unsent", style="bold reverse" if failed or retrying else "bold")
    if parts:
        text.append(": " + ", ".join(parts), style="bold")
    elsewhere_delivered = sum(
        1
        for e in entries
        if e.state is not EntryState.FAILED and not outbox.delivers(e) and not outbox.waiting_for_workspace(e)
    )
    if elsewhere_delivered:
        text.append(f" ({elsewhere_delivered} sent by your other console)")
    return text


class StatusBar(SteadyLine):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    StatusBar.-trouble { background: $error 40%; }
    """

    def show(self, store: Store, me: str | None, now: float, views: ViewSet) -> None:
        agent = store.agents.get(me) if me else None
        text = Text(no_wrap=True, overflow="ellipsis")
        if agent is not None:
            reason = f" ({agent.presence_reason})" if agent.presence_reason else ""
            text.append(f"{agent.name}: ", style="bold")
            text.append(PRESENCE_MARK[agent.presence] + reason, style="bold")
        else:
            text.append(me or "?", style="bold")
        text.append("  │ ")
        for name, mark in COUNTED_VIEWS:
            count = len(views[name])
            text.append(f"{mark} {count}  ", style="bold" if count else "dim")
        longest = views.longest_live_wait(now)
        text.append("│ max wait ")
        text.append(format_duration(longest), style="bold reverse" if longest > 60 else "bold")
        # Before the link trouble: the line is cut at the right, and an unsent reply must stay in view.
        outbox = getattr(self.app, "outbox", None)
        unsent = unsent_summary(outbox.pending(), outbox) if outbox is not None else None
        if unsent is not None:
            text.append("  │ ")
            text.append_text(unsent)
        # Before the links too: a write that fails for lack of space is kept in memory, and must be seen.
        storage = getattr(self.app, "storage", None)
        storage_text = storage.summary() if storage is not None else ""
        if storage_text:
            text.append(f"  │ {storage_text}", style="bold reverse")
        trouble = [s for s in store.links.values() if s.state is not LinkState.CONNECTED]
        for status in trouble:
            retry = f", retrying in {status.retry_in:.0f}s" if status.retry_in else ""
            if status.state is LinkState.CONNECTING:
                what = f"connecting: {status.detail}" if status.detail else "connecting"
            else:
                what = f"cannot reach: {status.detail}"
            text.append(f"  │ ⚠ {status.backend}: {what}{retry}", style="bold")
        self.set_class(bool(storage_text) or any(s.state is LinkState.DOWN for s in trouble), "-trouble")
        self.update(text)
