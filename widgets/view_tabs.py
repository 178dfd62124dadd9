"""The view bar's text, fitted to its width: the active view always shows, whatever the width.

Tabs are tried in full (`▶1 All 55`), then with the other views' titles cut to numbers and counts
(`2:1`), farthest from the active view first, then as a window of tabs around the active one with `‹` / `›` saying that more are off to a side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len

GAP = "  "


@dataclass(frozen=True, slots=True)
class Tab:
    key: str  # the key that shows it ("1")
    title: str
    count: int
    active: bool
    more: bool = False  # rows may be missing after the count (a snapshot still being read)


def _full(tab: Tab) -> str:
    return f"{'▶' if tab.active else ' '}{tab.key} {tab.title} {tab.count}{'+' if tab.more else ''}"


def _short(tab: Tab) -> str:
    return _full(tab) if tab.active else f"{tab.key}:{tab.count}{'+' if tab.more else ''}"


def fit_tabs(tabs: Sequence[Tab], width: int) -> str:
    """The tabs in at most `width` cells (all of them when they fit), the active one always among them."""
    labels = [_full(tab) for tab in tabs]
    active = next((i for i, tab in enumerate(tabs) if tab.active), 0)
    # Cut the titles farthest from the active view first: the neighbours keep their names longest.
    for index in sorted(range(len(tabs)), key=lambda i: (-abs(i - active), -i)):
        if cell_len(GAP.join(labels)) <= width:
            return GAP.join(labels)
        labels[index] = _short(tabs[index])
    low = high = active
    # Grow the window one tab at a time, right first (the next views are the likelier next key).
    while True:
        grown = False
        for candidate in ((low, high + 1), (low - 1, high)):
            a, b = candidate
            if a < 0 or b >= len(tabs):
                continue
            if cell_len(_window(labels, a, b)) <= width:
                low, high = a, b
                grown = True
                break
        if not grown:
            return _window(labels, low, high)


def _window(labels: Sequence[str], low: int, high: int) -> str:
    text = GAP.join(labels[low : high + 1])
    return ("‹ " if low > 0 else "") + text + (" ›" if high < len(labels) - 1 else "")
