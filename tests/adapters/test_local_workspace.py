"""The workspace file itself (`Workspace`) and its async face (`LocalBackend`): storage, change feed, events.

Everything runs on a real SQLite file in a temporary directory.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from standardiste.backends.base import (
    Accept,
    AgentUpdated,
    ConversationUpserted,
    CsatRecorded,
    CustomerUpdated,
    Event,
    MessageAdded,
    NotFound,
    RecordCsat,
    TypingChanged,
    Unavailable,
    WrappedUp,
    WrapUp,
)
from standardiste.backends.local import LocalBackend, Workspace, default_agent, local_id, qualify
from standardiste.backends.local.rows import SCHEMA_VERSION
from standardiste.backends.local.workspace import OwnedByOther, _split_sql
from standardiste.console.core.model import (
    Agent,
    Attachment,
    Channel,
    CsatRecord,
    Customer,
    Direction,
    EmailHeaders,
    Presence,
    Priority,
    Seniority,
    Skills,
    State,
    WrapUpRecord,
)

CUSTOMER = Customer(
    "cust-1", "Camille Martin", language="fr", email="camille@example.com", phone="+336", country="FR"
)


class Clock:
    """A settable clock: timestamps in assertions are exact, not "about now"."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ws(workspace_path: Path, clock: Clock) -> Iterator[Workspace]:
    workspace = Workspace(workspace_path, clock=clock)
    try:
        yield workspace
    finally:
        workspace.close()


