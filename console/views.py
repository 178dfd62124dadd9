"""Views over the store: which conversations a list shows, in which order, updated incrementally.

A view keeps a sorted list of `(key, id)`. A batch of events touching k conversations costs k bisections
and k list moves (memmove of pointers), not a re-sort of 100,000 rows; only a new filter re-sorts.

Queue order (the unified queue, DESIGN.md and the seeds): ringing calls first, then live chats, then
callbacks, then email, forms and social; within a channel, the closest SLA deadline first (breached items
have the earliest deadline, so they rise), then priority, then age.
"""

from __future__ import annotations

import bisect
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .model import Channel, Conversation, Priority, State
from .sla import SlaPolicy, SlaState

CHANNEL_RANK: dict[Channel, int] = {
    Channel.PHONE: 0,
    Channel.CHAT: 1,
    Channel.CALLBACK: 2,
    Channel.EMAIL: 3,
    Channel.FORM: 3,
    Channel.SOCIAL: 3,
}
# Inside a channel, what the agent is already handling stays on top, then what rings, then what waits.
STATE_RANK: dict[State, int] = {
    State.CONNECTED: 0,
    State.ON_HOLD: 0,
    State.ACTIVE: 0,
    State.DIALLING: 0,
    State.WRAP_UP: 0,
    State.RINGING: 1,
}
FAR_FUTURE = 1e12

SortKey = tuple[float, ...]


def queue_key(conversation: Conversation) -> SortKey:
    due = conversation.sla_due_at if conversation.sla_due_at is not None else FAR_FUTURE
    if conversation.is_closed:
        # Closed items, if shown at all, come last, newest first.
        return (9.0, 0.0, -(conversation.closed_at or conversation.updated_at), 0.0)
    return (
        float(CHANNEL_RANK[conversation.channel]),
        float(STATE_RANK.get(conversation.state, 2)),
        due,
        float(-conversation.priority),
        conversation.created_at,
    )


def newest_key(conversation: Conversation) -> SortKey:
    return (-conversation.updated_at,)


SORTS: dict[str, Callable[[Conversation], SortKey]] = {"queue": queue_key, "newest": newest_key}


@dataclass(frozen=True, slots=True)
class Scope:
    """Which conversations a view starts from, before the typed filter."""

    channels: frozenset[Channel] = frozenset(Channel)
    include_closed: bool = False
    # "mine": assigned to me or waiting for anyone; "all": everyone's.
    owners: str = "mine"


@dataclass(slots=True)
class Filter:
    """The `/` filter: free words match customer, subject, tag, id; `field:value` terms narrow further."""

    text: str = ""
    words: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    FIELDS = ("lang", "channel", "state", "tag", "queue", "owner", "prio", "sla", "customer")

    @classmethod
    def parse(cls, text: str) -> Filter:
        try:
            parts = shlex.split(text)
        except ValueError:  # an unclosed quote while typing: take the words as they are
            parts = text.split()
        parsed = cls(text=text)
        for part in parts:
            name, sep, value = part.partition(":")
            if sep and name.lower() in cls.FIELDS:
                parsed.fields.setdefault(name.lower(), []).append(value.lower())
            elif sep and name and not value:
                parsed.errors.append(f"unknown field {name!r}")
            else:
                parsed.words.append(part.casefold())
        return parsed

    def __bool__(self) -> bool:
        return bool(self.words or self.fields)


PRIORITY_NAMES = {p.name.lower(): p for p in Priority}


