"""Queue depth and service level over the day, one point per `step` (a minute), for the wallboard's sparklines.

A point is taken once, when its minute has passed, from the contacts the store holds at that moment, and
is never recomputed: the line shows what the board showed. When the board opens mid-day the minutes
already gone are rebuilt from the same history in one sweep, so the line starts at midnight at once.

- **queue depth** at t: contacts created by t that had neither a first answer nor been closed by t (for
  live channels, the callers and chatters in the queue; for email, the unanswered inbox).
- **service level** at t: the 15-minute service level ending at t, as `metrics` defines it (contacts sealed
  in (t − 15 min, t]); None when no contact was sealed then (the sparkline repeats the previous value).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .metrics import RECENT_SECONDS, closed_time, first_answer, sealed
from .model import Conversation
from .sla import SlaPolicy

TOTAL = "all"
INFINITY = float("inf")


@dataclass(slots=True)
class Series:
    depth: list[float] = field(default_factory=list)
    service: list[float | None] = field(default_factory=list)


@dataclass(slots=True)
class _Index:
    """Sorted event times of one group of contacts, to read depth and service level at any instant."""

    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    sealed_at: list[float] = field(default_factory=list)
    met_prefix: list[int] = field(default_factory=lambda: [0])

    def depth(self, t: float) -> int:
        return bisect.bisect_right(self.starts, t) - bisect.bisect_right(self.ends, t)

    def service(self, t: float, window: float) -> float | None:
        low = bisect.bisect_right(self.sealed_at, t - window)
        high = bisect.bisect_right(self.sealed_at, t)
        if high <= low:
            return None
        return (self.met_prefix[high] - self.met_prefix[low]) / (high - low)


def _indexes(conversations: Iterable[Conversation], policy: SlaPolicy, now: float) -> dict[str, _Index]:
    raw: dict[str, tuple[list[float], list[float], list[tuple[float, bool]]]] = {}
    for c in conversations:
        answer = first_answer(c)
        closed = closed_time(c)
        end = min(x for x in (answer, closed, INFINITY) if x is not None)
        outcome = sealed(c, policy, now)
        for key in (TOTAL, c.channel.value):
            starts, ends, outcomes = raw.setdefault(key, ([], [], []))
            starts.append(c.created_at)
            ends.append(end)
            if outcome is not None:
                outcomes.append(outcome)
    indexes: dict[str, _Index] = {}
    for key, (starts, ends, outcomes) in raw.items():
        outcomes.sort()
        prefix = [0]
        for _, met in outcomes:
            prefix.append(prefix[-1] + met)
        indexes[key] = _Index(sorted(starts), sorted(ends), [at for at, _ in outcomes], prefix)
    return indexes


class Trends:
    """The day's points per channel and for the whole centre (key `TOTAL`)."""

    def __init__(self, step: float = 60.0, window: float = RECENT_SECONDS) -> None:
        self.step = step
        self.window = window
        self.day_start: float | None = None
        self.times: list[float] = []
        self.series: dict[str, Series] = {}
        self._next = 0.0

    def update(
        self, conversations: Sequence[Conversation], policy: SlaPolicy, *, now: float, day_start: float
    ) -> bool:
        """Add the points whose minute has passed since the last call; a new day starts a new line.
        Returns whether any point was added."""
        if day_start != self.day_start:
            self.day_start = day_start
            self.times = []
            self.series = {}
            self._next = day_start + self.step
        if self._next > now:
            return False
        due: list[float] = []
        while self._next <= now:
            due.append(self._next)
            self._next += self.step
        indexes = _indexes(conversations, policy, now)
        earlier = list(self.times)
        self.times.extend(due)
        for key in set(indexes) | set(self.series):
            index = indexes.get(key, _Index())
            series = self.series.get(key)
            if series is None:
                # A channel first seen now gets the earlier minutes too, from the history known now,
                # so that every line covers the same span.
                series = self.series[key] = Series()
                self._add(series, index, earlier)
            self._add(series, index, due)
        return True

    def _add(self, series: Series, index: _Index, times: Iterable[float]) -> None:
        for t in times:
            series.depth.append(float(index.depth(t)))
            series.service.append(index.service(t, self.window))

    def depth(self, key: str = TOTAL) -> list[float]:
        series = self.series.get(key)
        return list(series.depth) if series else []

    def service(self, key: str = TOTAL) -> list[float]:
        """Service level points, a gap repeating the value before it; leading gaps are dropped."""
        series = self.series.get(key)
        if series is None:
            return []
        points: list[float] = []
        for value in series.service:
            if value is not None:
                points.append(value)
            elif points:
                points.append(points[-1])
        return points
