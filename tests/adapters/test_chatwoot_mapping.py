"""backends/chatwoot/mapping.py: Chatwoot's JSON as the console's model, shape by shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardiste.backends.chatwoot.mapping import (
    agent_of,
    channel_of,
    conversation_of,
    message_of,
    state_of,
    status_for,
)
from standardiste.console.core.model import Channel, Direction, Presence, Priority, State, state_allowed

INBOXES = {1: {"id": 1, "name": "Website", "channel_type": "Channel::WebWidget"},
           2: {"id": 2, "name": "Mail", "channel_type": "Channel::Email"}}


@pytest.mark.parametrize(
    ("channel_type", "channel"),
    [("Channel::WebWidget", Channel.CHAT), ("Channel::Email", Channel.EMAIL), ("Channel::Api", Channel.SOCIAL),
     ("Channel::Whatsapp", Channel.SOCIAL), ("Channel::FacebookPage", Channel.SOCIAL), (None, Channel.SOCIAL)],
)
def test_inboxes_are_channels(channel_type: str | None, channel: Channel) -> None:
    assert channel_of(channel_type) is channel


@pytest.mark.parametrize("channel", [Channel.CHAT, Channel.EMAIL, Channel.SOCIAL])
@pytest.mark.parametrize("status", ["open", "pending", "snoozed", "resolved"])
@pytest.mark.parametrize("assigned", [False, True])
def test_every_status_is_a_state_the_channel_allows(channel: Channel, status: str, assigned: bool) -> None:
    assert state_allowed(channel, state_of(status, channel, assigned))


def test_states_set_back_the_status_they_come_from() -> None:
    for status in ("open", "pending", "resolved"):
        for channel in (Channel.CHAT, Channel.EMAIL):
            state = state_of(status, channel, assigned=True)
            expected = "open" if (channel is Channel.CHAT and status == "pending") else status
            assert status_for(state) == expected
    assert status_for(State.RINGING) is None


def test_a_list_item_is_a_conversation() -> None:
    raw: dict[str, Any] = {
        "id": 7, "inbox_id": 2, "status": "open", "priority": "urgent", "labels": ["vip", "billing"],
        "created_at": 100.0, "updated_at": 150.25, "last_activity_at": 140, "unread_count": 2,
        "additional_attributes": {"mail_subject": "Refund please"},
        "meta": {"sender": {"id": 3, "name": "Zoë", "email": "zoe@example.test"},
                 "assignee": {"id": 9, "email": "Ann@Example.Test"}, "channel": "Channel::Email"},
    }
    conversation = conversation_of("desk", raw, inboxes=INBOXES)
    assert conversation.id == "desk:7" and conversation.channel is Channel.EMAIL
    assert conversation.state is State.OPEN and conversation.assignee == "ann@example.test"
    assert conversation.subject == "Refund please" and conversation.queue == "Mail"
    assert conversation.priority is Priority.URGENT and conversation.tags == ("vip", "billing")
    assert conversation.customer_id == "desk:contact-3" and conversation.customer_name == "Zoë"
    assert conversation.unread == 2 and conversation.version == 150250


def test_a_chat_takes_its_subject_from_the_pre_chat_form_and_a_snooze_its_time() -> None:
    raw = {"id": 1, "inbox_id": 1, "status": "snoozed", "snoozed_until": 2_000_000_000,
           "custom_attributes": {"topic": "Delivery"}, "meta": {}}
    conversation = conversation_of("desk", raw, inboxes=INBOXES, subject_attribute="topic")
    assert conversation.subject == "Delivery" and conversation.channel is Channel.CHAT
    assert conversation.state is State.WAITING and conversation.snoozed_until == 2_000_000_000.0


@pytest.mark.parametrize(
    ("fields", "direction"),
    [({"message_type": 0}, Direction.INBOUND), ({"message_type": 1}, Direction.OUTBOUND),
     ({"message_type": 1, "private": True}, Direction.NOTE), ({"message_type": 2}, Direction.SYSTEM),
     ({"message_type": 3}, Direction.OUTBOUND), ({"message_type": "incoming"}, Direction.INBOUND)],
)
def test_message_types_are_directions(fields: dict[str, Any], direction: Direction) -> None:
    message = message_of("desk", 4, {"id": 11, "content": "x", "created_at": 5, **fields})
    assert message.direction is direction and message.conversation_id == "desk:4" and message.id == "desk:m11"


def test_availability_is_presence() -> None:
    assert agent_of({"id": 1, "email": "a@x", "availability_status": "available"}).presence is Presence.AVAILABLE
    assert agent_of({"id": 1, "email": "a@x"}, presence="online").presence is Presence.AVAILABLE
    assert agent_of({"id": 1, "email": "a@x", "availability_status": "busy"}).presence is Presence.BUSY
    assert agent_of({"id": 1, "email": "a@x", "availability_status": "weird"}).presence is Presence.OFFLINE


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@given(
    status=st.sampled_from(["open", "pending", "snoozed", "resolved", "weird"]),
    priority=st.one_of(st.none(), st.text(max_size=8)),
    labels=st.lists(st.text(max_size=10), max_size=4),
    times=st.lists(st.one_of(st.none(), st.integers(0, 2**33), st.text(max_size=5)), min_size=3, max_size=3),
    extra=st.dictionaries(st.sampled_from(["mail_subject", "browser_language"]), json_values, max_size=2),
)
def test_odd_shapes_from_the_server_still_make_a_conversation(
    status: str, priority: str | None, labels: list[str], times: list[Any], extra: dict[str, Any]
) -> None:
    raw = {"id": 1, "inbox_id": 1, "status": status, "priority": priority, "labels": labels,
           "created_at": times[0], "updated_at": times[1], "last_activity_at": times[2],
           "additional_attributes": extra, "meta": {"sender": {"id": None}}}
    conversation = conversation_of("desk", raw, inboxes=INBOXES)
    assert state_allowed(conversation.channel, conversation.state)
    assert isinstance(conversation.subject, str) and len(conversation.subject) <= 200
