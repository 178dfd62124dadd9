"""A filter computed in slices (`View.filter_pass`) ends exactly where a whole pass run at the end would: the
same rows in the same order, whatever the store changed while it ran, and the view shows its old rows until
the pass is installed."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from standardiste.backends.base import ConversationRemoved, ConversationUpserted, Snapshot
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.core.store import Store
from standardiste.console.core.views import VIEW_SCOPES, ViewSet
from test_views import NOW, _conversation, _mutate

SCOPES = {name: scope for name, (_, scope) in VIEW_SCOPES.items()}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    before=st.sampled_from(["", "refund", "lang:fr"]),
    text=st.sampled_from(["", "lang:de", "refund", "owner:me", "tag:refund", "anna", "lang:de refund"]),
    view=st.sampled_from(["all", "everyone", "email", "snoozed"]),
    slice_size=st.integers(1, 40),
)
def test_a_pass_in_slices_with_changes_meanwhile_equals_a_whole_pass_at_the_end(
    seed: int, before: str, text: str, view: str, slice_size: int
) -> None:
    rng = random.Random(seed)
    store = Store()
    store.load(Snapshot(conversations=[_conversation(rng, i) for i in range(80)]))
    live = ViewSet(SCOPES, me="alice", sla=SlaPolicy())
    live.rebuild(store.conversations, NOW)
    live[view].set_filter(before, store.conversations.values(), NOW)
    shown_before = live[view].ids()

    running = live[view].filter_pass(text, store.conversations.values(), NOW)
    while not running.step(slice_size):
        # The store changes between slices: updates, a new conversation, a removed one.
        batch: list[object] = [
            ConversationUpserted(_mutate(rng, store.conversations[cid]))
            for cid in rng.sample(sorted(store.conversations), k=min(3, len(store.conversations)))
        ]
        batch.append(ConversationUpserted(_conversation(rng, 100 + rng.randrange(1000))))
        if rng.random() < 0.3:
            batch.append(ConversationRemoved(rng.choice(sorted(store.conversations))))
        changes = store.apply(batch, NOW)  # type: ignore[arg-type]
        live.update(changes.conversations | changes.removed, store.conversations, NOW, changes.previous)
        running.changed |= changes.conversations | changes.removed
        assert live[view].filter.text == before  # still the old filter on screen
    if not store.conversations:
        return
    shown_before = live[view].ids()  # what the old filter shows after the changes
    assert running.install(store.conversations).text == text

    fresh = ViewSet(SCOPES, me="alice", sla=SlaPolicy())
    fresh.rebuild(store.conversations, NOW)
    fresh[view].set_filter(text, store.conversations.values(), NOW)
    assert live[view].ids() == fresh[view].ids()
    assert text != before or live[view].ids() == shown_before
    # The view keeps being kept current afterwards, as any view is.
    changes = store.apply([ConversationUpserted(_conversation(rng, 5000))], NOW)
    live.update(changes.conversations, store.conversations, NOW, changes.previous)
    fresh.update(changes.conversations, store.conversations, NOW, changes.previous)
    assert live[view].ids() == fresh[view].ids()


def test_a_pass_shows_nothing_until_installed_then_all_of_it() -> None:
    rng = random.Random(1)
    store = Store()
    store.load(Snapshot(conversations=[_conversation(rng, i) for i in range(50)]))
    views = ViewSet(SCOPES, me="alice", sla=SlaPolicy())
    views.rebuild(store.conversations, NOW)
    everything = views["everyone"].ids()
    running = views["everyone"].filter_pass("lang:de", store.conversations.values(), NOW)
    running.step(10)
    assert views["everyone"].ids() == everything and not running.done
    running.install(store.conversations)  # judges the rows left first
    german = [cid for cid in everything if store.conversations[cid].language == "de"]
    assert views["everyone"].ids() == german and german
