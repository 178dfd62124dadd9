"""The first rows of the queue, read by SQL in the queue's own order: the console draws them while the rest of
the snapshot is still being read (issues 16 and 17).

The order is `console.core.views.queue_key` written as SQL from the same rank tables, and an index on exactly
these expressions (`QUEUE_INDEX`, in both schema files and migration 3) makes the read a walk of its first
entries: 0.3 ms at 100k open conversations, where sorting them took 190 ms. Closed rows are not in a head (the
views place them by their closing time, which the index does not order): a head shorter than asked holds every
open row, and the closed ones come with the snapshot.
"""

from __future__ import annotations

from ...console.core.model import CLOSED_STATES, Channel
from ...console.core.views import CHANNEL_RANK, FAR_FUTURE, STATE_RANK

CLOSED = "state IN (" + ", ".join(f"'{s.value}'" for s in sorted(CLOSED_STATES)) + ")"
_CHANNEL = " ".join(f"WHEN '{c.value}' THEN {CHANNEL_RANK[c]}" for c in Channel)
_STATE = " ".join(f"WHEN '{s.value}' THEN {rank}" for s, rank in STATE_RANK.items())
_OTHER_STATE = 2
RANK = f"(CASE WHEN {CLOSED} THEN 900 ELSE (CASE channel {_CHANNEL} END) * 10 + CASE state {_STATE} ELSE {_OTHER_STATE} END END)"
DUE = f"(CASE WHEN {CLOSED} THEN 0.0 ELSE COALESCE(sla_due_at, {FAR_FUTURE!r}) END)"
# (rank, deadline, -priority, created) as queue_key packs it; the id last, so that equal keys read the same way.
ORDER = f"{RANK}, {DUE}, (-priority), created_at, id"
QUEUE_INDEX = f"CREATE INDEX IF NOT EXISTS conversations_queue ON conversations ({ORDER})"
# The rows of a snapshot (workspace.conversations: open, or closed after `?`) in an open state: closed ones sort
# by their closing time, which this index does not order.
# `+closed_at`: not by the open-rows index, which would make SQLite sort them all (190 ms at 100k) rather than
# walk this order's index until it has `limit` of them (0.3 ms).
HEAD_WHERE = f"(+closed_at IS NULL OR +closed_at >= ?) AND NOT {CLOSED}"
