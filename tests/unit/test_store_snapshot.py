"""A new snapshot of a backend replaces what the store held of it (the hub snapshots again after a reconnect):
what the backend no longer has goes, the other backends' conversations stay."""

from __future__ import annotations

from factories import conversation
from standardiste.backends.base import ConversationUpserted, Snapshot, SnapshotLoaded
from standardiste.console.core.model import Channel, State
from standardiste.console.core.store import Store


def test_a_reconnect_snapshot_drops_what_the_backend_no_longer_has() -> None:
    store = Store()
    kept, deleted = conversation("mail:1", Channel.EMAIL, State.OPEN), conversation("mail:2", Channel.EMAIL, State.OPEN)
    other = conversation("local:7", Channel.CHAT, State.ACTIVE)
    store.apply([SnapshotLoaded("mail", Snapshot(conversations=[kept, deleted])), ConversationUpserted(other)])
    assert set(store.conversations) == {"mail:1", "mail:2", "local:7"}
    changes = store.apply([SnapshotLoaded("mail", Snapshot(conversations=[kept]))])
    assert set(store.conversations) == {"mail:1", "local:7"}
    assert changes.removed == {"mail:2"}
    assert store.of_customer(deleted.customer_id) == []  # the customer card forgets it too
