"""The gate into the model: every text field of every event is sanitised; clean objects pass through as they are."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from factories import conversation
from hypothesis import given, settings
from hypothesis import strategies as st
from standardiste.backends.base import (
    AgentUpdated,
    BackendStatus,
    ConversationUpserted,
    CsatRecorded,
    CustomerUpdated,
    LinkState,
    MessageAdded,
    Snapshot,
    SnapshotLoaded,
)
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import (
    Agent,
    Attachment,
    Channel,
    Conversation,
    CsatRecord,
    Customer,
    Direction,
    EmailHeaders,
    Message,
    State,
)
from standardiste.console.core.untrusted import clean_event

LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PIECES = ["a", " ", "[", "/", "]", "\x1b", "\x07", "\x9b", "\x9d", "\n", "\r", "\t", "\u202e", "\x00", "\x7f", "é"]
hostile = st.lists(st.sampled_from([*PIECES, "]0;", "[2J", "[/bold]"]), max_size=30).map("".join) | st.text()


def _conversation(text: str) -> Conversation:
    return conversation(
        1, Channel.EMAIL, State.NEW, subject=text, customer_name=text, language=text, queue=text,
        tags=(text, "refund"), callback_number=text,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_every_text_field_of_every_event_is_sanitised(text: str) -> None:
    message = Message(
        "m1",
        "local:1",
        Direction.INBOUND,
        text,
        text,
        0.0,
        attachments=(Attachment(text, text),),
        email=EmailHeaders(from_addr=text, to=(text,), cc=(text,), subject=text),
    )
    events = [
        ConversationUpserted(_conversation(text)),
        MessageAdded(message),
        AgentUpdated(Agent("a1", text, presence_reason=text)),
        CustomerUpdated(Customer("c1", text, text, text, text, text, text)),
        CsatRecorded(CsatRecord("local:1", Channel.CHAT, 3, text, 0.0)),
        SnapshotLoaded("local", Snapshot(conversations=[_conversation(text)], customers=[Customer("c", text)])),
        BackendStatus("local", LinkState.DOWN, text),
    ]
    c, m, a, cu, cs, snap, status = (clean_event(e) for e in events)
    line_fields = [
        c.conversation.subject, c.conversation.customer_name, c.conversation.queue, c.conversation.language,
        *c.conversation.tags, c.conversation.callback_number, m.message.author, m.message.attachments[0].filename,
        m.message.email.from_addr, *m.message.email.to, m.message.email.subject, a.agent.name,
        a.agent.presence_reason, cu.customer.name, cu.customer.email, cu.customer.phone,
        snap.snapshot.conversations[0].subject, snap.snapshot.customers[0].name, status.detail,
    ]  # fmt: skip
    assert not any(LINE_FORBIDDEN.search(f) for f in line_fields)
    assert not TEXT_FORBIDDEN.search(m.message.body)
    assert not TEXT_FORBIDDEN.search(cs.record.comment)
    # Identifiers go back to the backend as they came.
    assert c.conversation.id == "local:1" and m.message.id == "m1"


def test_clean_objects_pass_through_without_a_copy() -> None:
    conversation = _conversation("Où est mon colis ? Commande FR4417702")
    event = ConversationUpserted(conversation)
    assert clean_event(event) is event
    message = MessageAdded(Message("m1", "local:1", Direction.INBOUND, "Ann", "Bonjour,\n\tmerci", 0.0))
    assert clean_event(message) is message


async def test_the_hub_hands_the_store_only_sanitised_conversations(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    ws = Workspace(db)
    ws.create_conversation(
        channel=Channel.CHAT,
        customer=Customer("c1", "Eve\x1b]0;pwned\x07", "fr"),
        subject="hi",
        queue="orders\x1b]52;c;eA==\x07",
        tags=("vip\u202e",),
    )
    hub = Hub([LocalBackend(db, agent_id="alice", poll_interval=0.05)])
    await hub.start()
    try:
        snapshot = None
        while snapshot is None:
            for event in await asyncio.wait_for(hub.queue.get(), 5):
                if isinstance(event, SnapshotLoaded):
                    snapshot = event.snapshot
        [conversation] = snapshot.conversations
        assert (conversation.customer_name, conversation.queue) == ("Eve", "orders")
        assert conversation.tags == ("vip\ufffd",)
        [history] = [await hub.customer_history("c1")]
        assert history[0].queue == "orders"
    finally:
        await hub.close()
        ws.close()
