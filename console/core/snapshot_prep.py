"""A big snapshot taken into the store and sorted for the views in a worker thread, then installed at once.

Taking 100k conversations into the store and sorting them for the views held the event loop ~0.3 s: a key
pressed just after the console's first frame, or while a backend reconnected, was answered that late. The
console's pump (`StandardisteApp._pump`) now gives each big snapshot a slice of its own, prepares it here off
the loop (`prepare`: the store's rows copied and merged with the snapshot's, `store_rows.py`, and their queue
order, `views.queue_order`), and installs it in one step on the loop (`Store.install`). Should the store have
changed meanwhile (a found conversation taken in), the snapshot is applied on the loop instead, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ...backends.base import Event, SnapshotLoaded
from .collector import long_lived
from .store import Store
from .store_rows import PreparedSnapshot, prepare_snapshot
from .views import queue_order

# Below this many conversations a snapshot is applied on the loop: quicker than a hop to a thread.
PREPARED_ROWS = 5_000


def is_big_snapshot(event: Event) -> bool:
    return isinstance(event, SnapshotLoaded) and len(event.snapshot.conversations) >= PREPARED_ROWS


def slices(events: Sequence[Event], size: int) -> Iterator[list[Event]]:
    """`events` in order, in slices of at most `size`; a big snapshot in a slice of its own."""
    chunk: list[Event] = []
    for event in events:
        if is_big_snapshot(event):
            if chunk:
                yield chunk
                chunk = []
            yield [event]
            continue
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def prepare(store: Store, event: SnapshotLoaded) -> PreparedSnapshot | None:
    """In a worker thread: `event` merged with a copy of the store's rows, and their queue order."""
    with long_lived():  # 100k rows that live on: not walked by the collector (collector.py)
        prepared = prepare_snapshot(*store.rows_to_prepare(), event)
        if prepared is not None:
            prepared.order = queue_order(prepared.conversations)
        return prepared
