"""Zendesk's JSON as the console's model (backends/zendesk/mapping.py) and the console's search language as
Zendesk's query (backends/zendesk/search.py): pure functions, fed with shapes from Zendesk's reference."""

from __future__ import annotations

import pytest
from standardiste.backends.base import Invalid
from standardiste.backends.zendesk.mapping import (
    AGENT_STATE_OUT,
    PRESENCE_IN,
    channel_of,
    comment_of,
    state_of,
    status_for,
    ticket_of,
    timestamp,
)
from standardiste.backends.zendesk.search import zendesk_query
from standardiste.console.core.model import Channel, Direction, Presence, Priority, State


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("email", Channel.EMAIL),
        ("web", Channel.FORM),
        ("api", Channel.FORM),
        ("chat", Channel.CHAT),
        ("native_messaging", Channel.CHAT),
        ("voice", Channel.PHONE),
        ("facebook", Channel.SOCIAL),
        ("twitter", Channel.SOCIAL),
        ("any_channel", Channel.SOCIAL),
        ("whatsapp", Channel.SOCIAL),
        ("something_new", Channel.FORM),
        (None, Channel.FORM),
    ],
)
def test_via_channel_is_the_console_channel(via: str | None, channel: Channel) -> None:
    assert channel_of({"channel": via, "source": {}}) is channel


def test_states_per_channel_and_back() -> None:
    assert [state_of(s, Channel.EMAIL) for s in ("new", "open", "pending", "hold", "solved", "closed")] == [
        State.NEW,
        State.OPEN,
        State.PENDING,
        State.PENDING,
        State.SOLVED,
        State.SOLVED,
    ]
    assert [state_of(s, Channel.CHAT) for s in ("new", "open", "pending", "solved")] == [
        State.WAITING,
        State.ACTIVE,
        State.WAITING,
        State.ENDED,
    ]
    assert [state_of(s, Channel.PHONE) for s in ("new", "open", "solved")] == [
        State.WRAP_UP,
        State.WRAP_UP,
        State.ENDED,
    ]
    assert status_for(State.PENDING) == "pending" and status_for(State.ENDED) == "solved"
    assert status_for(State.RINGING) is None


def test_talk_states_round_trip_through_the_console_presence() -> None:
    for state, presence in PRESENCE_IN.items():
        assert AGENT_STATE_OUT[presence] == state
    assert PRESENCE_IN["transfers_only"] is Presence.BUSY


def test_a_ticket_and_a_comment_as_the_reference_shows_them() -> None:
    users = {
        20: {"id": 20, "name": "Zoé", "email": "zoe@x.test", "locale": "de-CH", "role": "end-user"},
        30: {"id": 30, "name": "Ann", "email": "Ann@Desk.test", "role": "agent"},
    }
    raw = {
        "id": 35436,
        "subject": "Help,\n my printer is on fire!",
        "status": "open",
        "priority": "urgent",
        "requester_id": 20,
        "assignee_id": 30,
        "group_id": 5,
        "tags": ["enterprise", "other_tag"],
        "via": {"channel": "web"},
        "created_at": "2009-07-20T22:55:29Z",
        "updated_at": "2011-05-05T10:38:52Z",
    }
    ticket = ticket_of("zd", raw, users=users, groups={5: {"id": 5, "name": "Tier 2"}})
    assert ticket.id == "zd:35436" and ticket.channel is Channel.FORM and ticket.state is State.OPEN
    assert ticket.subject == "Help, my printer is on fire!" and ticket.priority is Priority.URGENT
    assert (ticket.customer_id, ticket.customer_name, ticket.language) == ("zd:user-20", "Zoé", "de")
    assert ticket.assignee == "ann@desk.test" and ticket.queue == "Tier 2"
    assert ticket.updated_at == timestamp("2011-05-05T10:38:52Z") and ticket.version == int(
        ticket.updated_at * 1000
    )
    comment = {
        "id": 1274,
        "type": "Comment",
        "author_id": 30,
        "body": "Thanks for your help!",
        "public": False,
        "attachments": [
            {
                "id": 498483,
                "file_name": "crash.log",
                "content_url": "https://x/crash.log",
                "content_type": "text/plain",
                "size": 2532,
            }
        ],
        "created_at": "2009-07-20T22:55:29Z",
    }
    message = comment_of("zd", 35436, comment, users=users, agents={30: users[30]})
    assert (message.id, message.direction, message.author) == ("zd:c1274", Direction.NOTE, "ann@desk.test")
    assert [(a.filename, a.size, a.ref) for a in message.attachments] == [
        ("crash.log", 2532, "https://x/crash.log")
    ]
    assert (
        comment_of("zd", 1, {**comment, "author_id": 20}, users=users, agents={}).direction
        is Direction.INBOUND
    )
    assert timestamp("not a time") is None and timestamp(None) is None


def test_the_search_language_as_zendesks_query() -> None:
    assert zendesk_query('"card declined" refund tag:vip state:pending after:2026-01-01 before:2026-02-01 ')[
        0
    ] == ('type:ticket "card declined" refund tags:vip status:pending created>=2026-01-01 created<2026-02-01')
    assert zendesk_query("owner:me refu")[0] == "type:ticket refu* assignee:me"
    with pytest.raises(Invalid, match="lang"):
        zendesk_query("lang:fr refund")
    with pytest.raises(Invalid):
        zendesk_query("after:yesterday")


def test_a_comment_by_an_agent_added_after_connect_is_the_agents() -> None:
    users = {40: {"id": 40, "name": "New Hire", "email": "new@desk.test", "role": "agent"}}
    raw = {"id": 9, "author_id": 40, "body": "hello", "public": True, "created_at": "2026-01-01T00:00:00Z"}
    message = comment_of("zd", 1, raw, users=users, agents={})
    assert (message.direction, message.author) == (Direction.OUTBOUND, "new@desk.test")
