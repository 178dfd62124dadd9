"""The queue's order as SQL (backends/local_queue_order.py) is written out, so that the reader process started
with the console reads the head without importing the console's model and views: here it is built from them
again, and must be the same text, or the head and the index would no longer be the queue's order."""

from __future__ import annotations

import ast
from pathlib import Path

from standardiste.backends import local_queue_order
from standardiste.console.core.model import CLOSED_STATES, Channel
from standardiste.console.core.views import CHANNEL_RANK, FAR_FUTURE, STATE_RANK


def _order_from_the_views() -> str:
    closed = "state IN (" + ", ".join(f"'{s.value}'" for s in sorted(CLOSED_STATES)) + ")"
    channel = " ".join(f"WHEN '{c.value}' THEN {CHANNEL_RANK[c]}" for c in Channel)
    state = " ".join(f"WHEN '{s.value}' THEN {rank}" for s, rank in STATE_RANK.items())
    other_state = 2  # queue_key's STATE_RANK.get(state, 2)
    rank = f"(CASE WHEN {closed} THEN 900 ELSE (CASE channel {channel} END) * 10 + CASE state {state} ELSE {other_state} END END)"
    due = f"(CASE WHEN {closed} THEN 0.0 ELSE COALESCE(sla_due_at, {FAR_FUTURE!r}) END)"
    return f"{rank}, {due}, (-priority), created_at, id"


def test_the_written_order_is_the_views_queue_order() -> None:
    assert _order_from_the_views() == local_queue_order.ORDER


def test_the_module_imports_nothing_of_the_console() -> None:
    tree = ast.parse(Path(local_queue_order.__file__).read_text())
    imported = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and node.module != "__future__"
    ]
    assert imported == []
