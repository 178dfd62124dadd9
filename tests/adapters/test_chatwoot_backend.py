"""The Chatwoot adapter against the fake Chatwoot (tests/chatwoot_fake.py): what reaches the events and how
fast, which API call each console action makes, the cable's drops and catch-up, rate limits and auth errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_harness import fake_chatwoot, make_backend
from helpdesk_harness import Events, calls, connected, following
from standardiste.backends.base import (
    AgentUpdated,
    Assign,
    AuthError,
    BackendStatus,
    Claim,
    Conflict,
    ConversationUpserted,
    EndChat,
    Invalid,
    LinkState,
    MessageAdded,
    Note,
    Release,
    Reply,
    SetPresence,
    SetPriority,
    SetStatus,
    Snooze,
    Tags,
    Transfer,
    Typing,
    TypingChanged,
)
from standardiste.backends.chatwoot import ChatwootBackend, parse_settings
from standardiste.console.core.model import Channel, Direction, Presence, Priority, State


@pytest.fixture
async def fake() -> AsyncIterator[FakeChatwoot]:
    async with fake_chatwoot() as fake:
        yield fake


@pytest.fixture
async def backend(fake: FakeChatwoot, tmp_path: Path) -> AsyncIterator[ChatwootBackend]:
    async with connected(make_backend(fake, tmp_path / "data")) as backend:
        yield backend


@pytest.fixture
async def events(backend: ChatwootBackend) -> AsyncIterator[Events]:
    async with following(backend, Events) as events:
        yield events


async def test_a_customer_message_over_the_cable_reaches_the_events_within_a_second(
    fake: FakeChatwoot, events: Events
) -> None:
    display = fake.add_conversation("chat", "Order 1", "first", broadcast=False)
    started = time.monotonic()
    await fake.customer_writes(display, "where is my parcel?")
    # Not in the snapshot (made without a broadcast): the adapter fetches it, then announces both.
    await events.wait(lambda: events.messages("where is my parcel?"), timeout=1.0)
    assert time.monotonic() - started < 1.0
    message = events.messages("where is my parcel?")[0].message
    assert message.direction is Direction.INBOUND and message.conversation_id == f"cw:{display}"
    upserts = [e.conversation for e in events.seen if isinstance(e, ConversationUpserted)]
    assert upserts and upserts[-1].channel is Channel.CHAT and upserts[-1].subject == "Order 1"


async def test_inboxes_map_to_channels_and_each_conversation_keeps_its_inbox(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    for channel in ("chat", "email", "social"):
        fake.add_conversation(channel, f"{channel} subject", "hello", broadcast=False)
    snapshot = await backend.snapshot()
    by_subject = {c.subject: c for c in snapshot.conversations}
    assert by_subject["chat subject"].channel is Channel.CHAT and by_subject["chat subject"].queue == "Website"
    assert by_subject["email subject"].channel is Channel.EMAIL
    assert by_subject["email subject"].queue == "Support mail"
    assert by_subject["social subject"].channel is Channel.SOCIAL and by_subject["social subject"].queue == "API"
    assert by_subject["chat subject"].state is State.WAITING and by_subject["email subject"].state is State.NEW
    assert snapshot.me == "ann@example.test"


async def test_each_console_action_is_the_right_chatwoot_call(
    fake: FakeChatwoot, backend: ChatwootBackend, events: Events
) -> None:
    display = fake.add_conversation("email", "Refund", "I want my money back", broadcast=False)
    cid = f"cw:{display}"
    base = f"/api/v1/accounts/1/conversations/{display}"

    await backend.perform(Reply(conversation_id=cid, body="On its way"))
    await backend.perform(Note(conversation_id=cid, body="Checked with billing"))
    posted = [s.body for s in calls(fake, "POST", f"{display}/messages")]
    assert posted == [
        {"content": "On its way", "message_type": "outgoing", "private": False, "content_type": "text"},
        {"content": "Checked with billing", "message_type": "outgoing", "private": True, "content_type": "text"},
    ]

    await backend.perform(SetStatus(conversation_id=cid, state=State.PENDING))
    await backend.perform(Snooze(conversation_id=cid, until=2_000_000_000.5))
    await backend.perform(SetStatus(conversation_id=cid, state=State.SOLVED))
    assert [s.body for s in calls(fake, "POST", "/toggle_status")] == [
        {"status": "pending"}, {"status": "snoozed", "snoozed_until": 2_000_000_000}, {"status": "resolved"},
    ]
    await backend.perform(SetPriority(conversation_id=cid, priority=Priority.URGENT))
    await backend.perform(SetPriority(conversation_id=cid, priority=Priority.NORMAL))
    assert [s.body for s in calls(fake, "POST", "/toggle_priority")] == [{"priority": "urgent"}, {"priority": "none"}]

    await backend.perform(Tags(conversation_id=cid, add=("billing", "vip")))
    await backend.perform(Tags(conversation_id=cid, remove=("vip",), add=("refund",)))
    assert [s.body for s in calls(fake, "POST", f"{display}/labels")] == [
        {"labels": ["billing", "vip"]}, {"labels": ["billing", "refund"]},
    ]

    await backend.perform(Assign(conversation_id=cid, assignee="colleague@example.test"))
    await backend.perform(Assign(conversation_id=cid, assignee=None))
    await backend.perform(Claim(conversation_id=cid))
    await backend.perform(Release(conversation_id=cid))
    assignments = [s.body for s in calls(fake, "POST", "/assignments")]
    assert assignments == [{"assignee_id": fake.colleague}, {"assignee_id": 0}, {"assignee_id": fake.me},
                           {"assignee_id": 0}]
    assert all(s.path.startswith(base) for s in fake.seen if "/conversations/" in s.path)

    await backend.perform(SetPresence(presence=Presence.BUSY))
    assert calls(fake, "POST", "/profile/availability")[-1].body == {"profile": {"availability": "busy", "account_id": 1}}
    # Each change came back through the cable.
    await events.wait(lambda: any(isinstance(e, AgentUpdated) and e.agent.presence is Presence.BUSY for e in events.seen))
    await events.wait(lambda: [e.conversation.tags for e in events.seen if isinstance(e, ConversationUpserted)][-1] == ("billing", "refund"))
    notes = [e.message for e in events.seen if isinstance(e, MessageAdded) and e.message.body == "Checked with billing"]
    assert [n.direction for n in notes] == [Direction.NOTE]


async def test_end_chat_resolves_and_the_chat_is_ended(fake: FakeChatwoot, backend: ChatwootBackend, events: Events) -> None:
    display = fake.add_conversation("chat", "Bye", "thanks")
    await events.wait(lambda: events.messages("thanks"))
    await backend.perform(EndChat(conversation_id=f"cw:{display}"))
    assert calls(fake, "POST", "/toggle_status")[-1].body == {"status": "resolved"}
    await events.wait(lambda: any(isinstance(e, ConversationUpserted) and e.conversation.state is State.ENDED for e in events.seen))


async def test_claiming_a_colleagues_conversation_is_a_conflict_naming_them(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    display = fake.add_conversation("email", "Taken", "hello", broadcast=False)
    fake.conversations[display]["assignee_id"] = fake.colleague
    with pytest.raises(Conflict) as caught:
        await backend.perform(Claim(conversation_id=f"cw:{display}"))
    assert caught.value.owner == "colleague@example.test"
    assert not calls(fake, "POST", "/assignments")
    with pytest.raises(Invalid, match="no agent"):
        await backend.perform(Assign(conversation_id=f"cw:{display}", assignee="nobody@example.test"))


async def test_typing_and_presence_come_through(fake: FakeChatwoot, events: Events) -> None:
    display = fake.add_conversation("chat", "Typing", "hello")
    await events.wait(lambda: events.messages("hello"))
    fake.typing(display, True)
    await events.wait(lambda: any(isinstance(e, TypingChanged) and e.who == "customer" and e.typing for e in events.seen))
    fake.users[fake.colleague]["availability"] = "busy"
    fake.broadcast("presence.update", {"account_id": 1, "users": {str(fake.colleague): "busy"}, "contacts": {}})
    await events.wait(lambda: any(
        isinstance(e, AgentUpdated) and e.agent.id == "colleague@example.test" and e.agent.presence is Presence.BUSY
        for e in events.seen))


async def test_a_dropped_cable_resumes_with_a_rest_catch_up_without_loss_or_duplicates(
    fake: FakeChatwoot, backend: ChatwootBackend, events: Events
) -> None:
    known = fake.add_conversation("email", "Known", "before the drop")
    await events.wait(lambda: events.messages("before the drop"))
    fake.cable_refused = True
    fake.drop_cable()
    await events.wait(lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.DOWN for e in events.seen))
    # While the feed is down: a customer writes again, a new conversation opens, an agent elsewhere labels.
    await fake.customer_writes(known, "during the drop")
    fresh = fake.add_conversation("chat", "Fresh", "opened during the drop")
    fake.conversations[known]["labels"] = ["urgent"]
    fake._changed(fake.conversations[known], "conversation.updated")
    fake.cable_refused = False
    await events.wait(lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.CONNECTED for e in events.seen), 10)
    await fake.customer_writes(fresh, "after the drop")
    await events.wait(lambda: events.messages("after the drop"))
    await asyncio.sleep(0.3)  # a second copy would be announced by now
    for text in ("before the drop", "during the drop", "opened during the drop", "after the drop"):
        assert len(events.messages(text)) == 1, f"{text!r} announced {len(events.messages(text))} times"
    ids = [e.message.id for e in events.seen if isinstance(e, MessageAdded)]
    assert len(ids) == len(set(ids))
    last = {e.conversation.id: e.conversation for e in events.seen if isinstance(e, ConversationUpserted)}
    assert last[f"cw:{known}"].tags == ("urgent",) and f"cw:{fresh}" in last
    # The catch-up asked only for what came after the last message it had seen of the known conversation.
    afters = [s.query.get("after") for s in calls(fake, "GET", f"/{known}/messages") if "after" in s.query]
    assert afters and all(int(a) >= 1 for a in afters)


async def test_429_with_retry_after_is_waited_for_then_the_snapshot_completes(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    fake.add_conversation("email", "Slow", "hello", broadcast=False)
    fake.fail("GET", r"/conversations$", 429, headers={"Retry-After": "1"}, body={"error": "Too many requests"})
    started = time.monotonic()
    snapshot = await backend.snapshot()
    took = time.monotonic() - started
    assert [c.subject for c in snapshot.conversations] == ["Slow"]
    assert 1.0 <= took < 5.0
    listed = calls(fake, "GET", "/conversations")
    assert len(listed) >= 2 and listed[1].at - listed[0].at >= 1.0


async def test_a_wrong_token_is_an_auth_error_that_does_not_show_it(fake: FakeChatwoot, tmp_path: Path) -> None:
    secret = "wrong-token-0123456789"
    backend = ChatwootBackend(
        "cw", parse_settings("cw", {"url": fake.base_url, "account": 1}), agent_id="ann",
        data_dir=tmp_path, secret=lambda: secret,
    )
    with pytest.raises(AuthError) as caught:
        await backend.connect()
    assert "401" in str(caught.value) and secret not in str(caught.value) and fake.token not in str(caught.value)
    assert "standardiste login" in str(caught.value)


async def test_a_token_of_another_agent_is_refused(fake: FakeChatwoot, tmp_path: Path) -> None:
    backend = make_backend(fake, tmp_path, agent="bob@example.test")
    with pytest.raises(AuthError, match=r"bob@example\.test"):
        await backend.connect()


async def test_a_revoked_cable_is_an_auth_error_from_the_events(fake: FakeChatwoot, events: Events) -> None:
    fake.disconnect_cable("unauthorized", reconnect=False)
    await events.wait(lambda: events.error is not None)
    assert isinstance(events.error, AuthError)


def test_a_token_is_never_sent_in_clear_over_a_network() -> None:
    with pytest.raises(Invalid, match="https"):
        parse_settings("cw", {"url": "http://chat.example.com", "account": 1})
    assert parse_settings("cw", {"url": "https://chat.example.com/", "account": 1}).cable_url == "wss://chat.example.com/cable"
    with pytest.raises(Invalid, match="token"):
        parse_settings("cw", {"url": "https://chat.example.com", "account": 1, "token": "x"})


async def test_a_reply_left_sending_by_a_stopped_console_is_not_sent_again(
    fake: FakeChatwoot, backend: ChatwootBackend, tmp_path: Path
) -> None:
    display = fake.add_conversation("email", "Crash", "hello", broadcast=False)
    cid = f"cw:{display}"
    # The console wrote the key, Chatwoot made the message, and the console stopped before noting it done.
    await backend._journal.sending("k-crash", "reply", cid)
    await backend.perform(Note(conversation_id=cid, body="unrelated"))
    fake._add_message(fake.conversations[display], "The reply", kind=1, sender=fake.me)
    result = await backend.perform(Reply(conversation_id=cid, body="The reply", key="k-crash"))
    assert "already applied" in result.detail
    assert [m["content"] for m in fake.messages[display]].count("The reply") == 1


async def test_a_silent_cable_is_taken_for_dead_and_opened_again(fake: FakeChatwoot, events: Events) -> None:
    fake.ping_every = 1000.0  # the server stops pinging: a half-open connection looks like this
    took = await events.wait(lambda: any(
        isinstance(e, BackendStatus) and e.state is LinkState.DOWN and "silent" in e.detail for e in events.seen), 10)
    assert took < 5.0
    fake.ping_every = 0.5
    await events.wait(lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.CONNECTED for e in events.seen), 10)
    fake.add_conversation("email", "Alive", "still here")
    await events.wait(lambda: events.messages("still here"))


async def test_a_server_restart_notice_is_a_drop_ridden_out(fake: FakeChatwoot, events: Events) -> None:
    fake.disconnect_cable("server_restart", reconnect=True)
    await events.wait(lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.CONNECTED for e in events.seen), 10)
    assert events.error is None


async def test_a_rejected_subscription_is_an_auth_error(fake: FakeChatwoot, tmp_path: Path) -> None:
    fake.reject_subscriptions = True
    backend = make_backend(fake, tmp_path)
    with pytest.raises(AuthError) as caught:
        await backend.connect()
    assert fake.users[fake.me]["pubsub_token"] not in str(caught.value)


async def test_the_agents_typing_is_sent_and_comes_back_as_theirs(
    fake: FakeChatwoot, backend: ChatwootBackend, events: Events
) -> None:
    display = fake.add_conversation("chat", "Typing back", "hello")
    await events.wait(lambda: events.messages("hello"))
    await backend.perform(Typing(conversation_id=f"cw:{display}", typing=True))
    await backend.perform(Typing(conversation_id=f"cw:{display}", typing=False))
    assert [s.body for s in calls(fake, "POST", "/toggle_typing_status")] == [
        {"typing_status": "on", "is_private": False}, {"typing_status": "off", "is_private": False}]
    await events.wait(lambda: [(e.who, e.typing) for e in events.seen if isinstance(e, TypingChanged)]
                      == [("ann@example.test", True), ("ann@example.test", False)])


async def test_a_transfer_to_a_queue_is_an_assignment_to_the_team_of_that_name(
    fake: FakeChatwoot, backend: ChatwootBackend, events: Events
) -> None:
    display = fake.add_conversation("email", "For billing", "invoice?")
    await events.wait(lambda: events.messages("invoice?"))
    await backend.perform(Transfer(conversation_id=f"cw:{display}", to_queue="billing"))
    await backend.perform(Transfer(conversation_id=f"cw:{display}", to_agent="colleague@example.test"))
    assert [s.body for s in calls(fake, "POST", "/assignments")] == [{"team_id": 1}, {"assignee_id": fake.colleague}]
    assert fake.conversations[display]["team_id"] == 1
    with pytest.raises(Invalid, match="no team"):
        await backend.perform(Transfer(conversation_id=f"cw:{display}", to_queue="nobody"))
    await events.wait(lambda: any(isinstance(e, ConversationUpserted) and e.conversation.assignee == "colleague@example.test"
                                  for e in events.seen))


async def test_a_customers_file_is_listed_and_fetched_from_chatwoot(
    fake: FakeChatwoot, backend: ChatwootBackend, events: Events
) -> None:
    display = fake.add_conversation("chat", "Photo", "look")
    await events.wait(lambda: events.messages("look"))
    await fake.customer_writes(display, "here it is", files={"broken lamp.jpg": b"\xff\xd8 jpeg bytes"})
    await events.wait(lambda: events.messages("here it is"))
    (attachment,) = events.messages("here it is")[0].message.attachments
    assert attachment.filename == "broken lamp.jpg" and attachment.content_type == "image/jpeg"
    assert attachment.size == len(b"\xff\xd8 jpeg bytes")
    # ActiveStorage answers with a redirect on the same server; the bytes come after it.
    assert await backend.attachment(f"cw:{display}", attachment) == b"\xff\xd8 jpeg bytes"
    history = await backend.history(f"cw:{display}")
    assert [a.filename for m in history for a in m.attachments] == ["broken lamp.jpg"]


async def test_search_finds_open_and_resolved_conversations_by_what_was_written(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    from standardiste.backends.optional import Search

    assert isinstance(backend, Search)
    old = fake.add_conversation("email", "Old refund", "My card was declined twice", broadcast=False)
    fake.conversations[old]["status"] = "resolved"
    fake.add_conversation("chat", "Other", "Where is my parcel", broadcast=False)
    hits = await backend.search('"card was declined"')
    assert [h.conversation_id for h in hits] == [f"cw:{old}"]
    hit = hits[0]
    assert hit.conversation is not None and hit.conversation.state is State.SOLVED
    assert "card was declined" in hit.snippet
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["card", "was", "declined"]
    assert calls(fake, "GET", "/conversations")[-1].query["status"] == "all"
    assert await backend.search("nothing like this") == []
    with pytest.raises(Invalid, match="filters"):
        await backend.search("refund state:solved")


async def test_a_customers_other_conversations_are_their_history(fake: FakeChatwoot, backend: ChatwootBackend) -> None:
    first = fake.add_conversation("email", "Last year", "hello", "zoe", broadcast=False, at=1_000.0)
    fake.conversations[first]["status"] = "resolved"
    second = fake.add_conversation("chat", "Today", "hi again", "zoe", broadcast=False)
    fake.add_conversation("chat", "Someone else", "hi", "max", broadcast=False)
    snapshot = await backend.snapshot()
    zoe = next(c.customer_id for c in snapshot.conversations if c.subject == "Today")
    history = await backend.customer_history(zoe)
    assert [c.id for c in history] == [f"cw:{second}", f"cw:{first}"]
    assert history[1].state is State.SOLVED
    assert await backend.customer_history("elsewhere:contact-1") == []


async def test_rest_failing_while_the_cable_lives_is_caught_up_like_a_drop(
    fake: FakeChatwoot, events: Events
) -> None:
    display = fake.add_conversation("chat", "Unknown yet", "first words", broadcast=False)
    fake.fail("GET", rf"/conversations/{display}$", 500, body={"error": "boom"})
    await fake.customer_writes(display, "are you there")
    await events.wait(lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.DOWN for e in events.seen))
    await events.wait(lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.CONNECTED for e in events.seen), 10)
    await events.wait(lambda: events.messages("are you there"))
    assert len(events.messages("first words")) == 1 and len(events.messages("are you there")) == 1
    assert any(isinstance(e, ConversationUpserted) and e.conversation.subject == "Unknown yet" for e in events.seen)


async def test_a_reply_with_files_is_a_multipart_post_the_document_allows(
    fake: FakeChatwoot, backend: ChatwootBackend, events: Events, tmp_path: Path
) -> None:
    from standardiste.console.core.model import Attachment

    display = fake.add_conversation("email", "Invoice", "send it please")
    await events.wait(lambda: events.messages("send it please"))
    invoice = tmp_path / "invoice 42.pdf"
    invoice.write_bytes(b"%PDF-1.4 pretend")
    sent = await backend.perform(Reply(
        conversation_id=f"cw:{display}", body="Here it is",
        attachments=(Attachment(filename="invoice 42.pdf", content_type="application/pdf", ref=str(invoice)),),
    ))
    assert calls(fake, "POST", f"{display}/messages")[-1].body == {
        "files": {"invoice 42.pdf": b"%PDF-1.4 pretend"}, "content": "Here it is", "message_type": "outgoing",
        "private": "false"}
    assert sent.message is not None and [a.filename for a in sent.message.attachments] == ["invoice 42.pdf"]
    await events.wait(lambda: events.messages("Here it is"))
    (echoed,) = events.messages("Here it is")[0].message.attachments
    assert await backend.attachment(f"cw:{display}", echoed) == b"%PDF-1.4 pretend"
    with pytest.raises(Invalid, match="cannot read"):
        await backend.perform(Reply(conversation_id=f"cw:{display}", body="again", attachments=(
            Attachment(filename="gone.pdf", ref=str(tmp_path / "gone.pdf")),)))
