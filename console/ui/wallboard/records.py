"""The records a wallboard opened over the console reads itself: the CSAT answers of the week and the day's
wrap-ups of each backend that keeps them (the optional `Records`, read by `Hub.records`), because a help
desk (Zendesk, Chatwoot) sends no event when a customer answers a survey: only reading finds them.

The store already holds what arrived as events and snapshots (the local workspace's `CsatRecorded`), and the
same answer is read again from its backend: one record is counted once, known by its conversation and its
time (the key the store uses when a snapshot is sent again). What was read is kept here, per backend, not
put into the console's store, so that closing the board leaves the console's figures as they were.

A backend is read when it is connected and has not been read for `every` seconds (and again as soon as it
comes back after being down); each on its own, one read of it at a time, so that a slow help desk holds up
no other's figures. One that cannot answer keeps what it gave last, and the board says so by name
(`problem_text`). No Textual here: the screen runs `refresh` in a worker per backend.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TypeVar

from rich.text import Text

from ...core.hub import RecordsRead
from ...core.metrics import WEEK_SECONDS, local_day_start
from ...core.model import CsatRecord, WrapUpRecord
from ...core.sanitize import sanitize

ReadRecords = Callable[[float, float, Collection[str]], Awaitable[RecordsRead]]
# A help desk answers a read with one request per page of a week's answers: once a minute is fresh enough
# for a board whose CSAT figures are counts of the day and of the week, and light on its rate limit.
RECORDS_EVERY = 60.0
R = TypeVar("R", CsatRecord, WrapUpRecord)


def window(now: float, tz: tzinfo | None = None) -> tuple[float, float]:
    """Since when CSAT and wrap-ups are read: the week, and the day (at least the last hour, for a board
    opened just after midnight), as `standardiste supervise` reads them."""
    return now - WEEK_SECONDS, min(local_day_start(now, tz), now - 3600)


@dataclass
class BoardRecords:
    """Each backend's records as last read, what went wrong for those that could not be read, and when."""

    read: ReadRecords
    every: float = RECORDS_EVERY
    held: dict[str, tuple[tuple[CsatRecord, ...], tuple[WrapUpRecord, ...]]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    read_at: dict[str, float] = field(default_factory=dict)  # backend name -> when it was last asked
    reading: set[str] = field(default_factory=set)  # the backends being read now

    def due(self, connected: Iterable[str], now: float) -> list[str]:
        """The connected backends to read now: never read, or not for `every` seconds. A backend that is
        not connected is forgotten as read, so that it is read again as soon as it is back."""
        up = set(connected)
        for name in [n for n in self.read_at if n not in up]:
            del self.read_at[name]
        return sorted(
            n for n in up if n not in self.reading and now - self.read_at.get(n, float("-inf")) >= self.every
        )

    async def refresh(self, names: Collection[str], now: float, tz: tzinfo | None = None) -> bool:
        """Read these backends' records (those of them that keep any); True when something was read. The
        caller takes `due` names: one being read already is not asked twice at once."""
        names = [n for n in names if n not in self.reading]
        if not names:
            return False
        self.reading.update(names)
        try:
            csat_since, wrapups_since = window(now, tz)
            answer = await self.read(csat_since, wrapups_since, names)
        finally:
            self.reading.difference_update(names)
        for name in names:
            self.read_at[name] = now
        for name, (csat, wrapups) in answer.records.items():
            self.held[name] = (tuple(csat), tuple(wrapups))
            self.problems.pop(name, None)
        self.problems.update(answer.problems)
        return bool(answer.records or answer.problems)

    def extra(self) -> tuple[tuple[CsatRecord, ...], tuple[WrapUpRecord, ...]]:
        """Everything read, every backend together (tuples: safe to hand to the figures' thread)."""
        csat = tuple(r for held_csat, _ in self.held.values() for r in held_csat)
        wrapups = tuple(r for _, held_wrapups in self.held.values() for r in held_wrapups)
        return csat, wrapups


def merged(from_store: Sequence[R], read: Iterable[R]) -> list[R]:
    """The store's records, then those read that the store does not hold: one answer or wrap-up counted
    once, whether it came as an event, in a snapshot, by reading, or several of these."""
    have = {(r.conversation_id, r.at) for r in from_store}
    extra = []
    for record in read:
        key = (record.conversation_id, record.at)
        if key not in have:
            have.add(key)
            extra.append(record)
    return [*from_store, *extra] if extra else list(from_store)


def problem_text(
    problems: Mapping[str, str], read_at: Mapping[str, float], every: float, tz: tzinfo | None = None
) -> Text:
    """One line per backend whose records could not be read: its name and what went wrong, sanitised (the
    board counts what it read from there last, if anything)."""
    text = Text()
    for name in sorted(problems):
        if text:
            text.append("\n")
        text.append(f"★ {sanitize(name, single_line=True)}: ", style="bold")
        text.append("CSAT and wrap-ups cannot be read: ")
        text.append(sanitize(problems[name], single_line=True), style="italic")
        if name in read_at:
            when = datetime.fromtimestamp(read_at[name], tz).strftime("%H:%M:%S")
            text.append(f" (at {when}; tried again every {every:.0f} s)", style="dim")
    return text


__all__ = ["RECORDS_EVERY", "BoardRecords", "ReadRecords", "merged", "problem_text", "window"]
