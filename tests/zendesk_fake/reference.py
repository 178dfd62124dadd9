"""What the fake takes from Zendesk's API reference: the values of its enumerations, its error bodies,
its times, and how it counts requests against a rate limit. A request the reference does not allow raises
`Refused`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

VIA = {"email": "email", "form": "web", "chat": "chat", "social": "facebook", "phone": "voice"}
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
STATUS_ORDER = {s: n for n, s in enumerate(STATUSES)}
PRIORITIES = ("urgent", "high", "normal", "low")
AGENT_STATES = ("online", "offline", "away", "transfers_only")
# View columns (ticketing/business-rules/views/, "View columns"): what sort_by may name.
VIEW_COLUMNS = (
    "assignee",
    "created",
    "group",
    "nice_id",
    "priority",
    "requester",
    "status",
    "type",
    "updated",
    "updated_assignee",
    "updated_requester",
    "updated_by_type",
    "organization",
    "due_date",
    "brand",
)
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
NO_AUTH = {"error": "Couldn't authenticate you"}
CONFLICT = {
    "error": "UpdateConflict",
    "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest "
    "ticket data and try again.",
}


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float | None:
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Refused(Exception):
    """A request the reference does not allow: answered 400 and recorded as a violation."""


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    at: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Window:
    """A fixed one-minute (or `seconds`) window of requests, as Zendesk counts them."""

    limit: int
    seconds: float = 60.0
    started: float = 0.0
    used: int = 0

    def take(self, now: float) -> float | None:
        """None when the request is allowed, else the seconds until the window resets."""
        if now - self.started >= self.seconds:
            self.started, self.used = now, 0
        if self.used >= self.limit:
            return max(1.0, math.ceil(self.started + self.seconds - now))
        self.used += 1
        return None

    def reset_in(self, now: float) -> int:
        return max(0, math.ceil(self.started + self.seconds - now))


__all__ = [
    "AGENT_STATES",
    "CONFLICT",
    "NOT_FOUND",
    "NO_AUTH",
    "PRIORITIES",
    "STATUSES",
    "STATUS_ORDER",
    "VIA",
    "VIEW_COLUMNS",
    "Refused",
    "Seen",
    "Window",
    "iso",
    "parse_time",
]