def matcher(flt: Filter, *, me: str | None, now: float, sla: SlaPolicy) -> Callable[[Conversation], bool]:
    """Compile a filter into a predicate (built once per filter, run per row)."""
    tests: list[Callable[[Conversation], bool]] = []
    for name, values in flt.fields.items():
        wanted = set(values)
        if name == "lang":
            tests.append(lambda c, w=wanted: c.language.lower() in w)
        elif name == "channel":
            tests.append(lambda c, w=wanted: c.channel.value in w)
        elif name == "state":
            tests.append(lambda c, w=wanted: c.state.value in w)
        elif name == "tag":
            tests.append(lambda c, w=wanted: any(t in w for t in c.tags))
        elif name == "queue":
            tests.append(lambda c, w=wanted: c.queue.lower() in w)
        elif name == "owner":
            owners = {me if v == "me" else None if v in ("none", "nobody") else v for v in wanted}
            tests.append(lambda c, o=owners: c.assignee in o)
        elif name == "prio":
            levels = {PRIORITY_NAMES[v] for v in wanted if v in PRIORITY_NAMES}
            tests.append(lambda c, p=levels: c.priority in p)
        elif name == "sla":
            states = {SlaState(v) for v in wanted if v in SlaState._value2member_map_}
            tests.append(lambda c, s=states: sla.state(c, now) in s)
        elif name == "customer":
            tests.append(lambda c, w=wanted: any(v in c.customer_name.casefold() for v in w))
    for word in flt.words:
        tests.append(
            lambda c, w=word: (
                w in c.customer_name.casefold()
                or w in c.subject.casefold()
                or any(w in t for t in c.tags)
                or w == c.id.casefold()
                or w == c.id.partition(":")[2]
            )
        )
    if not tests:
        return lambda c: True
    return lambda c: all(test(c) for test in tests)


class View:
    """An ordered, filtered list of conversation ids over a store's conversations."""

    def __init__(
        self,
        name: str,
        scope: Scope,
        *,
        me: str | None,
        sla: SlaPolicy | None = None,
        sort: str = "queue",
    ) -> None:
        self.name = name
        self.scope = scope
        self.me = me
        self.sla = sla or SlaPolicy()
        self.sort_name = sort
        self._key = SORTS[sort]
        self.filter = Filter()
        self._rows: list[tuple[SortKey, str]] = []
        self._keys: dict[str, SortKey] = {}
        self._match: Callable[[Conversation], bool] = lambda c: True
        self.now = 0.0
        self.next_wake = FAR_FUTURE

    def __len__(self) -> int:
        return len(self._rows)

    def id_at(self, index: int) -> str:
        return self._rows[index][1]

    def ids(self) -> list[str]:
        return [row[1] for row in self._rows]

    def index_of(self, conversation_id: str) -> int | None:
        key = self._keys.get(conversation_id)
        if key is None:
            return None
        index = bisect.bisect_left(self._rows, (key, conversation_id))
        if index < len(self._rows) and self._rows[index][1] == conversation_id:
            return index
        return None

    # ------------------------------------------------------------------------------------------ membership

    def _in_scope(self, c: Conversation) -> bool:
        scope = self.scope
        if c.channel not in scope.channels:
            return False
        if c.is_closed and not scope.include_closed:
            return False
        if scope.owners == "mine" and c.assignee not in (None, self.me):
            return False
        if c.snoozed_until is not None and c.snoozed_until > self.now:
            self.next_wake = min(self.next_wake, c.snoozed_until)
            return False
        return self._match(c)

    def rebuild(self, conversations: Iterable[Conversation], now: float) -> None:
        self.now = now
        self.next_wake = FAR_FUTURE
        self._match = matcher(self.filter, me=self.me, now=now, sla=self.sla)
        key = self._key
        rows = [(key(c), c.id) for c in conversations if self._in_scope(c)]
        rows.sort()
        self._rows = rows
        self._keys = {cid: k for k, cid in rows}

    def set_filter(self, text: str, conversations: Iterable[Conversation], now: float) -> Filter:
        self.filter = Filter.parse(text)
        self.rebuild(conversations, now)
        return self.filter

    def update(self, changed: Iterable[str], lookup: dict[str, Conversation], now: float) -> bool:
        """Re-place the changed conversations. Returns whether the list changed."""
        self.now = now
        touched = False
        key_of = self._key
        for cid in changed:
            old = self._keys.pop(cid, None)
            if old is not None:
                index = bisect.bisect_left(self._rows, (old, cid))
                if index < len(self._rows) and self._rows[index][1] == cid:
                    del self._rows[index]
                    touched = True
            conversation = lookup.get(cid)
            if conversation is not None and self._in_scope(conversation):
                key = key_of(conversation)
                bisect.insort(self._rows, (key, cid))
                self._keys[cid] = key
                touched = True
        return touched
