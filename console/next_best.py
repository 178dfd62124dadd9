"""`n` in the console: the items this agent may take now, best first, from the store.

Eligibility: the channel is in the agent's skills and they speak the language; nobody owns it; it is
waiting. Order: the unified queue order (calls, chats, callbacks, then email by SLA deadline). The team-wide
rules (capacity, push offers, config weights) live in `routing.py`; this is the console's view of them.
"""

from __future__ import annotations

from .model import Agent, Conversation
from .sla import SlaPolicy
from .store import Store
from .views import queue_key


def next_best_candidates(store: Store, agent: Agent | None, now: float, sla: SlaPolicy) -> list[Conversation]:
    waiting = [
        c
        for c in store.conversations.values()
        if c.assignee is None
        and c.is_waiting
        and (c.snoozed_until is None or c.snoozed_until <= now)
        and (agent is None or agent.skills.covers(c.channel, c.language))
    ]
    waiting.sort(key=queue_key)
    return waiting
