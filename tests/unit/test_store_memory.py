"""Memory of the store under a flood: a new version of a conversation keeps the objects of the old one where the
values did not change, so that an update costs its changed fields, not a second copy of the row."""

from __future__ import annotations

from factories import conversation
from hypothesis import given, settings
from hypothesis import strategies as st
from standardiste.backends.base import ConversationRemoved, ConversationUpserted, Snapshot, SnapshotLoaded
from standardiste.console.core.model import Channel, State
from standardiste.console.core.store import Store


def _fresh(text: str) -> str:
    """An equal string that is another object, as a decoded row gives."""
    return "".join(list(text))


def test_an_update_shares_the_unchanged_values_of_the_version_it_replaces() -> None:
    store = Store()
    first = conversation(
        "local:7",
        Channel.CHAT,
        State.WAITING,
        created_at=1700000000.25,
        sla_due_at=1700000060.5,
        tags=("vip",),
    )
    store.apply([SnapshotLoaded("local", Snapshot(conversations=[first]))])
    update = conversation(
        _fresh("local:7"),
        Channel.CHAT,
        State.WAITING,
        subject=_fresh(first.subject),
        created_at=float("1700000000.25"),
        sla_due_at=float("1700000060.5"),
        updated_at=1700000099.0,
        tags=(_fresh("vip"),),
        unread=3,
        version=2,
    )
    assert update.id is not first.id and update.created_at is not first.created_at
    changes = store.apply([ConversationUpserted(update)])
    held = store.conversations["local:7"]
    assert held.unread == 3 and held.version == 2 and held.updated_at == 1700000099.0
    assert held.id is first.id
    assert held.subject is first.subject
    assert held.created_at is first.created_at
    assert held.sla_due_at is first.sla_due_at
    assert held.tags is first.tags
    assert changes.previous["local:7"] is first
    assert held == update  # the same values: only which equal object a field points to changed


def test_values_that_differ_in_type_or_sign_are_not_shared() -> None:
    store = Store()
    store.apply([ConversationUpserted(conversation(1, created_at=0.0, sla_due_at=1700000000.0))])
    update = conversation(1, created_at=-0.0, sla_due_at=1700000000, subject="another subject", version=2)
    store.apply([ConversationUpserted(update)])
    held = store.conversations["local:1"]
    assert type(held.sla_due_at) is int  # 1700000000 == 1700000000.0, yet an int stays an int
    assert str(held.created_at) == "-0.0"
    assert held.subject == "another subject"


@settings(max_examples=60, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["a", "b", "c", None])), max_size=120))
def test_the_customer_index_finds_what_a_scan_finds(moves: list[tuple[int, str | None]]) -> None:
    """Conversations move between customers and go (None): each customer's list is what a scan finds, whether
    they have one, a few or more than SMALL_CUSTOMER."""
    store = Store()
    for n, customer in moves:
        if customer is None:
            store.apply([ConversationRemoved(f"local:{n}")])
        else:
            store.apply([ConversationUpserted(conversation(n, customer_id=customer, created_at=float(n)))])
    for customer in ("a", "b", "c", "nobody"):
        scanned = sorted(
            (c for c in store.conversations.values() if c.customer_id == customer),
            key=lambda c: c.created_at,
            reverse=True,
        )
        assert store.of_customer(customer) == scanned


def test_a_big_account_keeps_all_its_conversations() -> None:
    store = Store()
    store.apply(
        [ConversationUpserted(conversation(n, customer_id="big", created_at=float(n))) for n in range(20)]
    )
    store.apply([ConversationRemoved(f"local:{n}") for n in range(0, 20, 3)])
    kept = [n for n in range(19, -1, -1) if n % 3]
    assert [c.id for c in store.of_customer("big")] == [f"local:{n}" for n in kept]
