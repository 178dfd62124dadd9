"""The top line: who I am and my presence, counts per channel, the longest wait, and backend trouble."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..backends.base import LinkState
from ..console.model import Channel, Presence
from ..console.sla import format_duration
from ..console.store import Store

PRESENCE_MARK = {
    Presence.AVAILABLE: "● available",
    Presence.BUSY: "◐ busy",
    Presence.AWAY: "○ away",
    Presence.WRAP_UP: "◑ wrap-up",
    Presence.OFFLINE: "× offline",
}
SHORT = {
    Channel.PHONE: "☎",
    Channel.CHAT: "◆",
    Channel.EMAIL: "✉",
    Channel.CALLBACK: "↺",
    Channel.FORM: "▤",
    Channel.SOCIAL: "#",
}


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    StatusBar.-trouble { background: $error 40%; }
    """

    def show(self, store: Store, me: str | None, now: float) -> None:
        agent = store.agents.get(me) if me else None
        text = Text(no_wrap=True, overflow="ellipsis")
        if agent is not None:
            reason = f" ({agent.presence_reason})" if agent.presence_reason else ""
            text.append(f"{agent.name}: ", style="bold")
            text.append(PRESENCE_MARK[agent.presence] + reason, style="bold")
        else:
            text.append(me or "?", style="bold")
        counts = dict.fromkeys(Channel, 0)
        longest = 0.0
        for c in store.conversations.values():
            if c.is_waiting and c.assignee in (None, me):
                counts[c.channel] += 1
                if c.channel.is_live:
                    longest = max(longest, now - c.created_at)
        text.append("  │ ")
        for channel in Channel:
            text.append(f"{SHORT[channel]} {counts[channel]}  ", style="bold" if counts[channel] else "dim")
        text.append("│ max wait ")
        text.append(format_duration(longest), style="bold reverse" if longest > 60 else "bold")
        trouble = [s for s in store.links.values() if s.state is not LinkState.CONNECTED]
        for status in trouble:
            retry = f", retrying in {status.retry_in:.0f}s" if status.retry_in else ""
            what = "connecting" if status.state is LinkState.CONNECTING else f"cannot reach: {status.detail}"
            text.append(f"  │ ⚠ {status.backend}: {what}{retry}", style="bold")
        self.set_class(any(s.state is LinkState.DOWN for s in trouble), "-trouble")
        self.update(text)
