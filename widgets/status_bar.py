"""The top line: who I am and my presence, my queue per channel, the longest live wait, backend trouble.

It reads counts from the views (kept current incrementally), never by scanning the store: at 100k
conversations a scan per second would cost more than everything else on screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..backends.base import LinkState
from ..console.model import Presence
from ..console.sla import format_duration
from ..console.store import Store
from ..console.views import ViewSet

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


class StatusBar(Static):
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
        trouble = [s for s in store.links.values() if s.state is not LinkState.CONNECTED]
        for status in trouble:
            retry = f", retrying in {status.retry_in:.0f}s" if status.retry_in else ""
            what = "connecting" if status.state is LinkState.CONNECTING else f"cannot reach: {status.detail}"
            text.append(f"  │ ⚠ {status.backend}: {what}{retry}", style="bold")
        self.set_class(any(s.state is LinkState.DOWN for s in trouble), "-trouble")
        self.update(text)
