"""What each command does on a real workspace file (continued): callbacks, CSAT, merge, presence,
idempotency, errors. The fixtures `ws`, `alice` and `bob` are in conftest.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from local_commands_kit import (
    CUSTOMER,
    OTHER_CUSTOMER,
    changed,
    column,
    csat_requested,
    example_command,
    new,
)
from standardiste.backends.base import (
    Accept,
    BackendError,
    CallbackOutcome,
    Claim,
    Command,
    CommandKind,
    Conflict,
    EndChat,
    HangUp,
    Hold,
    Invalid,
    Merge,
    Mute,
    Note,
    NotFound,
    PlaceCallback,
    RecordCsat,
    Release,
    Reply,
    RequestCsat,
    Resume,
    ScheduleCallback,
    SetPresence,
    SetSkills,
    SetStatus,
    Typing,
    Unsupported,
    Viewing,
    WrapUp,
)
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.backends.local.commands import CALLBACK_MAX_ATTEMPTS
from standardiste.backends.local.rows import local_id
from standardiste.console.core.model import (
    Channel,
    Direction,
    Presence,
    Skills,
    State,
)

# ---------------------------------------------------------------------------------------------- callbacks


async def test_callback_is_scheduled_placed_and_reached(ws: Workspace, alice: LocalBackend) -> None:
    request = new(ws, Channel.CALLBACK, subject="Call me back", callback_number="+33612345678", tags=("vip",))
    at = time.time() + 600
    scheduled = changed((await alice.perform(ScheduleCallback(conversation_id=request, at=at))).conversation)
    assert (scheduled.state, scheduled.callback_at) == (State.SCHEDULED, at)

    placed = await alice.perform(PlaceCallback(conversation_id=request))
    call = changed(placed.conversation)
    assert call.id != request
    assert call.channel is Channel.PHONE
    assert (call.state, call.assignee) == (State.CONNECTED, "alice")
    assert call.customer_id == CUSTOMER.id
    assert call.subject == "Callback: Call me back"
    assert set(call.tags) == {"vip", "callback"}
    assert call.answered_at is not None
    assert placed.detail == "dialling +33612345678"
    assert ws.messages(call.id)[0].body == "dialling +33612345678"
    dialling = ws.require(request)
    assert (dialling.state, dialling.assignee) == (State.DIALLING, "alice")
    assert column(ws, request, "linked_id") == local_id(call.id)
    assert column(ws, request, "callback_attempts") == 1

    # Dialling twice would ring the customer's phone twice: the first call's outcome comes first.
    with pytest.raises(Invalid):
        await alice.perform(PlaceCallback(conversation_id=request))
    assert column(ws, request, "callback_attempts") == 1

    reached = changed(
        (await alice.perform(CallbackOutcome(conversation_id=request, reached=True))).conversation
    )
    assert reached.state is State.DONE and reached.closed_at is not None
    assert csat_requested(ws, request)
    assert ws.messages(request)[-1].body == "callback attempt 1: reached"


async def test_unanswered_callback_is_retried_up_to_the_limit(ws: Workspace, alice: LocalBackend) -> None:
    request = new(ws, Channel.CALLBACK, subject="Call me", callback_number="+4930123456")
    calls = []
    for attempt in range(1, CALLBACK_MAX_ATTEMPTS + 1):
        placed = await alice.perform(PlaceCallback(conversation_id=request))
        calls.append(changed(placed.conversation).id)
        retry_at = time.time() + 60 * attempt
        after = changed(
            (
                await alice.perform(
                    CallbackOutcome(conversation_id=request, reached=False, retry_at=retry_at)
                )
            ).conversation
        )
        assert column(ws, request, "callback_attempts") == attempt
        if attempt < CALLBACK_MAX_ATTEMPTS:
            assert after.state is State.SCHEDULED
            assert after.callback_at == retry_at
            assert after.assignee is None  # whoever is free next tries again
            assert not after.is_closed
        else:
            assert after.state is State.DONE
            assert "unreached" in after.tags
            assert after.closed_at is not None
    assert len(set(calls)) == CALLBACK_MAX_ATTEMPTS  # one linked call per attempt
    bodies = [m.body for m in ws.messages(request)]
    assert bodies == [f"callback attempt {n}: no answer" for n in range(1, CALLBACK_MAX_ATTEMPTS + 1)]
    with pytest.raises(Invalid):
        await alice.perform(PlaceCallback(conversation_id=request))


async def test_callback_outcome_needs_a_placed_call(ws: Workspace, alice: LocalBackend) -> None:
    request = new(ws, Channel.CALLBACK, callback_number="+4930123456")
    with pytest.raises(Invalid):
        await alice.perform(CallbackOutcome(conversation_id=request, reached=False))
    assert ws.require(request).state is State.REQUESTED
    assert ws.messages(request) == []


# ---------------------------------------------------------------------------------------------- csat, merge, presence


async def test_csat_is_recorded_in_range_only(ws: Workspace, alice: LocalBackend) -> None:
    chat = new(ws, Channel.CHAT)
    await alice.perform(Accept(conversation_id=chat))
    await alice.perform(EndChat(conversation_id=chat))
    await alice.perform(WrapUp(conversation_id=chat, disposition="resolved"))
    assert csat_requested(ws, chat)
    for score in (0, 6, -1, 100):
        with pytest.raises(Invalid):
            await alice.perform(RecordCsat(conversation_id=chat, score=score))
    assert ws.csat() == []
    await alice.perform(RecordCsat(conversation_id=chat, score=4, comment="rapide"))
    [record] = ws.csat()
    assert (record.conversation_id, record.channel, record.score, record.comment) == (
        chat,
        Channel.CHAT,
        4,
        "rapide",
    )
    assert (record.agent_id, record.customer_id) == ("alice", CUSTOMER.id)
    assert not csat_requested(ws, chat)  # answered: no longer waiting for the customer
    assert ws.messages(chat)[-1].body == "CSAT 4/5: rapide"
    await alice.perform(RequestCsat(conversation_id=chat))
    assert csat_requested(ws, chat)


async def test_merge_moves_the_messages_and_closes_the_other(ws: Workspace, alice: LocalBackend) -> None:
    target = new(ws, Channel.EMAIL, subject="Refund")
    other = new(ws, Channel.CHAT, subject="Refund?")
    ws.add_message(target, direction=Direction.INBOUND, body="first mail", author="customer")
    ws.add_message(other, direction=Direction.INBOUND, body="chat line", author="customer")
    merged = changed((await alice.perform(Merge(conversation_id=target, other_id=other))).conversation)
    assert merged.id == target
    bodies = [m.body for m in ws.messages(target)]
    assert bodies[:2] == ["first mail", "chat line"]
    assert bodies[-1] == f"merged {other} (chat)"
    assert ws.messages(other) == []
    closed = ws.require(other)
    assert closed.state is State.ENDED and closed.is_closed and "merged" in closed.tags
    assert column(ws, other, "linked_id") == local_id(target)

    stranger = new(ws, Channel.EMAIL, customer=OTHER_CUSTOMER)
    with pytest.raises(Invalid):
        await alice.perform(Merge(conversation_id=target, other_id=stranger))
    with pytest.raises(Invalid):
        await alice.perform(Merge(conversation_id=target, other_id=target))
    assert ws.require(stranger).state is State.NEW


async def test_presence_and_skills(ws: Workspace, alice: LocalBackend) -> None:
    assert ws.agent("alice") is not None and ws.agent("alice").presence is Presence.AVAILABLE  # type: ignore[union-attr]
    result = await alice.perform(SetPresence(presence=Presence.AWAY, reason="lunch"))
    assert result.detail == "alice is away"
    agent = ws.agent("alice")
    assert agent is not None and (agent.presence, agent.presence_reason) == (Presence.AWAY, "lunch")
    with pytest.raises(NotFound):
        await alice.perform(SetPresence(agent_id="ghost", presence=Presence.BUSY))
    skills = Skills(channels={Channel.EMAIL: 3}, languages=("fr",))
    await alice.perform(SetSkills(skills=skills, capacity={Channel.EMAIL: 4}))
    agent = ws.agent("alice")
    assert agent is not None and agent.skills == skills and agent.capacity == {Channel.EMAIL: 4}


async def test_typing_and_viewing_are_recorded_for_collision_warnings(
    ws: Workspace, alice: LocalBackend
) -> None:
    chat = new(ws, Channel.CHAT)
    await alice.perform(Viewing(conversation_id=chat))
    await alice.perform(Typing(conversation_id=chat, typing=True))
    agent = ws.agent("alice")
    assert agent is not None and (agent.viewing, agent.typing_in) == (chat, chat)
    assert ws.typing(chat) == ["alice"]
    await alice.perform(Typing(conversation_id=chat, typing=False))
    assert ws.typing(chat) == []


# ---------------------------------------------------------------------------------------------- idempotency


async def test_the_same_key_twice_is_applied_once(ws: Workspace, alice: LocalBackend) -> None:
    chat = new(ws, Channel.CHAT)
    reply = Reply(conversation_id=chat, body="one answer only", key="outbox-1")
    first = await alice.perform(reply)
    second = await alice.perform(reply)
    assert first.message is not None and second.message is not None
    assert second.message == first.message
    assert [m.body for m in ws.messages(chat)] == ["one answer only"]
    assert ws.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1

    note = Note(conversation_id=chat, body="noted", key="outbox-2")
    await alice.perform(note)
    await alice.perform(note)
    assert [m.body for m in ws.messages(chat)] == ["one answer only", "noted"]

    await alice.perform(EndChat(conversation_id=chat))
    wrap = WrapUp(conversation_id=chat, disposition="resolved", key="outbox-3")
    done = await alice.perform(wrap)
    again = await alice.perform(wrap)  # a retry after a crash: not an Invalid "already closed"
    assert again.conversation == done.conversation
    assert len(ws.wrapups()) == 1

    # A different key is a different command.
    await alice.perform(Note(conversation_id=chat, body="noted", key="outbox-4"))
    assert [m.body for m in ws.messages(chat)].count("noted") == 2


async def test_a_key_is_remembered_only_when_the_command_succeeded(
    ws: Workspace, alice: LocalBackend
) -> None:
    chat = new(ws, Channel.CHAT)
    with pytest.raises(Invalid):
        await alice.perform(Reply(conversation_id=chat, body="", key="outbox-9"))
    result = await alice.perform(Reply(conversation_id=chat, body="fixed", key="outbox-9"))
    assert result.message is not None and result.message.body == "fixed"


async def test_the_same_key_from_two_consoles_is_applied_once(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend
) -> None:
    mail = new(ws, Channel.EMAIL)
    note = Note(conversation_id=mail, body="shared", key="outbox-shared")
    await alice.perform(note)
    await bob.perform(note)
    assert [m.body for m in ws.messages(mail)] == ["shared"]


# ---------------------------------------------------------------------------------------------- errors


async def test_someone_elses_conversation_is_a_conflict_naming_the_owner(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend
) -> None:
    call = new(ws, Channel.PHONE)
    await bob.perform(Accept(conversation_id=call))
    with pytest.raises(Conflict) as raised:
        await alice.perform(Accept(conversation_id=call))
    assert raised.value.owner == "bob"
    for command in (Hold(conversation_id=call), Mute(conversation_id=call), HangUp(conversation_id=call)):
        with pytest.raises(Conflict) as raised:
            await alice.perform(command)
        assert raised.value.owner == "bob"
    assert ws.require(call).state is State.CONNECTED and not ws.require(call).muted

    mail = new(ws, Channel.EMAIL)
    await bob.perform(Claim(conversation_id=mail))
    for command in (
        Reply(conversation_id=mail, body="mine now"),
        Claim(conversation_id=mail),
        Release(conversation_id=mail),
    ):
        with pytest.raises(Conflict) as raised:
            await alice.perform(command)
        assert raised.value.owner == "bob"
    assert ws.messages(mail) == []
    taken = changed((await alice.perform(Claim(conversation_id=mail, force=True))).conversation)
    assert taken.assignee == "alice"

    chat = new(ws, Channel.CHAT)
    await bob.perform(Accept(conversation_id=chat))
    for command in (EndChat(conversation_id=chat), WrapUp(conversation_id=chat, disposition="resolved")):
        with pytest.raises(Conflict) as raised:
            await alice.perform(command)
        assert raised.value.owner == "bob"
    await bob.perform(EndChat(conversation_id=chat))
    with pytest.raises(Conflict):
        await alice.perform(WrapUp(conversation_id=chat, disposition="resolved"))
    assert ws.require(chat).state is State.WRAP_UP and ws.wrapups() == []


async def test_accepting_an_ended_call_is_a_conflict(ws: Workspace, alice: LocalBackend) -> None:
    call = new(ws, Channel.PHONE)
    ws.update_conversation(call, state=State.ABANDONED, closed_at=time.time())
    with pytest.raises(Conflict):
        await alice.perform(Accept(conversation_id=call))
    assert ws.require(call).assignee is None


async def test_unknown_conversations_are_not_found(ws: Workspace, alice: LocalBackend) -> None:
    for conversation_id in ("local:999999", "chatwoot:12", "local:not-a-number"):
        with pytest.raises(NotFound):
            await alice.perform(Reply(conversation_id=conversation_id, body="hello"))
        with pytest.raises(NotFound):
            await alice.perform(Claim(conversation_id=conversation_id))
    mail = new(ws, Channel.EMAIL)
    with pytest.raises(NotFound):
        await alice.perform(Merge(conversation_id=mail, other_id="local:424242"))
    with pytest.raises(Invalid):
        await alice.perform(Note(body="no conversation given"))


async def test_invalid_transitions_are_refused(ws: Workspace, alice: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL)
    chat = new(ws, Channel.CHAT)
    call = new(ws, Channel.PHONE)
    refused: list[Command] = [
        Hold(conversation_id=mail),
        Resume(conversation_id=mail),
        Mute(conversation_id=chat),
        HangUp(conversation_id=chat),
        Hold(conversation_id=call),  # ringing: nothing to hold yet
        Resume(conversation_id=call),
        EndChat(conversation_id=call),
        EndChat(conversation_id=mail),
        ScheduleCallback(conversation_id=chat, at=time.time()),
        PlaceCallback(conversation_id=mail),
        CallbackOutcome(conversation_id=chat, reached=True),
        SetStatus(conversation_id=mail, state=State.CONNECTED),
        SetStatus(conversation_id=call, state=State.SOLVED),
    ]
    before = {c: ws.require(c) for c in (mail, chat, call)}
    for command in refused:
        with pytest.raises(Invalid):
            await alice.perform(command)
    assert {c: ws.require(c) for c in (mail, chat, call)} == before
    assert ws.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


@pytest.mark.parametrize("channel", list(Channel))
async def test_no_advertised_command_is_unsupported(
    ws: Workspace, alice: LocalBackend, channel: Channel
) -> None:
    kinds = alice.capabilities.commands
    # The local workspace does everything natively but tones: its calls are simulated, no line to key into.
    assert kinds == frozenset(CommandKind) - {CommandKind.SEND_DTMF}
    assert alice.capabilities.channels == frozenset(Channel)
    for kind in sorted(kinds):
        conversation, other = new(ws, channel), new(ws, channel)
        command = example_command(kind, conversation, other)
        assert command.kind is kind
        try:
            await alice.perform(command)
        except Unsupported:
            pytest.fail(f"{kind.value} is advertised but unsupported on {channel.value}")
        except BackendError:
            pass  # refused for this channel or state: a typed answer, which is what is asked


@pytest.fixture
def workspace_path(workspace_target: Any) -> Any:
    """Every test here runs on the file and on PostgreSQL (conftest's `workspace_target`)."""
    return workspace_target
