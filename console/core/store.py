"""The in-memory store: every conversation, agent and customer the console knows, kept current by events.

The Hub applies backend events here in batches; `apply` returns what changed so that views and widgets
update only what they must. Nothing here blocks or draws.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...backends.base import (
    AgentUpdated,
    BackendStatus,
    ConversationRemoved,
    ConversationUpserted,
    CsatRecorded,
    CustomerUpdated,
    Event,
    HeadLoaded,
    LinkState,
    MessageAdded,
    Snapshot,
    SnapshotLoaded,
    TypingChanged,
    WrappedUp,
)
from .collector import long_lived
from .model import Agent, Conversation, CsatRecord, Customer, Message, WrapUpRecord, intern_conversation
from .store_rows import (
    CustomerIndex,
    PreparedSnapshot,
    drop_unloaded,
    held_of,
    index_customer,
    merge_rows,
    put_row,
    unindex_customer,
)

# A typing indicator not refreshed for this long is stale (the customer closed the tab).
TYPING_TTL = 6.0
# Records kept for the wallboard (CSAT, wrap-ups) beyond which the oldest are dropped.
MAX_RECORDS = 200_000


@dataclass(slots=True)
class Changes:
    """What one batch of events changed."""

    conversations: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    typing: set[str] = field(default_factory=set)
    records: bool = False
    links: list[BackendStatus] = field(default_factory=list)
    new_conversations: list[str] = field(default_factory=list)
    reloaded: bool = False  # a whole snapshot arrived: views rebuild rather than update
    # The state each changed conversation had before this batch (absent: it is new).
    previous: dict[str, Conversation] = field(default_factory=dict)
    # A snapshot installed whole (Store.install): the views' order of the store's rows, computed with them off
    # the event loop (views.queue_order), so that the views are not sorted again on it.
    order: Any = None

    def __bool__(self) -> bool:
        return bool(
            self.conversations
            or self.removed
            or self.agents
            or self.messages
            or self.typing
            or self.records
            or self.links
            or self.reloaded
        )


class Store:
    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.agents: dict[str, Agent] = {}
        self.customers: dict[str, Customer] = {}
        self.csat: list[CsatRecord] = []
        self.csat_by_conversation: dict[str, CsatRecord] = {}
        self.wrapups: list[WrapUpRecord] = []
        self.links: dict[str, BackendStatus] = {}
        # conversation id -> who -> when the indicator lapses
        self._typing: dict[str, dict[str, float]] = {}
        # customer id -> their conversation ids: the customer card must not scan 100k rows per draw. Most
        # customers have one: the id itself (no container); a few, a tuple (64 bytes for 3, a list is 116);
        # beyond SMALL_CUSTOMER, a list, so that adding to a big account is not a copy each time.
        self._by_customer: dict[str, str | tuple[str, ...] | list[str]] = {}
        # conversation id -> agents who have it open or are typing in it
        self._watchers: dict[str, set[str]] = {}
        # backend -> the last row of the head it sent (None: the head held all its open rows), until its
        # snapshot lands: the views show only what no missing row can sort before (ViewSet.rebuild).
        self.heads: dict[str, Conversation | None] = {}
        self.version = 0

    # ------------------------------------------------------------------------------------------ loading

    @long_lived()  # a snapshot's rows live on: not walked by the collector (collector.py)
    def load(self, snapshot: Snapshot) -> Changes:
        changes = Changes()
        merge_rows(self.conversations, self._by_customer, list(snapshot.conversations), changes.conversations)
        self._load_the_rest(snapshot, changes)
        return changes

    def _load_the_rest(self, snapshot: Snapshot, changes: Changes) -> None:
        """A snapshot's agents, customers and records (its conversations are merged by `merge_rows`)."""
        for agent in snapshot.agents:
            self._put_agent(agent, changes)
        for customer in snapshot.customers:
            self.customers[customer.id] = customer
        if snapshot.csat or snapshot.wrapups:
            # A reconnect resends what was already there: keep each record once.
            seen_csat = {(r.conversation_id, r.at) for r in self.csat}
            seen_wrap = {(r.conversation_id, r.at) for r in self.wrapups}
            self.csat.extend(r for r in snapshot.csat if (r.conversation_id, r.at) not in seen_csat)
            self.csat_by_conversation.update((r.conversation_id, r) for r in snapshot.csat)
            self.wrapups.extend(r for r in snapshot.wrapups if (r.conversation_id, r.at) not in seen_wrap)
            changes.records = True
        self.version += 1

    def rows_to_prepare(self) -> tuple[int, dict[str, Conversation], CustomerIndex]:
        """What `store_rows.prepare_snapshot` copies in a worker thread: the version, the rows, the index."""
        return self.version, self.conversations, self._by_customer

    def install(self, prepared: PreparedSnapshot) -> Changes | None:
        """A snapshot prepared off the event loop (store_rows.py), in one step; None when the store changed
        since it was prepared (then `apply` takes the snapshot itself)."""
        if prepared.version != self.version:
            return None
        event = prepared.event
        changes = Changes(conversations=prepared.loaded, removed=prepared.removed, reloaded=True)
        changes.order = prepared.order
        self.heads.pop(event.backend, None)
        self.conversations.clear()
        self.conversations.update(prepared.conversations)
        self._by_customer.clear()
        self._by_customer.update(prepared.index)
        loaded = Changes()  # as `apply` takes a snapshot: of what loading it changed, the agents
        self._load_the_rest(event.snapshot, loaded)
        changes.agents |= loaded.agents
        self._trim_records()
        self.version += 1
        return changes

    def load_records(self, csat: Iterable[CsatRecord] = (), wrapups: Iterable[WrapUpRecord] = ()) -> None:
        self.csat.extend(csat)
        self.wrapups.extend(wrapups)
        self.version += 1

    def _index(self, customer_id: str, conversation_id: str) -> None:
        index_customer(self._by_customer, customer_id, conversation_id)

    def _unindex(self, customer_id: str, conversation_id: str) -> None:
        unindex_customer(self._by_customer, customer_id, conversation_id)

    def _put_agent(self, agent: Agent, changes: Changes) -> None:
        """Keep the index of who has which conversation open, so each row can say it cheaply."""
        previous = self.agents.get(agent.id)
        if previous is not None:
            for cid in (previous.viewing, previous.typing_in):
                if cid:
                    self._watchers.get(cid, set()).discard(agent.id)
                    changes.typing.add(cid)  # its row shows who is on it: repaint
        self.agents[agent.id] = agent
        changes.agents.add(agent.id)
        for cid in (agent.viewing, agent.typing_in):
            if cid:
                self._watchers.setdefault(cid, set()).add(agent.id)
                changes.typing.add(cid)

    def _put(self, conversation: Conversation) -> None:
        put_row(self.conversations, self._by_customer, conversation)

    # ------------------------------------------------------------------------------------------ events

    def apply(self, events: Iterable[Event], now: float | None = None) -> Changes:
        changes = Changes()
        stamp = time.time() if now is None else now
        for event in events:
            match event:
                case (
                    SnapshotLoaded(backend=backend, snapshot=snapshot)
                    | HeadLoaded(backend=backend, snapshot=snapshot)
                ):
                    # A new snapshot of a backend replaces what the store held of it: what it no longer has
                    # (mail deleted while the link was down) goes, as it would after a restart. A head is
                    # replaced the same way by the snapshot that follows it.
                    if isinstance(event, HeadLoaded):
                        last = snapshot.conversations[-1] if snapshot.conversations else None
                        self.heads[backend] = None if event.complete else last
                    else:
                        self.heads.pop(backend, None)
                    held = held_of(self.conversations, backend)
                    loaded = self.load(snapshot)
                    changes.removed |= drop_unloaded(
                        self.conversations, self._by_customer, held, loaded.conversations
                    )
                    if changes.conversations:
                        changes.conversations |= loaded.conversations
                    else:  # the first load of a batch: 100k ids not copied into an empty set
                        changes.conversations = loaded.conversations
                    changes.agents |= loaded.agents
                    changes.reloaded = True
                case ConversationUpserted(conversation=conversation):
                    previous = self.conversations.get(conversation.id)
                    if previous is not None and previous.version > conversation.version > 0:
                        continue  # an older state arriving late
                    if previous is None:
                        changes.new_conversations.append(conversation.id)
                    else:
                        changes.previous.setdefault(conversation.id, previous)
                    self._put(intern_conversation(conversation))
                    changes.conversations.add(conversation.id)
                case ConversationRemoved(conversation_id=conversation_id):
                    removed = self.conversations.pop(conversation_id, None)
                    if removed is not None:
                        self._unindex(removed.customer_id, conversation_id)
                        changes.removed.add(conversation_id)
                case MessageAdded(message=message):
                    changes.messages.append(message)
                case TypingChanged(conversation_id=conversation_id, who=who, typing=typing):
                    people = self._typing.setdefault(conversation_id, {})
                    if typing:
                        people[who] = stamp + TYPING_TTL
                    else:
                        people.pop(who, None)
                    changes.typing.add(conversation_id)
                case AgentUpdated(agent=agent):
                    self._put_agent(agent, changes)
                case CustomerUpdated(customer=customer):
                    self.customers[customer.id] = customer
                case CsatRecorded(record=record):
                    self.csat.append(record)
                    self.csat_by_conversation[record.conversation_id] = record
                    changes.records = True
                case WrappedUp(record=record):
                    self.wrapups.append(record)
                    changes.records = True
                case BackendStatus():
                    self.links[event.backend] = event
                    changes.links.append(event)
        self._trim_records()
        if changes:
            self.version += 1
        return changes

    def _trim_records(self) -> None:
        if len(self.csat) > MAX_RECORDS:
            del self.csat[: len(self.csat) - MAX_RECORDS]
        if len(self.wrapups) > MAX_RECORDS:
            del self.wrapups[: len(self.wrapups) - MAX_RECORDS]

    # ------------------------------------------------------------------------------------------ queries

    def typing(self, conversation_id: str, now: float | None = None) -> list[str]:
        people = self._typing.get(conversation_id)
        if not people:
            return []
        stamp = time.time() if now is None else now
        return [who for who, until in people.items() if until > stamp]

    def link_down(self) -> list[BackendStatus]:
        return [status for status in self.links.values() if status.state is not LinkState.CONNECTED]

    def of_customer(self, customer_id: str) -> list[Conversation]:
        ids = self._by_customer.get(customer_id, ())
        if isinstance(ids, str):
            ids = (ids,)
        found = [self.conversations[cid] for cid in ids if cid in self.conversations]
        found.sort(key=lambda c: c.created_at, reverse=True)
        return found

    def viewers(self, conversation_id: str, *, besides: str | None = None) -> list[Agent]:
        """Other agents who have this conversation open or are typing in it (collision warnings)."""
        return [
            self.agents[agent_id]
            for agent_id in sorted(self._watchers.get(conversation_id, ()))
            if agent_id != besides
            and agent_id in self.agents
            and conversation_id in (self.agents[agent_id].viewing, self.agents[agent_id].typing_in)
        ]
