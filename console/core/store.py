"""The in-memory store: every conversation, agent and customer the console knows, kept current by events.

The Hub applies backend events here in batches; `apply` returns what changed so that views and widgets
update only what they must. Nothing here blocks or draws.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

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

# A typing indicator not refreshed for this long is stale (the customer closed the tab).
TYPING_TTL = 6.0
# A customer with more conversations than this has them in a list (see Store._by_customer).
SMALL_CUSTOMER = 8
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


def _same(old: object, new: object) -> bool:
    """Equal and of one type, so that taking `old` for `new` cannot be seen (not 1 for 1.0, not 0.0 for -0.0)."""
    return old is not new and type(old) is type(new) and old == new and old != 0


def share_unchanged(previous: Conversation, conversation: Conversation) -> None:
    """Give the new version of a conversation the objects of the old one where their values are equal.

    Under a flood most updates change a counter and a timestamp. Without this, each one would keep two copies
    of the id (the store's and the views' dicts keep the key they were first given) and of the timestamps (the
    views' sort keys hold the old ones), about 130 bytes a conversation. Anything else still holding the old
    version (a batch being drawn) then shares the rest with the new one. `conversation` is new here (an
    adapter's decoded row), and what changes is only which equal object a field points to.
    """
    if _same(previous.id, conversation.id):
        conversation.id = previous.id
    if _same(previous.subject, conversation.subject):
        conversation.subject = previous.subject
    if _same(previous.created_at, conversation.created_at):
        conversation.created_at = previous.created_at
    if _same(previous.sla_due_at, conversation.sla_due_at):
        conversation.sla_due_at = previous.sla_due_at
    if _same(previous.last_customer_at, conversation.last_customer_at):
        conversation.last_customer_at = previous.last_customer_at
    if _same(previous.updated_at, conversation.updated_at):
        conversation.updated_at = previous.updated_at
    if _same(previous.tags, conversation.tags):
        conversation.tags = previous.tags


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
        conversations, by_customer, loaded = self.conversations, self._by_customer, changes.conversations
        for conversation in snapshot.conversations:  # 100k rows: the common case inline, one dict op each
            conversation = intern_conversation(conversation)
            cid = conversation.id
            if cid in conversations:
                self._put(conversation)
            else:
                conversations[cid] = conversation
                if by_customer.setdefault(conversation.customer_id, cid) is not cid:
                    self._index(conversation.customer_id, cid)
            loaded.add(cid)
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
        return changes

    def load_records(self, csat: Iterable[CsatRecord] = (), wrapups: Iterable[WrapUpRecord] = ()) -> None:
        self.csat.extend(csat)
        self.wrapups.extend(wrapups)
        self.version += 1

    def _index(self, customer_id: str, conversation_id: str) -> None:
        index = self._by_customer
        ids = index.get(customer_id)
        if ids is None:
            index[customer_id] = conversation_id
        elif isinstance(ids, str):
            index[customer_id] = (ids, conversation_id)
        elif isinstance(ids, tuple):
            index[customer_id] = (
                (*ids, conversation_id) if len(ids) < SMALL_CUSTOMER else [*ids, conversation_id]
            )
        else:
            ids.append(conversation_id)

    def _unindex(self, customer_id: str, conversation_id: str) -> None:
        index = self._by_customer
        ids = index.get(customer_id)
        if ids is None:
            return
        if isinstance(ids, str):
            if ids == conversation_id:
                del index[customer_id]
        elif isinstance(ids, tuple):
            if conversation_id in ids:
                rest = tuple(cid for cid in ids if cid != conversation_id)
                index[customer_id] = rest[0] if len(rest) == 1 else rest
        elif conversation_id in ids:
            ids.remove(conversation_id)

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
        previous = self.conversations.get(conversation.id)
        if previous is not None:
            if previous.customer_id != conversation.customer_id:
                self._unindex(previous.customer_id, conversation.id)
            share_unchanged(previous, conversation)
        self.conversations[conversation.id] = conversation
        if previous is None or previous.customer_id != conversation.customer_id:
            self._index(conversation.customer_id, conversation.id)

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
                    prefix = backend + ":"
                    held = {cid for cid in self.conversations if cid.startswith(prefix)}
                    loaded = self.load(snapshot)
                    for gone in held - loaded.conversations:
                        removed = self.conversations.pop(gone)
                        self._unindex(removed.customer_id, gone)
                        changes.removed.add(gone)
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
        if len(self.csat) > MAX_RECORDS:
            del self.csat[: len(self.csat) - MAX_RECORDS]
        if len(self.wrapups) > MAX_RECORDS:
            del self.wrapups[: len(self.wrapups) - MAX_RECORDS]
        if changes:
            self.version += 1
        return changes

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
