"""The queue's order as SQL, for the local workspace's head: the first rows of the queue, which the console draws
while the rest of the snapshot is still being read (issues 16 and 17).

Outside the package backends.local, which would import the whole adapter: the reader process forked at the
console's start (local_prefetch.py) reads the head by it too, before the console has imported anything. The
SQL is written out rather than built from the console's model and views, whose import cost that process 18 ms
at the start of its read (and the console all 100k rows as much later): tests/unit/test_queue_order_sql.py
builds it from them and checks that it is this text.

The order is `console.core.views.queue_key` in SQL, from the same rank tables (CHANNEL_RANK, STATE_RANK,
CLOSED_STATES, FAR_FUTURE), and an index on exactly these expressions (`QUEUE_INDEX`, in both schema files and
migration 3) makes the read a walk of its first entries: 0.3 ms at 100k open conversations, where sorting them
took 190 ms. Closed rows are not in a head (the views place them by their closing time, which the index does
not order): a head shorter than asked holds every open row, and the closed ones come with the snapshot.
"""

from __future__ import annotations

CLOSED = "state IN ('abandoned', 'done', 'ended', 'solved')"
# channel rank * 10 + state rank: calls, then chats, callbacks, and mail, forms and social posts alike; in each,
# a conversation being worked first, then one ringing, then the rest (views.py).
RANK = (
    f"(CASE WHEN {CLOSED} THEN 900 ELSE "
    "(CASE channel WHEN 'phone' THEN 0 WHEN 'chat' THEN 1 WHEN 'email' THEN 3 WHEN 'callback' THEN 2"
    " WHEN 'form' THEN 3 WHEN 'social' THEN 3 END) * 10 + "
    "CASE state WHEN 'connected' THEN 0 WHEN 'on_hold' THEN 0 WHEN 'active' THEN 0 WHEN 'dialling' THEN 0"
    " WHEN 'wrap_up' THEN 0 WHEN 'ringing' THEN 1 ELSE 2 END END)"
)
DUE = f"(CASE WHEN {CLOSED} THEN 0.0 ELSE COALESCE(sla_due_at, 1000000000000.0) END)"
# (rank, deadline, -priority, created) as queue_key packs it; the id last, so that equal keys read the same way.
ORDER = f"{RANK}, {DUE}, (-priority), created_at, id"
QUEUE_INDEX = f"CREATE INDEX IF NOT EXISTS conversations_queue ON conversations ({ORDER})"
# The rows of a snapshot (workspace.conversations: open, or closed after `?`) in an open state: closed ones sort
# by their closing time, which this index does not order.
# `+closed_at`: not by the open-rows index, which would make SQLite sort them all (190 ms at 100k) rather than
# walk this order's index until it has `limit` of them (0.3 ms).
HEAD_WHERE = f"(+closed_at IS NULL OR +closed_at >= ?) AND NOT {CLOSED}"
