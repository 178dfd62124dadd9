"""Ids kept in the order of a key that lives elsewhere: a view's rows, ordered by the keys its ViewSet shares.

The layout of sortedcontainers' SortedKeyList (sublists of about `LOAD` items, the last item of each as its
maximum), without its second list of keys: that list cost 8 bytes a row in every view (300,000 pointers for 8
views at 100k conversations) to hold what the shared dict already has. Here each step of a search reads the key
through `key`, a dict lookup. Ties keep the order of arrival: a new item goes after the items of equal key, as
SortedKeyList places it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, chain
from typing import Any

LOAD = 1000


class SortedIds:
    __slots__ = ("_key", "_len", "_lists", "_maxes", "_starts")

    def __init__(self, key: Callable[[str], Any], ids: Iterable[str] = ()) -> None:
        self._key = key
        self._fill(sorted(ids, key=key))  # stable: equal keys keep the order they came in

    @classmethod
    def from_sorted(cls, key: Callable[[str], Any], ordered: list[str]) -> SortedIds:
        """Ids already in the order of `key` (not checked: a wrong order breaks every search), taken as they
        are: no key read per id."""
        made = cls.__new__(cls)
        made._key = key
        made._fill(ordered)
        return made

    def _fill(self, ordered: list[str]) -> None:
        self._lists: list[list[str]] = [ordered[i : i + LOAD] for i in range(0, len(ordered), LOAD)]
        self._maxes: list[str] = [sub[-1] for sub in self._lists]
        self._len = len(ordered)
        self._starts: list[int] | None = None  # where each sublist starts, computed when an index is asked

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._lists)

    def __contains__(self, item: str) -> bool:
        return self._find(item) is not None

    def __getitem__(self, index: int) -> str:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("SortedIds index out of range")
        starts = self._positions()
        pos = bisect_right(starts, index) - 1
        return self._lists[pos][index - starts[pos]]

    def index(self, item: str) -> int:
        found = self._find(item)
        if found is None:
            raise ValueError(f"{item!r} is not in the list")
        pos, idx = found
        return self._positions()[pos] + idx

    def add(self, item: str) -> None:
        key = self._key
        lists, maxes = self._lists, self._maxes
        self._starts = None
        self._len += 1
        if not maxes:
            lists.append([item])
            maxes.append(item)
            return
        wanted = key(item)
        pos = bisect_right(maxes, wanted, key=key)
        if pos == len(maxes):
            pos -= 1
            lists[pos].append(item)
            maxes[pos] = item
        else:
            sub = lists[pos]
            sub.insert(bisect_right(sub, wanted, key=key), item)
        if len(lists[pos]) > 2 * LOAD:
            sub = lists[pos]
            lists.insert(pos + 1, sub[LOAD:])
            del sub[LOAD:]
            maxes.insert(pos, sub[-1])

    def discard(self, item: str) -> None:
        """Remove `item` if present; its key must still be the one it was placed by."""
        found = self._find(item)
        if found is None:
            return
        pos, idx = found
        lists, maxes = self._lists, self._maxes
        self._starts = None
        self._len -= 1
        sub = lists[pos]
        del sub[idx]
        if len(sub) > LOAD // 2:
            maxes[pos] = sub[-1]
        elif len(lists) > 1:
            # Merge a small sublist into its neighbour (then split it again if it grew too long), as
            # SortedKeyList does, so that the number of sublists follows the number of items.
            if not pos:
                pos += 1
            before = pos - 1
            lists[before].extend(lists[pos])
            maxes[before] = lists[before][-1]
            del lists[pos], maxes[pos]
            merged = lists[before]
            if len(merged) > 2 * LOAD:
                lists.insert(before + 1, merged[LOAD:])
                del merged[LOAD:]
                maxes.insert(before, merged[-1])
        elif sub:
            maxes[pos] = sub[-1]
        else:
            del lists[pos], maxes[pos]

    def count_at_most(self, bound: Any) -> int:
        """How many items have a key of at most `bound`: they come first."""
        key = self._key
        lists, maxes = self._lists, self._maxes
        pos = bisect_right(maxes, bound, key=key)
        if pos == len(maxes):
            return self._len
        return self._positions()[pos] + bisect_right(lists[pos], bound, key=key)

    def _find(self, item: str) -> tuple[int, int] | None:
        """(sublist, index) of `item`, searched among the items of its key."""
        key = self._key
        lists, maxes = self._lists, self._maxes
        if not maxes:
            return None
        wanted = key(item)
        pos = bisect_left(maxes, wanted, key=key)
        if pos == len(maxes):
            return None
        idx = bisect_left(lists[pos], wanted, key=key)
        while True:
            sub = lists[pos]
            while idx < len(sub):
                here = sub[idx]
                if here == item:
                    return pos, idx
                if key(here) != wanted:
                    return None
                idx += 1
            pos += 1
            if pos == len(lists):
                return None
            idx = 0

    def _positions(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *accumulate(len(sub) for sub in self._lists[:-1])] if self._lists else []
        return self._starts
