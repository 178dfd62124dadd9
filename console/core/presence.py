"""Presence rules: the reasons an agent may give, idle -> away, what counts as busy, who else is on an item.

Read from the `[presence]` TOML table (`PresenceRules.from_config`); docs/routing.md documents the keys.

The presence an agent sets is what routing obeys: only AVAILABLE is routed to. Being on a call does not
rewrite it; the wallboard's "busy" or "wrap-up" is derived from what the agent has in hand
(`effective_presence`), so a console that crashes mid-call cannot leave a stale BUSY behind.

Idle: an AVAILABLE agent who has touched no key for `idle_away` goes AWAY with the reason "idle", unless a
live contact is in hand (talking on the phone is not idleness). Any key brings them back when
`return_on_input` is set, and only from an idle away: a lunch break is ended on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import LIVE_CHANNELS, Agent, Channel, Presence, State
from .routing import Load, RoutingRules
from .sla import parse_duration
from .store import Store

IDLE = "idle"
DEFAULT_REASONS: tuple[str, ...] = ("break", "lunch", "meeting", "training", "coaching", IDLE)
# Live work for the idle rule: a callback being dialled is a call too.
_LIVE_WORK = LIVE_CHANNELS | {Channel.CALLBACK}
# Each console writes a heartbeat this often; one silent for GONE_AFTER is gone (backends/local/sessions.py).
# 20 s is four missed beats: a loaded machine or a long snapshot read does not make a live console "gone",
# and a killed one stops being offered work within GONE_AFTER + HEARTBEAT (25 s) at worst.
HEARTBEAT = 5.0
GONE_AFTER = 20.0


@dataclass(frozen=True, slots=True)
class PresenceRules:
    # Seconds without input before AVAILABLE becomes AWAY "idle"; None never.
    idle_away: float | None = 10 * 60.0
    reasons: tuple[str, ...] = DEFAULT_REASONS
    return_on_input: bool = True
    heartbeat: float = HEARTBEAT
    gone_after: float = GONE_AFTER

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> PresenceRules:
        """`[presence]`: `idle_away = "10m"` (0 or false: never), `reasons = [...]`, `return_on_input`,
        `heartbeat = "5s"`, `gone_after = "20s"` (at least two beats)."""
        defaults = cls()  # (slots: class attributes are descriptors, not the defaults)
        idle: float | None = defaults.idle_away
        if "idle_away" in data:
            raw = data["idle_away"]
            idle = None if raw is False or raw == 0 or raw == "0" else parse_duration(raw)
            if idle is not None and idle < 0:
                raise ValueError("presence.idle_away must not be negative")
        reasons = defaults.reasons
        if "reasons" in data:
            value = data["reasons"]
            if not isinstance(value, list) or not all(isinstance(r, str) and r.strip() for r in value):
                raise ValueError("presence.reasons must be a list of words")
            # "idle" is always there: the idle rule writes it.
            reasons = tuple(dict.fromkeys([*(r.strip().lower() for r in value), IDLE]))
        heartbeat = parse_duration(data.get("heartbeat", defaults.heartbeat))
        gone_after = parse_duration(data.get("gone_after", defaults.gone_after))
        if heartbeat <= 0 or gone_after < 2 * heartbeat:
            raise ValueError("presence.heartbeat must be positive and presence.gone_after at least two beats")
        return cls(idle, reasons, bool(data.get("return_on_input", True)), heartbeat, gone_after)


@dataclass(frozen=True, slots=True)
class PresenceChange:
    presence: Presence
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PresenceChoice:
    """One entry of the presence menu: a suggested key, what it sets, and its label."""

    key: str
    presence: Presence
    reason: str
    label: str


def choices(rules: PresenceRules) -> tuple[PresenceChoice, ...]:
    """Available, do-not-disturb, one AWAY per reason (first free letter), offline."""
    fixed = [
        PresenceChoice("a", Presence.AVAILABLE, "", "Available"),
        PresenceChoice("d", Presence.BUSY, "do not disturb", "Busy (no new contacts)"),
        PresenceChoice("o", Presence.OFFLINE, "", "Offline"),
    ]
    used = {c.key for c in fixed}
    away: list[PresenceChoice] = []
    for reason in rules.reasons:
        if reason == IDLE:
            continue  # set by the idle rule, not chosen
        key = next((ch for ch in reason if ch.isalpha() and ch not in used), "")
        used.add(key)
        away.append(PresenceChoice(key, Presence.AWAY, reason, f"Away: {reason}"))
    return (fixed[0], fixed[1], *away, fixed[2])


def live_in_hand(load: Load, rules: RoutingRules) -> bool:
    return any(load.in_hand(c, rules) for c in _LIVE_WORK)


def idle_due_at(
    agent: Agent, load: Load, last_input_at: float, rules: PresenceRules, routing: RoutingRules
) -> float | None:
    """When the idle rule will set this agent AWAY, if nothing happens before (for one precise timer)."""
    if rules.idle_away is None or agent.presence is not Presence.AVAILABLE or live_in_hand(load, routing):
        return None
    return last_input_at + rules.idle_away


def idle_change(
    agent: Agent, load: Load, last_input_at: float, now: float, rules: PresenceRules, routing: RoutingRules
) -> PresenceChange | None:
    """AWAY "idle" once `idle_away` has passed without input; None when nothing changes."""
    due = idle_due_at(agent, load, last_input_at, rules, routing)
    if due is None or now < due:
        return None
    return PresenceChange(Presence.AWAY, IDLE)


def input_change(agent: Agent, rules: PresenceRules) -> PresenceChange | None:
    """A key press while away for idleness makes the agent available again."""
    if rules.return_on_input and agent.presence is Presence.AWAY and agent.presence_reason == IDLE:
        return PresenceChange(Presence.AVAILABLE)
    return None


def effective_presence(agent: Agent, load: Load, routing: RoutingRules) -> Presence:
    """What a wallboard shows: an available agent on a live contact is busy, in its wrap-up is wrap-up."""
    if agent.presence is not Presence.AVAILABLE:
        return agent.presence
    if any(load.counts.get((c, State.WRAP_UP), 0) for c in _LIVE_WORK) and not _talking(load):
        return Presence.WRAP_UP
    if live_in_hand(load, routing):
        return Presence.BUSY
    return Presence.AVAILABLE


def _talking(load: Load) -> bool:
    return any(
        n and state is not State.WRAP_UP and channel in _LIVE_WORK
        for (channel, state), n in load.counts.items()
    )


def is_busy(agent: Agent, load: Load, routing: RoutingRules) -> bool:
    return effective_presence(agent, load, routing) in (Presence.BUSY, Presence.WRAP_UP)


def validate_change(load: Load, presence: Presence, routing: RoutingRules) -> str | None:
    """A warning to confirm before going offline or away with a live contact still in hand."""
    if presence in (Presence.OFFLINE, Presence.AWAY) and live_in_hand(load, routing):
        return "a live contact is still in hand: end it or transfer it first"
    return None


# ---------------------------------------------------------------------------------------------- collisions


@dataclass(frozen=True, slots=True)
class Collision:
    """Who else is on a conversation: its owner when not me, who has it open, who is typing in it."""

    owner: str | None = None
    viewers: tuple[str, ...] = ()
    typing: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.owner or self.viewers or self.typing)


def collision(store: Store, conversation_id: str, me: str, now: float | None = None) -> Collision:
    """For the warning line ("Anna is typing a reply") and the claim confirmation."""
    conversation = store.conversations.get(conversation_id)
    owner = conversation.assignee if conversation and conversation.assignee != me else None
    viewers = tuple(a.id for a in store.viewers(conversation_id, besides=me))
    typing_agents = {
        a.id for a in store.viewers(conversation_id, besides=me) if a.typing_in == conversation_id
    }
    typing_agents |= {w for w in store.typing(conversation_id, now) if w != me and w in store.agents}
    return Collision(owner, viewers, tuple(sorted(typing_agents)))
