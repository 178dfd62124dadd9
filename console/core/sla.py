"""SLA policies: how long each kind of contact may wait for its first answer (or, tagged, its resolution).

Targets come from the config (`[sla]` in TOML); the defaults are the seeds' rules: live channels are answered
at once (a call within 20 s, a chat within 30 s), email within a day, and a refund is done within 2 days.
A priority scales the target down (urgent items get a quarter of the time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .model import Channel, Conversation, Priority

DEFAULT_TARGETS: dict[Channel, float] = {
    Channel.PHONE: 20.0,
    Channel.CHAT: 30.0,
    Channel.CALLBACK: 15 * 60.0,
    Channel.SOCIAL: 4 * 3600.0,
    Channel.FORM: 24 * 3600.0,
    Channel.EMAIL: 24 * 3600.0,
}
# A tag that carries its own deadline, measured from creation to resolution.
DEFAULT_TAG_TARGETS: dict[str, float] = {"refund": 2 * 24 * 3600.0}
DEFAULT_PRIORITY_FACTORS: dict[Priority, float] = {
    Priority.LOW: 2.0,
    Priority.NORMAL: 1.0,
    Priority.HIGH: 0.5,
    Priority.URGENT: 0.25,
}


class SlaState(StrEnum):
    NONE = "none"  # no target (answered, closed, or no policy)
    OK = "ok"
    WARNING = "warning"  # within `warning_fraction` of the target of its breach
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    targets: dict[Channel, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    tag_targets: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TAG_TARGETS))
    priority_factors: dict[Priority, float] = field(default_factory=lambda: dict(DEFAULT_PRIORITY_FACTORS))
    # Warn when less than this share of the target is left.
    warning_fraction: float = 0.25

    def target(self, channel: Channel, priority: Priority = Priority.NORMAL) -> float:
        return self.targets[channel] * self.priority_factors.get(priority, 1.0)

    def due_at(self, channel: Channel, created_at: float, priority: Priority = Priority.NORMAL) -> float:
        """When the first answer is due."""
        return created_at + self.target(channel, priority)

    def resolution_due_at(self, conversation: Conversation) -> float | None:
        """When a tagged promise (a refund in 2 days) must be resolved, if any tag carries one."""
        spans = [self.tag_targets[t] for t in conversation.tags if t in self.tag_targets]
        return conversation.created_at + min(spans) if spans else None

    def deadline(self, conversation: Conversation) -> float | None:
        """The deadline that matters now: the first answer until there is one, then any tagged promise."""
        if conversation.is_closed:
            return None
        answered = conversation.answered_at or conversation.first_response_at
        if answered is None:
            return conversation.sla_due_at
        return self.resolution_due_at(conversation)

    def state(self, conversation: Conversation, now: float) -> SlaState:
        due = self.deadline(conversation)
        if due is None:
            return SlaState.NONE
        if now >= due:
            return SlaState.BREACHED
        span = max(1.0, due - conversation.created_at)
        if due - now <= span * self.warning_fraction:
            return SlaState.WARNING
        return SlaState.OK

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """`[sla]` table: `phone = 20`, `email = "24h"`, `[sla.tags] refund = "2d"`, `warning = 0.25`."""
        targets = dict(DEFAULT_TARGETS)
        for channel in Channel:
            if channel.value in data:
                targets[channel] = parse_duration(data[channel.value])
        tag_targets = dict(DEFAULT_TAG_TARGETS)
        for tag, value in dict(data.get("tags", {})).items():
            tag_targets[str(tag).lower()] = parse_duration(value)
        factors = dict(DEFAULT_PRIORITY_FACTORS)
        for name, value in dict(data.get("priority_factors", {})).items():
            factors[Priority[str(name).upper()]] = float(value)
        return cls(targets, tag_targets, factors, float(data.get("warning", 0.25)))


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """`20`, `"20s"`, `"15m"`, `"24h"`, `"2d"` -> seconds."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    if text and text[-1] in _UNITS:
        return float(text[:-1]) * _UNITS[text[-1]]
    return float(text)


def format_duration(seconds: float) -> str:
    """Compact, for narrow columns: `42s`, `3m05`, `2h10`, `3d4h`."""
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


def parse_when(text: str, now: float) -> float | None:
    """`14:30` (today, or tomorrow if past), `+30m`, `+2h` -> a timestamp; None if it is not a time."""
    from datetime import datetime, timedelta

    text = text.strip().lower()
    try:
        if text.startswith("+"):
            return now + parse_duration(text[1:])
        hours, _, minutes = text.partition(":")
        base = datetime.fromtimestamp(now)
        when = base.replace(hour=int(hours), minute=int(minutes or 0), second=0, microsecond=0)
    except ValueError:
        return None
    if when.timestamp() <= now:
        when += timedelta(days=1)
    return when.timestamp()
