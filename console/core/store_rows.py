"""A snapshot's conversations merged into the store's rows, on the event loop or off it.

At 100k conversations, taking a snapshot into the store (100 ms) and sorting the views' rows (90 ms) held the
event loop ~0.3 s: a key typed at the console's start, or during a reconnect's snapshot, waited that long. The
merge is now prepared in a worker thread over a copy of the store's rows (`prepare_snapshot`), and installed
on the loop in one step (`Store.install`, a few milliseconds), unless the store changed meanwhile (its
`version` moved): then the snapshot is applied on the loop, as before. Both ways run `merge_rows`, so they
cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...backends.base import SnapshotLoaded
from .model import Conversation, intern_conversation

# customer id -> their conversation ids (see Store._by_customer)
CustomerIndex = dict[str, str | tuple[str, ...] | list[str]]

# A customer with more conversations than this has them in a list (see Store._by_customer).
SMALL_CUSTOMER = 8


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


def index_customer(index: CustomerIndex, customer_id: str, conversation_id: str) -> None:
    ids = index.get(customer_id)
    if ids is None:
        index[customer_id] = conversation_id
    elif isinstance(ids, str):
        index[customer_id] = (ids, conversation_id)
    elif isinstance(ids, tuple):
        index[customer_id] = (*ids, conversation_id) if len(ids) < SMALL_CUSTOMER else [*ids, conversation_id]
    else:
        ids.append(conversation_id)


def unindex_customer(index: CustomerIndex, customer_id: str, conversation_id: str) -> None:
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


def put_row(conversations: dict[str, Conversation], index: CustomerIndex, conversation: Conversation) -> None:
    """One conversation into the rows, replacing (and sharing the unchanged values of) its previous state."""
    previous = conversations.get(conversation.id)
    if previous is not None:
        if previous.customer_id != conversation.customer_id:
            unindex_customer(index, previous.customer_id, conversation.id)
        share_unchanged(previous, conversation)
    conversations[conversation.id] = conversation
    if previous is None or previous.customer_id != conversation.customer_id:
        index_customer(index, conversation.customer_id, conversation.id)


def merge_rows(
    conversations: dict[str, Conversation],
    index: CustomerIndex,
    rows: list[Conversation],
    loaded: set[str],
) -> None:
    """A snapshot's rows into `conversations` and the customer index; their ids into `loaded`."""
    for conversation in rows:  # 100k rows: the common case inline, one dict op each
        conversation = intern_conversation(conversation)
        cid = conversation.id
        if cid in conversations:
            put_row(conversations, index, conversation)
        else:
            conversations[cid] = conversation
            if index.setdefault(conversation.customer_id, cid) is not cid:
                index_customer(index, conversation.customer_id, cid)
        loaded.add(cid)


def drop_unloaded(
    conversations: dict[str, Conversation], index: CustomerIndex, held: set[str], loaded: set[str]
) -> set[str]:
    """What the store held of a backend before its snapshot (`held`) and the snapshot no longer has: removed."""
    gone = held - loaded
    for cid in gone:
        removed = conversations.pop(cid)
        unindex_customer(index, removed.customer_id, cid)
    return gone


def held_of(conversations: dict[str, Conversation], backend: str) -> set[str]:
    prefix = backend + ":"
    return {cid for cid in conversations if cid.startswith(prefix)}


@dataclass(slots=True)
class PreparedSnapshot:
    """A snapshot's rows merged with a copy of the store's, off the event loop, ready for `Store.install`."""

    event: SnapshotLoaded
    version: int  # the store's version the copy was taken at: installed only if it has not moved
    conversations: dict[str, Conversation]
    index: CustomerIndex
    loaded: set[str]
    removed: set[str]
    order: Any = None  # the views' order of `conversations` (views.queue_order), computed with them


def prepare_snapshot(
    version: int, conversations: dict[str, Conversation], index: CustomerIndex, event: SnapshotLoaded
) -> PreparedSnapshot | None:
    """`event` merged with copies of the store's rows and customer index, as `Store.apply` would merge it;
    None when the rows changed while they were copied (the store was written on the loop meanwhile)."""
    try:
        rows = dict(conversations)
        customers = {k: [*v] if isinstance(v, list) else v for k, v in index.items()}
    except RuntimeError:  # "changed size during iteration": the loop wrote the store; apply there instead
        return None
    held = held_of(rows, event.backend)
    loaded: set[str] = set()
    merge_rows(rows, customers, list(event.snapshot.conversations), loaded)
    removed = drop_unloaded(rows, customers, held, loaded)
    return PreparedSnapshot(event, version, rows, customers, loaded, removed)
