"""SortedIds holds the same order as sortedcontainers' SortedKeyList through any mix of adds, removals and key
changes (ties included), and finds, indexes and counts what it holds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedKeyList
from standardiste.console.core import sorted_ids
from standardiste.console.core.sorted_ids import SortedIds

# (op, id, key): add an id with a key (a key change when it is already in), or remove it.
OPS = st.lists(
    st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 60), st.integers(0, 6)), max_size=300
)


@settings(max_examples=120, deadline=None)
@given(initial=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 6)), max_size=80), ops=OPS)
def test_the_same_order_as_a_sorted_key_list(
    initial: list[tuple[int, int]], ops: list[tuple[str, int, int]]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sorted_ids, "LOAD", 4)  # small sublists: splits and merges happen at every step
        _check(initial, ops)


def _check(initial: list[tuple[int, int]], ops: list[tuple[str, int, int]]) -> None:
    keys: dict[str, int] = {}
    for n, k in initial:
        keys[f"c{n}"] = k
    # "absent" has a key but is never added: looked for, it is not found, removed, nothing happens.
    ours = SortedIds(lambda cid: 3 if cid == "absent" else keys[cid], list(keys))
    theirs = SortedKeyList(list(keys), key=keys.__getitem__)
    for op, n, k in ops:
        cid = f"c{n}"
        if cid in keys:  # a change of key: out with the old one, in with the new one, as a view does
            ours.discard(cid)
            theirs.discard(cid)
            del keys[cid]
        if op == "add":
            keys[cid] = k
            ours.add(cid)
            theirs.add(cid)
        ours.discard("absent")
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
    for index, cid in enumerate(theirs):
        assert ours[index] == cid
        assert ours.index(cid) == index
        assert cid in ours
    assert "absent" not in ours
    if len(theirs):
        assert ours[-1] == theirs[-1]
    with pytest.raises(IndexError):
        ours[len(theirs)]


def test_a_missing_id_is_not_found() -> None:
    keys = {"a": 1, "b": 1, "c": 2}
    ids = SortedIds(keys.__getitem__, ["c", "b", "a"])
    assert list(ids) == ["b", "a", "c"]  # ties keep the order they came in
    keys["d"] = 1
    assert "d" not in ids
    with pytest.raises(ValueError):
        ids.index("d")
    ids.add("d")
    assert list(ids) == ["b", "a", "d", "c"]  # after the items of its key
