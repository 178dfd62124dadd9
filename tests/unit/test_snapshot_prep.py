"""A big snapshot prepared off the event loop (snapshot_prep.py) leaves the store and the views exactly as
applying it on the loop does, and is applied on the loop when the store changed while it was prepared."""

from __future__ import annotations

from factories import conversation
from hypothesis import given, settings
from hypothesis import strategies as st
from standardiste.backends.base import (
    AgentUpdated,
    ConversationUpserted,
    Event,
    HeadLoaded,
    Snapshot,
    SnapshotLoaded,
)
from standardiste.console.core import snapshot_prep
from standardiste.console.core.model import STATES_BY_CHANNEL, Agent, Channel, Conversation, State
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.core.snapshot_prep import is_big_snapshot, prepare, slices
from standardiste.console.core.store import Changes, Store
from standardiste.console.core.views import VIEW_SCOPES, ViewSet

CHANNELS = list(Channel)


@st.composite
def rows(draw: st.DrawFn, backend: str, ids: list[int]) -> list[Conversation]:
    """Conversations of `backend` with these numbers; a few customers, so that some have many contacts."""
    found = []
    for n in ids:
        channel = draw(st.sampled_from(CHANNELS))
        found.append(
            conversation(
                f"{backend}:{n}",
                channel,
                draw(st.sampled_from(STATES_BY_CHANNEL[channel])),
                customer_id=f"c{draw(st.integers(0, 4))}",
                created_at=float(draw(st.integers(0, 50))),
                sla_due_at=draw(st.none() | st.floats(0, 100)),
                version=draw(st.integers(0, 3)),
                assignee=draw(st.sampled_from([None, "me", "other"])),
                snoozed_until=draw(st.sampled_from([None, 30.0, 90.0])),
            )
        )
    return found


def _state(store: Store) -> tuple[object, ...]:
    return (
        list(store.conversations.items()),  # the order too: ties in the views keep the store's
        dict(store._by_customer),
        dict(store.heads),
        store.version,
        sorted(store.agents),
    )


def _changes(changes: Changes) -> tuple[object, ...]:
    return (changes.conversations, changes.removed, changes.agents, changes.reloaded, changes.records)


def _views(store: Store, changes: Changes | None = None) -> dict[str, list[str]]:
    views = ViewSet({name: scope for name, (_, scope) in VIEW_SCOPES.items()}, me="me", sla=SlaPolicy())
    views.rebuild(store.conversations, 60.0, store.heads, changes.order if changes else None)
    return {name: view.ids() for name, view in views.views.items()}


def _stores(before: list[Event]) -> tuple[Store, Store]:
    on_loop, prepared = Store(), Store()
    for store in (on_loop, prepared):
        store.apply(before, 0.0)
    return on_loop, prepared


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_prepared_snapshot_leaves_the_store_and_views_as_applying_it_does(data: st.DataObject) -> None:
    held = data.draw(st.lists(st.integers(0, 30), unique=True, max_size=20))
    fresh = data.draw(st.lists(st.integers(0, 30), unique=True, max_size=25))
    before: list[Event] = [
        SnapshotLoaded("local", Snapshot(conversations=data.draw(rows("local", held)))),
        SnapshotLoaded("mail", Snapshot(conversations=data.draw(rows("mail", [1, 2, 3])))),
    ]
    if data.draw(st.booleans()):  # the head came first, as at the console's start
        before.append(HeadLoaded("local", Snapshot(conversations=data.draw(rows("local", held[:3]))), False))
    on_loop, prepared = _stores(before)
    event = SnapshotLoaded(
        "local",
        Snapshot(
            conversations=data.draw(rows("local", fresh)),
            agents=[Agent(id="me", name="Me", viewing="local:1")],
        ),
    )
    # Equal rows, distinct objects: each store takes the snapshot's objects as its own.
    twin = SnapshotLoaded(event.backend, Snapshot(conversations=[*map(_copy, event.snapshot.conversations)],
                                                  agents=event.snapshot.agents))  # fmt: skip

    applied = on_loop.apply([event], 0.0)
    ready = prepare(prepared, twin)
    assert ready is not None
    installed = prepared.install(ready)

    assert installed is not None
    assert _state(prepared) == _state(on_loop)
    assert _changes(installed) == _changes(applied)
    assert _views(prepared, installed) == _views(on_loop)


def _copy(c: Conversation) -> Conversation:
    return Conversation(**{name: getattr(c, name) for name in Conversation.__dataclass_fields__})


def test_a_snapshot_prepared_before_the_store_changed_is_applied_on_the_loop() -> None:
    store = Store()
    store.apply([SnapshotLoaded("local", Snapshot(conversations=[conversation(1)]))], 0.0)
    event = SnapshotLoaded("local", Snapshot(conversations=[conversation(1), conversation(2)]))
    ready = prepare(store, event)
    assert ready is not None
    # Meanwhile on the loop: a conversation found by search is taken in (app.take_in).
    store.apply([ConversationUpserted(conversation("local:9", state=State.SOLVED))], 0.0)
    assert store.install(ready) is None
    assert "local:9" in store.conversations  # nothing was replaced: the caller applies the snapshot itself


def test_big_snapshots_get_a_slice_of_their_own_and_the_order_is_kept() -> None:
    big = SnapshotLoaded(
        "local", Snapshot(conversations=[conversation(n) for n in range(snapshot_prep.PREPARED_ROWS)])
    )
    small = [AgentUpdated(Agent(id=f"a{n}", name="A")) for n in range(5)]
    events: list[Event] = [*small[:3], big, *small[3:]]
    assert is_big_snapshot(big) and not is_big_snapshot(small[0])
    assert list(slices(events, 2)) == [small[:2], small[2:3], [big], small[3:]]
    assert [e for chunk in slices(events, 200) for e in chunk] == events


def test_a_snapshot_of_agents_only_changes_what_applying_it_changes() -> None:
    on_loop, prepared = _stores([SnapshotLoaded("local", Snapshot(conversations=[conversation(1)]))])
    event = SnapshotLoaded("local", Snapshot(agents=[Agent(id="a", name="A", viewing="local:1")]))
    applied = on_loop.apply([event], 0.0)
    ready = prepare(prepared, event)
    assert ready is not None
    installed = prepared.install(ready)
    assert installed is not None
    assert _changes(installed) == _changes(applied) and _state(prepared) == _state(on_loop)
    assert "local:1" in applied.removed  # the snapshot no longer has it: gone both ways
