"""Routing rules: who may be offered what, and in which order. Pure functions, no I/O.

Everything here is read from the `[routing]` TOML table (`RoutingRules.from_config`), with the defaults of
the seeds: live channels first (a ringing call, then a chat, then a callback, then the inbox), new hires on
email only, a call in progress blocks every other live contact. docs/routing.md is the reference.

Eligibility (why an item is *not* offered is a `Refusal`, so the UI can say it):
- the item waits for someone: not closed, in a waiting state, unowned (or already mine), not snoozed, and a
  callback only once its wished time has come;
- the agent's presence is AVAILABLE. BUSY set by hand means "do not route"; the BUSY a wallboard shows
  because of work is derived from the load (`presence.effective_presence`) and does not stop routing;
- the agent has the channel (level > 0) and speaks the language; a new hire only gets `new_hire_channels`;
- the agent has room on that channel (`capacity`, counted from the items in hand), and no item in hand on a
  channel that `blocks` it (a call in progress blocks phone, chat and callback; chats block nothing).

Order, for the one "next best" key: channel tier (`order`), then the SLA deadline (closest first; items
without one come after, oldest first), then priority, then age. A breached item rises `breach_rise` tiers,
never above the `breach_ceiling` tier, so a chat that waited too long is not stuck behind fresh calls for
ever, but nothing jumps a ringing call.

The SLA clock at the end gives the exact instants at which SLA states flip, so a UI can sleep until then.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .model import (
    CLOSED_STATES,
    DEFAULT_CAPACITY,
    WAITING_STATES,
    Agent,
    Channel,
    Conversation,
    Presence,
    Seniority,
    State,
)
from .sla import SlaPolicy, SlaState, parse_duration

# Items without an SLA deadline sort as if due at this time (the same sentinel as views.FAR_FUTURE).
FAR_FUTURE = 1e12

DEFAULT_ORDER: tuple[tuple[Channel, ...], ...] = (
    (Channel.PHONE,),
    (Channel.CHAT,),
    (Channel.CALLBACK,),
    (Channel.EMAIL, Channel.FORM, Channel.SOCIAL),
)
DEFAULT_BLOCKS: dict[Channel, frozenset[Channel]] = {
    Channel.PHONE: frozenset({Channel.PHONE, Channel.CHAT, Channel.CALLBACK}),
    Channel.CALLBACK: frozenset({Channel.PHONE, Channel.CHAT, Channel.CALLBACK}),
    # Chats are interruptible: a call may come while chats are open (their customers wait a little). Making
    # chats block calls (`blocks.chat = ["phone", "callback"]`) cost a third of the phone service level in
    # the simulated peak hour (docs/routing.md): agents sat on long chats while calls queued.
}


class Refusal(StrEnum):
    """Why an item is not offered to an agent (first reason found, in this order of checks)."""

    CLOSED = "closed"
    NOT_WAITING = "not waiting"
    OWNED = "owned by someone else"
    SNOOZED = "snoozed"
    NOT_DUE = "callback not due yet"
    NOT_AVAILABLE = "agent not available"
    NO_SKILL = "channel not in skills"
    NEW_HIRE = "new hires take other channels only"
    NO_LANGUAGE = "language not spoken"
    AT_CAPACITY = "at capacity on this channel"
    BLOCKED = "busy on a live contact"


@dataclass(frozen=True, slots=True)
class RoutingRules:
    # Tier of each channel: lower goes first. Channels in no tier are routed last.
    tiers: dict[Channel, int] = field(
        default_factory=lambda: {c: n for n, group in enumerate(DEFAULT_ORDER) for c in group}
    )
    breach_rise: int = 1
    breach_ceiling: Channel = Channel.CHAT
    # An item of priority p is ordered as if due p * priority_weight seconds earlier.
    priority_weight: float = 0.0
    new_hire_channels: frozenset[Channel] = frozenset({Channel.EMAIL})
    blocks: dict[Channel, frozenset[Channel]] = field(default_factory=lambda: dict(DEFAULT_BLOCKS))
    # Items in these states wait on the customer or a date: they neither count for capacity nor block.
    parked_states: frozenset[State] = frozenset({State.PENDING, State.SCHEDULED})
    # An agent wrapping up a live contact (notes, disposition) is not offered calls, whatever `blocks` says:
    # a call rung into a wrap-up is answered late or lands on an agent still typing about the last one.
    wrap_up_blocks: frozenset[Channel] = frozenset({Channel.PHONE, Channel.CALLBACK})
    # Push mode: how long an offer stands, and how long a declined item is not offered to the same agent.
    offer_timeout: float = 15.0
    decline_cooldown: float = 60.0
    # How many waiting items per channel one pick looks at (a lost race moves on to the next one).
    scan_limit: int = 64

    def tier(self, channel: Channel) -> int:
        return self.tiers.get(channel, len(self.tiers) + 1)

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> RoutingRules:
        """Read the `[routing]` table; a missing key keeps its default. Raises ValueError naming the key."""
        base = cls()
        values: dict[str, Any] = {}
        if "order" in data:
            values["tiers"] = _tiers(data["order"])
        if "breach_rise" in data:
            values["breach_rise"] = _int(data["breach_rise"], "breach_rise", minimum=0)
        if "breach_ceiling" in data:
            values["breach_ceiling"] = _channel(data["breach_ceiling"], "breach_ceiling")
        if "priority_weight" in data:
            values["priority_weight"] = parse_duration(data["priority_weight"])
        if "new_hire_channels" in data:
            values["new_hire_channels"] = frozenset(
                _channel(c, "new_hire_channels")
                for c in _list(data["new_hire_channels"], "new_hire_channels")
            )
        if "blocks" in data:
            blocks = dict(base.blocks)
            for name, blocked in dict(data["blocks"]).items():
                blocks[_channel(name, "blocks")] = frozenset(
                    _channel(c, f"blocks.{name}") for c in _list(blocked, f"blocks.{name}")
                )
            values["blocks"] = {c: b for c, b in blocks.items() if b}
        if "parked_states" in data:
            values["parked_states"] = frozenset(
                _state(s) for s in _list(data["parked_states"], "parked_states")
            )
        if "wrap_up_blocks" in data:
            values["wrap_up_blocks"] = frozenset(
                _channel(c, "wrap_up_blocks") for c in _list(data["wrap_up_blocks"], "wrap_up_blocks")
            )
        for key in ("offer_timeout", "decline_cooldown"):
            if key in data:
                values[key] = parse_duration(data[key])
        if "scan_limit" in data:
            values["scan_limit"] = _int(data["scan_limit"], "scan_limit", minimum=1)
        return cls(**{**_fields(base), **values})


def _fields(rules: RoutingRules) -> dict[str, Any]:
    return {name: getattr(rules, name) for name in RoutingRules.__dataclass_fields__}


def _list(value: object, key: str) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"routing.{key} must be a list")
    return list(value)


def _channel(value: object, key: str) -> Channel:
    try:
        return Channel(str(value).lower())
    except ValueError:
        raise ValueError(f"routing.{key}: unknown channel {value!r}") from None


def _state(value: object) -> State:
    try:
        return State(str(value).lower())
    except ValueError:
        raise ValueError(f"routing.parked_states: unknown state {value!r}") from None


def _int(value: object, key: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"routing.{key} must be an integer >= {minimum}")
    return value


def _tiers(order: object) -> dict[Channel, int]:
    """`["phone", "chat", "callback", ["email", "form", "social"]]`: a nested list shares one tier."""
    tiers: dict[Channel, int] = {}
    for n, entry in enumerate(_list(order, "order")):
        for name in entry if isinstance(entry, list) else [entry]:
            channel = _channel(name, "order")
            if channel in tiers:
                raise ValueError(f"routing.order lists {channel.value} twice")
            tiers[channel] = n
    return tiers


# ---------------------------------------------------------------------------------------------- load


@dataclass(frozen=True, slots=True)
class Load:
    """What an agent has in hand: their open assigned conversations, counted by (channel, state)."""

    counts: Mapping[tuple[Channel, State], int] = field(default_factory=dict)

    @classmethod
    def of(cls, conversations: Iterable[Conversation], agent_id: str) -> Load:
        """From any collection (the console's Store): the open items assigned to `agent_id`."""
        counts = Counter(
            (c.channel, c.state) for c in conversations if c.assignee == agent_id and not c.is_closed
        )
        return cls(dict(counts))

    def in_hand(self, channel: Channel, rules: RoutingRules) -> int:
        """Items on `channel` that take the agent's attention (not parked on the customer or a date)."""
        return sum(
            n
            for (c, state), n in self.counts.items()
            if c is channel and state not in rules.parked_states and state not in CLOSED_STATES
        )

    def busy_channels(self, rules: RoutingRules) -> frozenset[Channel]:
        return frozenset(c for (c, _), _n in self.counts.items() if self.in_hand(c, rules) > 0)

    def blocked(self, rules: RoutingRules) -> frozenset[Channel]:
        """Channels no new item may come from, because of what is in hand."""
        blocked: set[Channel] = set()
        for channel in self.busy_channels(rules):
            blocked |= rules.blocks.get(channel, frozenset())
        if self.wrapping_up:
            blocked |= rules.wrap_up_blocks
        return frozenset(blocked)

    @property
    def wrapping_up(self) -> bool:
        """A live contact of theirs is in wrap-up (after-call work)."""
        return any(n and state is State.WRAP_UP for (_c, state), n in self.counts.items())


def capacity(agent: Agent, channel: Channel) -> int:
    return agent.capacity.get(channel, DEFAULT_CAPACITY.get(channel, 0))


# ---------------------------------------------------------------------------------------------- eligibility


def item_refusal(conversation: Conversation, agent_id: str, now: float) -> Refusal | None:
    """Whether the item waits for someone at all, regardless of who asks (but mine stays mine)."""
    if conversation.is_closed:
        return Refusal.CLOSED
    if conversation.state not in WAITING_STATES:
        return Refusal.NOT_WAITING
    if conversation.assignee not in (None, agent_id):
        return Refusal.OWNED
    if conversation.snoozed_until is not None and conversation.snoozed_until > now:
        return Refusal.SNOOZED
    if (
        conversation.channel is Channel.CALLBACK
        and conversation.callback_at is not None
        and conversation.callback_at > now
    ):
        return Refusal.NOT_DUE
    return None


def speaks(agent: Agent, language: str) -> bool:
    return language.lower() in {lang.lower() for lang in agent.skills.languages}


def channel_refusal(agent: Agent, channel: Channel, load: Load, rules: RoutingRules) -> Refusal | None:
    """Whether the agent may take one more item of `channel` now (language aside)."""
    if agent.presence is not Presence.AVAILABLE:
        return Refusal.NOT_AVAILABLE
    if agent.skills.channels.get(channel, 0) <= 0:
        return Refusal.NO_SKILL
    if agent.skills.seniority is Seniority.NEW_HIRE and channel not in rules.new_hire_channels:
        return Refusal.NEW_HIRE
    if load.in_hand(channel, rules) >= capacity(agent, channel):
        return Refusal.AT_CAPACITY
    if channel in load.blocked(rules):
        return Refusal.BLOCKED
    return None


def takeable_channels(agent: Agent, load: Load, rules: RoutingRules) -> frozenset[Channel]:
    return frozenset(c for c in Channel if channel_refusal(agent, c, load, rules) is None)


def refusal(
    agent: Agent, conversation: Conversation, load: Load, now: float, rules: RoutingRules
) -> Refusal | None:
    """None when `conversation` may be offered to `agent` now; otherwise the first reason why not."""
    found = item_refusal(conversation, agent.id, now)
    if found is not None:
        return found
    found = channel_refusal(agent, conversation.channel, load, rules)
    if found is not None and found is not Refusal.AT_CAPACITY and found is not Refusal.BLOCKED:
        return found
    if not speaks(agent, conversation.language):
        return Refusal.NO_LANGUAGE
    return found


def transfer_refusal(
    agent: Agent, conversation: Conversation, load: Load, rules: RoutingRules
) -> Refusal | None:
    """Whether `agent` could take `conversation` handed over now: present, skilled for its channel and
    language, with room for it. Unlike `refusal`, the item's own state does not count (it is in hand)."""
    found = channel_refusal(agent, conversation.channel, load, rules)
    if found is not None:
        return found
    if not speaks(agent, conversation.language):
        return Refusal.NO_LANGUAGE
    return None


# ---------------------------------------------------------------------------------------------- order

OrderKey = tuple[float, float, float, float, str]


def is_breached(conversation: Conversation, now: float) -> bool:
    """The first-answer deadline has passed: exactly `SlaPolicy.state(...) is BREACHED` for a waiting item."""
    return conversation.sla_due_at is not None and now >= conversation.sla_due_at


def rises_when_breached(channel: Channel, rules: RoutingRules) -> bool:
    return rules.breach_rise > 0 and rules.tier(channel) > rules.tier(rules.breach_ceiling)


def effective_tier(conversation: Conversation, now: float, rules: RoutingRules) -> int:
    tier = rules.tier(conversation.channel)
    if rises_when_breached(conversation.channel, rules) and is_breached(conversation, now):
        return max(rules.tier(rules.breach_ceiling), tier - rules.breach_rise)
    return tier


def order_key(conversation: Conversation, now: float, rules: RoutingRules) -> OrderKey:
    """Smaller is offered first."""
    due = conversation.sla_due_at if conversation.sla_due_at is not None else FAR_FUTURE
    return (
        float(effective_tier(conversation, now, rules)),
        due - int(conversation.priority) * rules.priority_weight,
        float(-conversation.priority),
        conversation.created_at,
        conversation.id,
    )


def rank(conversations: Iterable[Conversation], now: float, rules: RoutingRules) -> list[Conversation]:
    return sorted(conversations, key=lambda c: order_key(c, now, rules))


def best_for(
    agent: Agent,
    conversations: Iterable[Conversation],
    load: Load,
    now: float,
    rules: RoutingRules,
    limit: int | None = None,
) -> list[Conversation]:
    """The items `agent` may be offered, best first (for the UI over any backend's Store); the first
    `limit` of them when given.

    Same answer as filtering with `refusal`, but what depends only on the agent (which channels they may
    take now, which languages they speak) is decided once, not once per conversation: `n` scans the whole
    store, 100k rows at peak."""
    open_channels = {c for c in Channel if channel_refusal(agent, c, load, rules) is None}
    languages = {language.lower() for language in agent.skills.languages}
    eligible = (
        c
        for c in conversations
        if c.channel in open_channels
        and c.language.lower() in languages
        and item_refusal(c, agent.id, now) is None
    )
    if limit is None:
        return rank(eligible, now, rules)
    return heapq.nsmallest(limit, eligible, key=lambda c: order_key(c, now, rules))


# ---------------------------------------------------------------------------------------------- collisions


class ClaimCheck(StrEnum):
    FREE = "free"  # nobody owns it: claim away
    MINE = "mine"
    ASK = "ask"  # someone else owns it: the UI asks before taking it over (Claim(force=True))
    CLOSED = "closed"


def claim_check(conversation: Conversation, agent_id: str) -> ClaimCheck:
    if conversation.is_closed:
        return ClaimCheck.CLOSED
    if conversation.assignee is None:
        return ClaimCheck.FREE
    return ClaimCheck.MINE if conversation.assignee == agent_id else ClaimCheck.ASK


# ---------------------------------------------------------------------------------------------- SLA clock


def breach_at(conversation: Conversation, policy: SlaPolicy) -> float | None:
    """The instant `policy.state` becomes BREACHED (None when there is no deadline)."""
    return policy.deadline(conversation)


def warning_at(conversation: Conversation, policy: SlaPolicy) -> float | None:
    """The first instant `policy.state` is WARNING, exact to the float (None when there is no deadline).

    `state` compares `due - now <= span * fraction`; rounding can move that boundary by an ulp from the
    arithmetic start, so the start is nudged until the state function itself agrees.
    """
    due = policy.deadline(conversation)
    if due is None:
        return None
    span = max(1.0, due - conversation.created_at)
    moment = due - span * policy.warning_fraction
    if moment >= due:
        return None
    while policy.state(conversation, moment) is not SlaState.WARNING:
        moment = math.nextafter(moment, math.inf)
    while policy.state(conversation, math.nextafter(moment, -math.inf)) is SlaState.WARNING:
        moment = math.nextafter(moment, -math.inf)
    return moment


def sla_transitions(conversation: Conversation, policy: SlaPolicy) -> list[tuple[float, SlaState]]:
    """The instants at which `policy.state(conversation, t)` changes, with the state from then on."""
    found: list[tuple[float, SlaState]] = []
    warn = warning_at(conversation, policy)
    if warn is not None:
        found.append((warn, SlaState.WARNING))
    due = breach_at(conversation, policy)
    if due is not None:
        found.append((due, SlaState.BREACHED))
    return found


def next_sla_change(
    conversations: Iterable[Conversation],
    policy: SlaPolicy,
    now: float,
    states: frozenset[SlaState] = frozenset({SlaState.WARNING, SlaState.BREACHED}),
) -> float | None:
    """The earliest instant after `now` at which any item enters one of `states` (None: nothing ahead).

    The UI sets one timer to this instant instead of re-evaluating every row every second.
    """
    upcoming = (
        moment
        for c in conversations
        for moment, state in sla_transitions(c, policy)
        if moment > now and state in states
    )
    earliest = heapq.nsmallest(1, upcoming)
    return earliest[0] if earliest else None
