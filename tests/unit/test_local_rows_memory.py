"""Rows of the workspace file decoded into conversations share what repeats across 100k rows: the interned
strings, one tuple per set of tags, one float when timestamps are equal."""

from __future__ import annotations

from standardiste.backends.local.rows import conversation_from_row
from standardiste.console.core.model import Channel, State


def _row(n: int, tags: str) -> tuple[object, ...]:
    created = 1764000000.0 + n
    # id, channel, state, subject, customer_id, customer_name, language, queue, priority, tags, assignee,
    # created_at, updated_at, first_response_at, last_customer_at, answered_at, closed_at, sla_due_at,
    # snoozed_until, callback_number, callback_at, unread, muted, version
    return (n, "chat", "waiting", f"subject {n}", "".join(["cust-", "1"]), "".join(["Anna ", "Müller"]), "en",
            "general", 1, "".join(list(tags)), None, created, float(created), None, float(created), None, None,
            created + 60, None, "", None, 0, 0, 1)  # fmt: skip


def test_rows_with_the_same_tags_share_one_tuple_and_strings() -> None:
    first, second = conversation_from_row(_row(1, "refund,vip")), conversation_from_row(_row(2, "refund,vip"))
    assert first.tags == ("refund", "vip")
    assert first.tags is second.tags
    assert first.customer_id is second.customer_id and first.customer_name is second.customer_name
    assert first.updated_at is first.created_at and first.last_customer_at is first.created_at
    assert first.channel is Channel.CHAT and first.state is State.WAITING
    assert conversation_from_row(_row(3, "")).tags == ()
