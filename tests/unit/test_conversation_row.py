"""conversation_from_row passes Conversation's fields by position: a field added or moved in either order must
fail here, not shift every value of 100k rows into the next field."""

from __future__ import annotations

import dataclasses

from standardiste.backends.local.rows import CONVERSATION_COLUMNS, conversation_from_row
from standardiste.console.core.model import Channel, Conversation, Priority, State

# Each column a value no other column holds, so that a value landing in the wrong field shows.
ROW_BY_COLUMN = {
    "id": 42,
    "channel": "chat",
    "state": "waiting",
    "subject": "Colis abîmé",
    "customer_id": "cust-7",
    "customer_name": "Anna García",
    "language": "es",
    "queue": "payments",
    "priority": 2,
    "tags": "refund,urgent",
    "assignee": "alice",
    "created_at": 1000.0,
    "updated_at": 1001.0,
    "first_response_at": 1002.0,
    "last_customer_at": 1003.0,
    "answered_at": 1004.0,
    "closed_at": 1005.0,
    "sla_due_at": 1006.0,
    "snoozed_until": 1007.0,
    "callback_number": "+33 1 23 45 67 89",
    "callback_at": 1008.0,
    "unread": 3,
    "muted": 1,
    "version": 9,
}


def test_every_column_lands_in_the_field_of_its_name() -> None:
    columns = [name.strip() for name in CONVERSATION_COLUMNS.split(",")]
    assert sorted(columns) == sorted(ROW_BY_COLUMN)
    assert sorted(columns) == sorted(f.name for f in dataclasses.fields(Conversation))

    conversation = conversation_from_row(tuple(ROW_BY_COLUMN[name] for name in columns))

    expected = {
        **ROW_BY_COLUMN,
        "id": "local:42",
        "channel": Channel.CHAT,
        "state": State.WAITING,
        "priority": Priority(2),
        "tags": ("refund", "urgent"),
        "muted": True,
    }
    assert dataclasses.asdict(conversation) == expected


def test_equal_timestamps_share_one_float_and_empty_values_stay_empty() -> None:
    columns = [name.strip() for name in CONVERSATION_COLUMNS.split(",")]
    values = {
        **ROW_BY_COLUMN,
        "updated_at": 1000.0,
        "last_customer_at": 1000.0,
        "tags": "",
        "assignee": None,
        "muted": 0,
    }
    conversation = conversation_from_row(tuple(values[name] for name in columns))
    assert conversation.updated_at is conversation.created_at
    assert conversation.last_customer_at is conversation.created_at
    assert conversation.tags == ()
    assert conversation.assignee is None
    assert conversation.muted is False