def new(ws: Workspace, channel: Channel = Channel.EMAIL, **fields: object) -> int:
    fields.setdefault("subject", "Order 1234")
    return ws.create_conversation(channel=channel, customer=CUSTOMER, **fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- the file


def test_a_new_file_is_a_wal_database_with_the_schema(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "workspace.db"
    ws = Workspace(nested)  # the directory is created
    ws.close()
    db = sqlite3.connect(nested)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {
            "conversations",
            "messages",
            "agents",
            "customers",
            "changes",
            "command_keys",
            "csat",
        } <= tables
        triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        # The search index's own (search_*) come on top: backends/local/search.py.
        assert len({t for t in triggers if not t.startswith("search_")}) == 15
        assert {"search_messages_ins", "search_heads_ins"} <= triggers
        assert {"messages_upd", "offers_ins", "offers_del"} <= triggers
        assert (
            db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION
        )
    finally:
        db.close()


def test_reopening_keeps_the_data_and_the_schema(workspace_path: Path) -> None:
    first = Workspace(workspace_path)
    row_id = new(first)
    first.close()
    second = Workspace(workspace_path)  # CREATE ... IF NOT EXISTS: a second open changes nothing
    try:
        assert second.require(row_id).subject == "Order 1234"
        # schema_version, and on the file search_index (search.py), each once
        expected = 2 if second.dialect == "sqlite" else 1
        assert second.db.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == expected
    finally:
        second.close()


def test_schema_statements_split_at_trigger_ends() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (a INTEGER);
    CREATE TRIGGER x AFTER INSERT ON t
    BEGIN INSERT INTO t (a) VALUES (1); END;
    CREATE INDEX i ON t (a);
    """
    statements = _split_sql(script)
    assert len(statements) == 3
    assert statements[1].strip().startswith("CREATE TRIGGER") and statements[1].strip().endswith("END;")


def test_ids_are_qualified_by_backend() -> None:
    assert qualify(42) == "local:42"
    assert local_id("local:42") == 42
    assert local_id("42") == 42
    assert local_id(42) == 42
    with pytest.raises(ValueError):
        local_id("chatwoot:42")
    with pytest.raises(ValueError):
        local_id("local:abc")


# ---------------------------------------------------------------------------------------------- rows


def test_a_conversation_round_trips_every_field(ws: Workspace, clock: Clock) -> None:
    row_id = new(
        ws,
        Channel.CALLBACK,
        subject="Rappelez-moi",
        queue="billing",
        priority=Priority.HIGH,
        tags=("VIP", " refund", "vip", ""),
        sla_due_at=clock.now + 300,
        callback_number="+33612345678",
        callback_at=clock.now + 600,
    )
    conversation = ws.require(row_id)
    assert conversation.id == f"local:{row_id}"
    assert conversation.backend == "local"
    assert (conversation.channel, conversation.state) == (Channel.CALLBACK, State.REQUESTED)
    assert (conversation.subject, conversation.queue, conversation.priority) == (
        "Rappelez-moi",
        "billing",
        Priority.HIGH,
    )
    assert conversation.tags == ("refund", "vip")  # trimmed, lower case, once each, sorted
    assert (conversation.customer_id, conversation.customer_name, conversation.language) == (
        "cust-1",
        "Camille Martin",
        "fr",
    )
    assert conversation.created_at == conversation.updated_at == conversation.last_customer_at == clock.now
    assert (conversation.sla_due_at, conversation.callback_number, conversation.callback_at) == (
        clock.now + 300,
        "+33612345678",
        clock.now + 600,
    )
    assert conversation.assignee is None and conversation.version == 0 and not conversation.muted
    assert ws.customer("cust-1") == CUSTOMER  # the customer is stored with the conversation


def test_each_channel_starts_in_its_own_initial_state(ws: Workspace) -> None:
    expected = {
        Channel.PHONE: State.RINGING,
        Channel.CHAT: State.WAITING,
        Channel.EMAIL: State.NEW,
        Channel.FORM: State.NEW,
        Channel.SOCIAL: State.NEW,
        Channel.CALLBACK: State.REQUESTED,
    }
    assert {channel: ws.require(new(ws, channel)).state for channel in Channel} == expected
    assert ws.require(new(ws, Channel.PHONE, state=State.QUEUED)).state is State.QUEUED
    assert ws.require(new(ws, Channel.CHAT, language="de")).language == "de"


def test_update_converts_values_and_bumps_the_version(ws: Workspace, clock: Clock) -> None:
    row_id = new(ws)
    clock.now += 10
    updated = ws.update_conversation(
        row_id, state=State.OPEN, priority=Priority.URGENT, tags=["B", "a"], muted=1
    )
    assert (updated.state, updated.priority, updated.tags, updated.muted) == (
        State.OPEN,
        Priority.URGENT,
        ("a", "b"),
        True,
    )
    assert updated.updated_at == clock.now
    assert updated.version == 1
    assert ws.update_conversation(qualify(row_id), subject="x").version == 2
    with pytest.raises(KeyError):
        ws.update_conversation(999, subject="x")
    assert ws.conversation(999) is None
    with pytest.raises(KeyError):
        ws.require("local:999")


def test_claim_takes_an_unowned_conversation_and_refuses_an_owned_one(ws: Workspace) -> None:
    row_id = new(ws)
    ws.db.execute(
        "INSERT INTO offers (conversation_id, agent_id, offered_at, expires_at) VALUES (?, 'alice', 0, 1)",
        (row_id,),
    )
    assert ws.claim(row_id, "alice").assignee == "alice"
    assert (
        ws.db.execute("SELECT COUNT(*) FROM offers").fetchone()[0] == 0
    )  # a taken item is no longer offered
    assert ws.claim(row_id, "alice").assignee == "alice"  # claiming one's own again is fine
    with pytest.raises(OwnedByOther) as raised:
        ws.claim(row_id, "bob")
    assert raised.value.owner == "alice"
    assert ws.require(row_id).assignee == "alice"
    assert ws.claim(row_id, "bob", force=True).assignee == "bob"
    with pytest.raises(KeyError):
        ws.claim(424242, "bob")


def test_a_failed_transaction_leaves_nothing(ws: Workspace) -> None:
    before = ws.last_change()
    with pytest.raises(RuntimeError), ws.transaction():
        row_id = new(ws)
        ws.add_message(row_id, direction=Direction.INBOUND, body="lost")
        raise RuntimeError("crash in the middle")
    assert ws.db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0
    assert ws.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    assert ws.last_change() == before
    assert not ws.db.in_transaction


def test_messages_round_trip_with_attachments_email_headers_and_raw(ws: Workspace, clock: Clock) -> None:
    row_id = new(ws)
    headers = EmailHeaders(
        message_id="<m1@example.org>",
        in_reply_to="<m0@example.org>",
        references=("<m0@example.org>",),
        from_addr="camille@example.com",
        to=("support@shop.example",),
        cc=("c@example.com",),
        bcc=("b@example.com",),
        subject="Order 1234",
    )
    attachments = (Attachment("photo.jpg", "image/jpeg", 2048, "7/1"), Attachment("a.txt"))
    message = ws.add_message(
        row_id,
        direction=Direction.INBOUND,
        body="Bonjour\nma commande ?",
        author="Camille",
        attachments=attachments,
        email=headers,
        raw=b"From: camille@example.com\r\n\r\nBonjour",
    )
    assert message.conversation_id == qualify(row_id)
    assert (message.direction, message.author, message.body) == (
        Direction.INBOUND,
        "Camille",
        "Bonjour\nma commande ?",
    )
    assert message.attachments == attachments and message.email == headers
    assert message.created_at == clock.now
    assert ws.messages(row_id) == [message]
    assert ws.message(message.id) == message
    assert ws.raw_message(message.id) == b"From: camille@example.com\r\n\r\nBonjour"
    note = ws.add_message(row_id, direction=Direction.NOTE, body="internal")
    assert note.email is None and note.attachments == ()
    assert ws.raw_message(note.id) is None
    with pytest.raises(KeyError):
        ws.message(999)


def test_inbound_and_outbound_messages_move_the_conversation_clocks(ws: Workspace, clock: Clock) -> None:
    row_id = new(ws, Channel.CHAT)
    start = clock.now
    clock.now += 5
    ws.add_message(row_id, direction=Direction.INBOUND, body="hello?")
    clock.now += 5
    ws.add_message(row_id, direction=Direction.INBOUND, body="anyone?")
    conversation = ws.require(row_id)
    assert (conversation.unread, conversation.last_customer_at, conversation.first_response_at) == (
        2,
        start + 10,
        None,
    )
    clock.now += 20
    ws.add_message(row_id, direction=Direction.OUTBOUND, body="Hi!")
    clock.now += 20
    ws.add_message(row_id, direction=Direction.OUTBOUND, body="How can I help?")
    conversation = ws.require(row_id)
    assert conversation.unread == 0
    assert conversation.first_response_at == start + 30  # the first answer, not the last
    ws.add_message(row_id, direction=Direction.NOTE, body="note")
    ws.add_message(row_id, direction=Direction.SYSTEM, body="event")
    assert ws.require(row_id).version == conversation.version  # notes and system lines are not contact


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.FORM, Channel.SOCIAL])
@pytest.mark.parametrize("state", [State.PENDING, State.SOLVED])
def test_a_customer_answer_reopens_a_pending_or_solved_thread(
    ws: Workspace, channel: Channel, state: State
) -> None:
    row_id = new(ws, channel)
    ws.update_conversation(row_id, state=state, closed_at=ws.now() if state is State.SOLVED else None)
    ws.add_message(row_id, direction=Direction.INBOUND, body="still not arrived")
    conversation = ws.require(row_id)
    # Left pending, the answer would wait unseen behind the "waiting for customer" filter.
    assert conversation.state is State.OPEN
    assert conversation.closed_at is None


def test_a_customer_line_does_not_reopen_a_finished_call_or_chat(ws: Workspace) -> None:
    chat = new(ws, Channel.CHAT, state=State.ENDED)
    ws.add_message(chat, direction=Direction.INBOUND, body="late line")
    assert ws.require(chat).state is State.ENDED
    mail = new(ws)
    ws.add_message(mail, direction=Direction.INBOUND, body="first")
    assert ws.require(mail).state is State.NEW


def test_recent_conversations_and_customer_history(ws: Workspace, clock: Clock) -> None:
    old_closed = new(ws, created_at=clock.now - 5 * 86400)
    ws.update_conversation(old_closed, state=State.SOLVED, closed_at=clock.now - 3 * 86400)
    old_open = new(ws, created_at=clock.now - 4 * 86400)
    recent_closed = new(ws, created_at=clock.now - 3600)
    ws.update_conversation(recent_closed, state=State.SOLVED, closed_at=clock.now - 60)
    loaded = {c.id for c in ws.conversations()}
    assert loaded == {qualify(old_open), qualify(recent_closed)}
    assert {c.id for c in ws.conversations(since=0)} == {
        qualify(r) for r in (old_closed, old_open, recent_closed)
    }
    assert len(ws.conversations(limit=1)) == 1
    history = ws.conversations_of_customer("cust-1")
    assert [c.id for c in history] == [qualify(recent_closed), qualify(old_open), qualify(old_closed)]
    assert ws.conversations_of_customer("nobody") == []


def test_customers_are_upserted(ws: Workspace) -> None:
    ws.upsert_customer(CUSTOMER)
    renamed = Customer("cust-1", "Camille Martin-Durand", language="fr", email="new@example.com")
    ws.upsert_customer(renamed)
    assert ws.customer("cust-1") == renamed
    assert ws.customers() == [renamed]
    assert ws.customer("nobody") is None


def test_agents_round_trip_skills_capacity_and_presence(ws: Workspace, clock: Clock) -> None:
    skills = Skills(
        channels={Channel.PHONE: 3, Channel.EMAIL: 1}, languages=("fr", "en"), seniority=Seniority.SENIOR
    )
    agent = Agent(
        "alice", "Alice", skills=skills, capacity={Channel.PHONE: 1, Channel.EMAIL: 5}, supervisor=True
    )
    ws.upsert_agent(agent)
    stored = ws.agent("alice")
    assert stored is not None
    assert (stored.skills, stored.capacity, stored.supervisor) == (
        skills,
        {Channel.PHONE: 1, Channel.EMAIL: 5},
        True,
    )
    assert (stored.presence, stored.presence_since, stored.last_seen) == (
        Presence.OFFLINE,
        clock.now,
        clock.now,
    )

    clock.now += 30
    away = ws.set_presence("alice", Presence.AWAY, "coffee")
    assert (away.presence, away.presence_reason, away.presence_since) == (Presence.AWAY, "coffee", clock.now)
    # Upserting the profile again (a config reload) keeps the live presence.
    ws.upsert_agent(Agent("alice", "Alice B.", skills=skills))
    stored = ws.agent("alice")
    assert stored is not None and (stored.name, stored.presence) == ("Alice B.", Presence.AWAY)
    assert stored.capacity == {c: n for c, n in default_agent("x").capacity.items()}

    changed = ws.set_skills("alice", Skills(channels={Channel.CHAT: 2}), {Channel.CHAT: 4})
    assert changed.skills.channels == {Channel.CHAT: 2} and changed.capacity == {Channel.CHAT: 4}
    with pytest.raises(KeyError):
        ws.set_presence("ghost", Presence.AVAILABLE)
    with pytest.raises(KeyError):
        ws.set_skills("ghost", Skills())
    ws.upsert_agent(Agent("bob", "Bob"))
    assert [a.id for a in ws.agents()] == ["alice", "bob"]


def test_activity_and_typing_expire(ws: Workspace, clock: Clock) -> None:
    ws.upsert_agent(Agent("alice", "Alice"))
    row_id = new(ws, Channel.CHAT)
    ws.set_agent_activity("alice", viewing=qualify(row_id), typing_in=qualify(row_id))
    agent = ws.agent("alice")
    assert agent is not None and (agent.viewing, agent.typing_in) == (qualify(row_id), qualify(row_id))
    ws.set_agent_activity("alice", typing_in=None)  # viewing left as it is
    agent = ws.agent("alice")
    assert agent is not None and (agent.viewing, agent.typing_in) == (qualify(row_id), None)

    ws.set_typing(row_id, "customer", True, ttl=6.0)
    assert ws.typing(row_id) == ["customer"]
    clock.now += 7  # nobody said "stopped": the indicator still goes away
    assert ws.typing(row_id) == []
    ws.set_typing(row_id, "customer", True)
    ws.set_typing(row_id, "customer", False)
    assert ws.typing(row_id) == []


def test_wrapups_csat_and_survey_requests(ws: Workspace, clock: Clock) -> None:
    row_id = new(ws, Channel.CHAT)
    ws.record_wrapup(WrapUpRecord(qualify(row_id), "alice", "resolved", "ok", clock.now, 120.0))
    assert ws.wrapups() == [WrapUpRecord(qualify(row_id), "alice", "resolved", "ok", clock.now, 120.0)]
    assert ws.wrapups(since=clock.now + 1) == []
    ws.request_csat(row_id)
    ws.request_csat(row_id)  # asking twice is one request
    assert ws.pending_csat_requests() == [(row_id, clock.now)]
    record = CsatRecord(qualify(row_id), Channel.CHAT, 5, "merci", clock.now, "alice", "cust-1")
    ws.record_csat(record)
    assert ws.csat() == [record]
    assert ws.pending_csat_requests() == []


def test_command_keys_are_remembered(ws: Workspace) -> None:
    assert ws.command_result("k") is None
    with ws.transaction():
        ws.remember_command("k", '{"detail": "first"}')
        ws.remember_command("k", '{"detail": "second"}')
    assert ws.command_result("k") == '{"detail": "first"}'


# ---------------------------------------------------------------------------------------------- change feed


def test_every_write_is_logged_in_the_change_feed(ws: Workspace, clock: Clock) -> None:
    start = ws.last_change()
    ws.upsert_agent(Agent("alice", "Alice"))
    row_id = new(ws, Channel.CHAT)  # customer + conversation
    message = ws.add_message(row_id, direction=Direction.INBOUND, body="hi")  # message + conversation
    ws.set_presence("alice", Presence.AVAILABLE)
    ws.set_typing(row_id, "customer", True)
    ws.set_typing(row_id, "customer", False)
    ws.record_wrapup(WrapUpRecord(qualify(row_id), "alice", "resolved", "", clock.now))
    ws.record_csat(CsatRecord(qualify(row_id), Channel.CHAT, 4, "", clock.now))
    kinds = [(c.kind, c.ref) for c in ws.changes_since(start)]
    assert kinds == [
        ("agent", "alice"),
        ("customer", "cust-1"),
        ("conversation", str(row_id)),
        ("message", str(local_id(message.id))),
        ("conversation", str(row_id)),
        ("agent", "alice"),
        ("typing", f"{row_id} customer"),
        ("typing", f"{row_id} customer"),
        ("wrapup", "1"),
        ("csat", "1"),
    ]
    seqs = [c.seq for c in ws.changes_since(start)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert ws.last_change() == seqs[-1]
    assert [c.seq for c in ws.changes_since(seqs[4], limit=2)] == seqs[5:7]


def test_pruning_keeps_the_newest_changes(ws: Workspace) -> None:
    for n in range(10):
        new(ws, subject=f"s{n}")
    last = ws.last_change()
    ws.prune_changes(keep=3)
    assert ws.first_change() == last - 2
    assert ws.last_change() == last
    assert len(ws.changes_since(0)) == 3


# ---------------------------------------------------------------------------------------------- LocalBackend


@pytest.fixture
async def backend(workspace_path: Path) -> AsyncIterator[LocalBackend]:
    backend = LocalBackend(workspace_path, agent_id="alice", poll_interval=0.05)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


async def next_batch(events: AsyncIterator[list[Event]] | AsyncIterator[object]) -> list[Event]:
    return list(await asyncio.wait_for(anext(events), 5))  # type: ignore[arg-type]


async def test_connect_registers_the_agent_and_snapshot_returns_the_workspace(
    workspace_path: Path, backend: LocalBackend
) -> None:
    ws = Workspace(workspace_path)
    try:
        row_id = new(ws, Channel.PHONE)
        agent = ws.agent("alice")
        assert agent is not None and agent.presence is Presence.AVAILABLE
        assert agent.skills == default_agent("alice").skills
    finally:
        ws.close()
    snapshot = await backend.snapshot()
    assert snapshot.me == "alice"
    assert [c.id for c in snapshot.conversations] == [qualify(row_id)]
    assert [a.id for a in snapshot.agents] == ["alice"]
    # Customers are not all sent with the snapshot; one is fetched when its conversation opens.
    assert list(snapshot.customers) == []
    assert await backend.customer(CUSTOMER.id) == CUSTOMER
    assert await backend.customer("nobody") is None
    assert await backend.history(qualify(row_id)) == []
    assert [c.id for c in await backend.customer_history("cust-1")] == [qualify(row_id)]


async def test_the_snapshot_sends_the_weeks_surveys_and_the_days_wrapups(
    workspace_path: Path, backend: LocalBackend
) -> None:
    # What the wallboard counts (metrics.py): CSAT of the week; wrap-ups of its day and of the last hour.
    now, day = time.time(), 24 * 3600.0
    ws = Workspace(workspace_path)
    try:
        row = qualify(new(ws, Channel.CHAT))
        for at in (now - 2 * day, now - 60.0, now - 30.0):
            ws.record_wrapup(WrapUpRecord(row, "alice", "resolved", "", at, 60.0))
        for at in (now - 8 * day, now - 3 * day):
            ws.record_csat(CsatRecord(row, Channel.CHAT, 4, "", at, "alice"))
    finally:
        ws.close()
    snapshot = await backend.snapshot()
    assert [round(r.at - now) for r in snapshot.wrapups] == [-60, -30]
    assert [round((r.at - now) / day) for r in snapshot.csat] == [-3]
    first, second = snapshot.wrapups
    # Each record's agent and disposition are the strings every other record holds (memory at 1M).
    assert first.agent_id is second.agent_id and first.disposition is second.disposition


async def test_a_returning_agent_comes_back_available(workspace_path: Path) -> None:
    ws = Workspace(workspace_path)
    try:
        ws.upsert_agent(Agent("alice", "Alice Custom", skills=Skills(channels={Channel.EMAIL: 1})))
    finally:
        ws.close()
    backend = LocalBackend(workspace_path, agent_id="alice")
    await backend.connect()
    try:
        snapshot = await backend.snapshot()
        [agent] = snapshot.agents
        # Signing in makes an offline agent available, and does not overwrite their stored profile.
        assert (agent.name, agent.presence, agent.skills.channels) == (
            "Alice Custom",
            Presence.AVAILABLE,
            {Channel.EMAIL: 1},
        )
    finally:
        await backend.close()


async def test_events_follow_commands_in_order(workspace_path: Path, backend: LocalBackend) -> None:
    ws = Workspace(workspace_path)
    try:
        await backend.snapshot()
        events = backend.events()
        row_id = new(ws, Channel.CHAT)
        batch = await next_batch(events)
        assert [type(e) for e in batch] == [CustomerUpdated, ConversationUpserted]
        assert isinstance(batch[1], ConversationUpserted) and batch[1].conversation.id == qualify(row_id)

        with ws.transaction():  # one commit, so one poll sees both
            ws.add_message(row_id, direction=Direction.INBOUND, body="hello")
            ws.set_typing(row_id, "customer", True)
        batch = await next_batch(events)
        upserts = [e for e in batch if isinstance(e, ConversationUpserted)]
        assert [e.conversation.unread for e in upserts] == [1]  # two changes, one event with the latest row
        assert [e.message.body for e in batch if isinstance(e, MessageAdded)] == ["hello"]
        assert [(e.who, e.typing) for e in batch if isinstance(e, TypingChanged)] == [("customer", True)]

        await backend.perform(Accept(conversation_id=qualify(row_id)))
        await backend.perform(WrapUp(conversation_id=qualify(row_id), disposition="resolved"))
        await backend.perform(RecordCsat(conversation_id=qualify(row_id), score=5))
        seen: list[Event] = []
        while not any(isinstance(e, CsatRecorded) for e in seen):
            seen.extend(await next_batch(events))
        [wrapped] = [e for e in seen if isinstance(e, WrappedUp)]
        assert (wrapped.record.conversation_id, wrapped.record.disposition, wrapped.record.agent_id) == (
            qualify(row_id),
            "resolved",
            "alice",
        )
        [csat] = [e for e in seen if isinstance(e, CsatRecorded)]
        assert (csat.record.score, csat.record.channel) == (5, Channel.CHAT)

        ws.set_presence("alice", Presence.BUSY)
        batch = await next_batch(events)
        assert [e.agent.presence for e in batch if isinstance(e, AgentUpdated)] == [Presence.BUSY]
        await events.aclose()  # type: ignore[attr-defined]
    finally:
        ws.close()


async def test_many_changes_come_in_few_batches(workspace_path: Path, backend: LocalBackend) -> None:
    await backend.snapshot()
    ws = Workspace(workspace_path)
    try:
        with ws.transaction():
            ids = [new(ws, Channel.EMAIL, subject=f"bulk {n}") for n in range(1500)]
    finally:
        ws.close()
    events = backend.events()
    batch = await next_batch(events)  # more rows than one IN (...) chunk: all of them, once
    upserted = [e.conversation.id for e in batch if isinstance(e, ConversationUpserted)]
    assert sorted(upserted, key=local_id) == [qualify(i) for i in ids]
    await events.aclose()  # type: ignore[attr-defined]


async def test_closing_ends_the_event_stream(workspace_path: Path) -> None:
    backend = LocalBackend(workspace_path, agent_id="alice", poll_interval=0.05)
    await backend.connect()
    await backend.snapshot()
    received: list[Event] = []

    async def tail() -> None:
        async for batch in backend.events():
            received.extend(batch)

    task = asyncio.create_task(tail())
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await backend.close()
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 2
    with pytest.raises(Unavailable):
        await backend.history("local:1")
    await backend.close()  # twice is harmless


async def test_an_unopenable_file_is_unavailable(tmp_path: Path) -> None:
    not_a_file = tmp_path / "dir.db"
    not_a_file.mkdir()
    backend = LocalBackend(not_a_file, agent_id="alice")
    with pytest.raises(Unavailable):
        await backend.connect()
    await backend.close()


async def test_attachments_are_read_from_the_stored_mime(workspace_path: Path, backend: LocalBackend) -> None:
    mime = EmailMessage()
    mime["From"] = "camille@example.com"
    mime["Subject"] = "photo"
    mime.set_content("see attached")
    mime.add_attachment(b"\x89PNG\r\n\x1a\nbinary", maintype="image", subtype="png", filename="broken.png")
    ws = Workspace(workspace_path)
    try:
        row_id = new(ws)
        message = ws.add_message(
            row_id, direction=Direction.INBOUND, body="see attached", raw=mime.as_bytes()
        )
    finally:
        ws.close()
    row = local_id(message.id)
    content = await backend.attachment(qualify(row_id), Attachment("broken.png", "image/png", 13, f"{row}/1"))
    assert content == b"\x89PNG\r\n\x1a\nbinary"
    with pytest.raises(NotFound):
        await backend.attachment(qualify(row_id), Attachment("x", ref=f"{row}/9"))
    with pytest.raises(NotFound):
        await backend.attachment(qualify(row_id), Attachment("x", ref="999/0"))


@pytest.fixture
def workspace_path(workspace_target: Any) -> Any:
    """Every test here runs on the file and on PostgreSQL (conftest's `workspace_target`)."""
    return workspace_target
