"""The head of the open conversation: channel and subject, state, queue, priority, owner, SLA, tags, who is
typing, and the other agents on it (a collision, highlighted)."""

from __future__ import annotations

from collections.abc import Iterable

from ..console.core.model import Agent, Conversation
from ..console.core.sanitize import sanitize
from ..console.core.sla import format_duration
from .queue_list import CHANNEL_LABEL
from .safe_text import safe_text
from .steady_static import SteadyStatic


def header_lines(
    conversation: Conversation,
    now: float,
    deadline: float | None,
    customer_typing: bool,
    others: Iterable[Agent],
) -> tuple[list[str], bool]:
    """The header's lines, and whether other agents are on it."""
    subject = sanitize(conversation.subject, single_line=True)
    owner = conversation.assignee or "nobody"
    sla = ""
    if deadline is not None:
        left = deadline - now
        sla = f" · SLA {'breached ' + format_duration(-left) + ' ago' if left < 0 else format_duration(left) + ' left'}"
    lines = [
        f"{CHANNEL_LABEL[conversation.channel]}  {subject}",
        f"{conversation.state.value.replace('_', ' ')} · {conversation.queue} · "
        f"priority {conversation.priority.name.lower()} · owner {owner}{sla}",
    ]
    if conversation.tags:
        lines.append("tags: " + ", ".join(conversation.tags))
    if customer_typing:
        lines.append("✎ the customer is typing…")
    collision = [
        f"{agent.name} is {'typing a reply' if agent.typing_in == conversation.id else 'viewing'}"
        for agent in others
    ]
    if collision:
        lines.append("⚠ " + "; ".join(collision))
    return lines, bool(collision)


class DetailHeader(SteadyStatic):
    DEFAULT_CSS = """
    DetailHeader { height: auto; padding: 0 1; background: $boost; }
    DetailHeader.-collision { background: $warning 40%; }
    """

    def show(
        self,
        conversation: Conversation,
        now: float,
        deadline: float | None,
        customer_typing: bool,
        others: Iterable[Agent],
    ) -> None:
        lines, collision = header_lines(conversation, now, deadline, customer_typing, others)
        # Subject, queue, tags, owner and agent names all come from backends: sanitised whole, never markup.
        self.update(safe_text("\n".join(lines)))
        self.set_class(collision, "-collision")
