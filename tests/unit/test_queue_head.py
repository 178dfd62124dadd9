"""The first screenful before the rest (issues 16 and 17): the local workspace reads its queue's head in the
console's exact order, and the views show a head's rows, never a row that a missing one could sort before."""

from __future__ import annotations

import asyncio
from pathlib import Path

from factories import conversation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardiste.backends.base import HeadLoaded, Snapshot, SnapshotLoaded
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.hub import HEAD_ROWS, Hub
from standardiste.console.core.model import Channel, Customer, State
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.core.store import Store
from standardiste.console.core.views import VIEW_SCOPES, ViewSet, queue_key

# Few distinct values, so that ties on every part of the key are common.
ROWS = st.lists(
    st.tuples(
        st.sampled_from(list(Channel)),
        st.sampled_from(list(State)),
        st.one_of(st.none(), st.sampled_from([100.0, 200.0, 300.0])),  # sla_due_at
        st.integers(0, 3),  # priority
        st.sampled_from([1.0, 2.0, 3.0]),  # created_at
        st.sampled_from([None, 5.0, 1e10]),  # closed_at: open, long ago (not loaded), within the last day
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, limit=st.integers(1, 45))
def test_the_head_is_the_queue_order_of_the_open_rows(tmp_path: Path, rows: list, limit: int) -> None:
    path = tmp_path / f"head-{len(rows)}-{limit}.db"
    path.unlink(missing_ok=True)
    ws = Workspace(path)
    with ws.transaction():
        ws.db.execute("DELETE FROM conversations")
        for channel, state, due, priority, created, closed in rows:
            ws.db.execute(
                "INSERT INTO conversations (channel, state, customer_id, priority, created_at, updated_at, "
                "sla_due_at, closed_at) VALUES (?, ?, 'c', ?, ?, ?, ?, ?)",
                (channel.value, state.value, priority, created, created, due, closed),
            )
    opened = [c for c in ws.conversations() if not c.is_closed]
    expected = sorted(opened, key=lambda c: (queue_key(c), int(c.id.partition(":")[2])))[:limit]
    assert [c.id for c in ws.queue_head(limit)] == [c.id for c in expected]
    ws.close()


def test_the_head_is_read_by_the_index_not_by_sorting_every_row(tmp_path: Path) -> None:
    from standardiste.backends.local_queue_order import HEAD_WHERE, ORDER

    ws = Workspace(tmp_path / "plan.db")
    plan = ws.db.execute(
        f"EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE {HEAD_WHERE} ORDER BY {ORDER} LIMIT 200",
        (0.0,),
    ).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "conversations_queue" in details and "TEMP B-TREE" not in details
    ws.close()


def _views(store: Store) -> ViewSet:
    views = ViewSet({name: scope for name, (_, scope) in VIEW_SCOPES.items()}, me="ann", sla=SlaPolicy())
    views.rebuild(store.conversations, 0.0, store.heads)
    return views


def test_a_head_shows_only_what_no_missing_row_can_sort_before() -> None:
    # local's queue: calls at 10, 20, 30, 40 (its head: the first two); mail: emails, after every call.
    local = [conversation(n, Channel.PHONE, created_at=10.0 * n) for n in range(1, 5)]
    mail = [conversation(f"mail:{n}", Channel.EMAIL, created_at=float(n)) for n in range(1, 3)]
    early_chat = conversation("mail:9", Channel.CHAT, created_at=1.0)
    store = Store()
    store.apply([SnapshotLoaded("mail", Snapshot(conversations=[*mail, early_chat]))])
    store.apply([HeadLoaded("local", Snapshot(conversations=local[:2]), complete=False)])
    views = _views(store)
    shown = views["all"]
    # The chat sorts after every call: it could have missing calls before it, so it waits with the emails.
    assert shown.ids() == ["local:1", "local:2"] and shown.partial
    assert len(shown) == 2 and shown.index_of("mail:9") is None and "mail:1" not in shown
    store.apply([SnapshotLoaded("local", Snapshot(conversations=local))])
    views = _views(store)
    assert views["all"].ids() == ["local:1", "local:2", "local:3", "local:4", "mail:9", "mail:1", "mail:2"]
    assert not views["all"].partial


def test_a_complete_head_shows_every_open_row_but_no_closed_one() -> None:
    store = Store()
    calls = [conversation(n, Channel.PHONE, created_at=float(n)) for n in (1, 2)]
    missed = conversation("mail:3", Channel.PHONE, State.ABANDONED, created_at=0.0, closed_at=5.0)
    store.apply([SnapshotLoaded("mail", Snapshot(conversations=[missed]))])
    store.apply([HeadLoaded("local", Snapshot(conversations=calls), complete=True)])
    views = _views(store)
    assert views["all"].ids() == ["local:1", "local:2"]
    assert views["missed"].ids() == []  # a closed row of local's could sort before it
    store.apply([SnapshotLoaded("local", Snapshot(conversations=calls))])
    assert _views(store)["missed"].ids() == ["mail:3"]


async def _kinds_until_snapshot(hub: Hub) -> list[type]:
    """The types of the events the hub queues, up to its first snapshot."""
    await hub.start()
    kinds: list[type] = []
    try:
        async with asyncio.timeout(20):
            while SnapshotLoaded not in kinds:
                kinds.extend(type(e) for e in await hub.queue.get())
    finally:
        await hub.close()
    return kinds


async def test_the_hub_sends_the_head_first_and_only_before_the_first_snapshot(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "hub.db")
    someone = Customer(id="c1", name="Emma")
    for n in range(HEAD_ROWS + 5):
        ws.create_conversation(channel=Channel.EMAIL, customer=someone, subject=f"s{n}")
    ws.close()
    backend = LocalBackend(tmp_path / "hub.db", agent_id="ann")
    hub = Hub([backend])
    kinds = await _kinds_until_snapshot(hub)
    heads = [k for k in kinds if k is HeadLoaded]
    assert heads == [HeadLoaded] and kinds.index(HeadLoaded) < kinds.index(SnapshotLoaded)
    assert hub.me["local"] == "ann"


@given(keys=st.lists(st.integers(0, 50), max_size=3000), bound=st.integers(-1, 51))
@settings(max_examples=30, deadline=None)
def test_counting_the_rows_up_to_a_key_matches_a_plain_count(keys: list[int], bound: int) -> None:
    from standardiste.console.core.sorted_ids import SortedIds

    by_id = {f"id{n}": key for n, key in enumerate(keys)}
    ids = SortedIds(by_id.__getitem__, by_id)
    for n in range(0, len(keys), 7):  # sublists of uneven lengths, as a live view has them
        ids.discard(f"id{n}")
    kept = [key for n, key in enumerate(keys) if n % 7]
    assert ids.count_at_most(bound) == sum(1 for key in kept if key <= bound)


async def test_a_wallboard_s_hub_reads_no_head(tmp_path: Path) -> None:
    Workspace(tmp_path / "board.db").close()
    hub = Hub([LocalBackend(tmp_path / "board.db", agent_id="sup")], heads=False)
    kinds = await _kinds_until_snapshot(hub)
    assert HeadLoaded not in kinds


class _ReadyBackend(LocalBackend):
    """A workspace whose head was read before the console asked (as its reader process does)."""

    def __init__(self, path: Path, head: Snapshot) -> None:
        super().__init__(path, agent_id="ann")
        self._ready = head
        self.asked: list[int] = []

    def ready_head(self, limit: int) -> Snapshot | None:
        self.asked.append(limit)
        return self._ready

    async def queue_head(self, limit: int) -> Snapshot:
        raise AssertionError("a head shown before connecting is not read again")


async def test_a_head_ready_before_connecting_is_given_once_and_not_read_again(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ready.db")
    ws.create_conversation(channel=Channel.CHAT, customer=Customer(id="c1", name="Emma"), subject="hello")
    head = Snapshot(conversations=ws.queue_head(HEAD_ROWS), agents=[], me="ann")
    ws.close()
    backend = _ReadyBackend(tmp_path / "ready.db", head)
    hub = Hub([backend])
    ready = hub.ready_heads()
    assert [type(event) for event in ready] == [HeadLoaded]
    assert ready[0].complete and [c.subject for c in ready[0].snapshot.conversations] == ["hello"]
    assert backend.asked == [HEAD_ROWS] and hub.me["local"] == "ann"
    assert hub.ready_heads() == []
    kinds = await _kinds_until_snapshot(hub)
    assert HeadLoaded not in kinds and SnapshotLoaded in kinds


def test_a_wallboard_takes_no_ready_head(tmp_path: Path) -> None:
    Workspace(tmp_path / "board.db").close()
    backend = _ReadyBackend(tmp_path / "board.db", Snapshot(conversations=[], agents=[], me="ann"))
    assert Hub([backend], heads=False).ready_heads() == []
    assert backend.asked == []


def test_the_reader_process_reads_as_many_head_rows_as_the_hub_asks() -> None:
    from standardiste.backends import local_prefetch

    assert local_prefetch.HEAD_ROWS == HEAD_ROWS
