"""What each command does on a real workspace file, through `LocalBackend.perform`.

Two consoles (alice and bob) open the same file, as two agents on one machine would; a plain `Workspace`
on that file seeds conversations and reads back what the commands wrote (rows, records, side effects).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from standardiste.backends.base import (
    Accept,
    Assign,
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
    SetPriority,
    SetSkills,
    SetStatus,
    Snooze,
    Tags,
    Transfer,
    Typing,
    Unsupported,
    Viewing,
    WrapUp,
)
from standardiste.backends.local import LocalBackend, Workspace, qualify
from standardiste.backends.local.commands import CALLBACK_MAX_ATTEMPTS
from standardiste.backends.local.rows import local_id
from standardiste.console.model import (
    Attachment,
    Channel,
    Conversation,
    Customer,
    Direction,
    EmailHeaders,
    Presence,
    Priority,
    Skills,
    State,
)

CUSTOMER = Customer(
    "cust-1", "Camille Martin", language="fr", email="camille@example.com", phone="+33612345678"
)
OTHER_CUSTOMER = Customer("cust-2", "Jonas Berg", language="de", email="jonas@example.com")


@pytest.fixture
def ws(workspace_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(workspace_path)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
async def alice(workspace_path: Path, ws: Workspace) -> AsyncIterator[LocalBackend]:
    backend = LocalBackend(workspace_path, agent_id="alice")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def bob(workspace_path: Path, ws: Workspace) -> AsyncIterator[LocalBackend]:
    backend = LocalBackend(workspace_path, agent_id="bob")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def new(ws: Workspace, channel: Channel, customer: Customer = CUSTOMER, **fields: object) -> str:
    fields.setdefault("subject", "Where is order 1234?")
    return qualify(ws.create_conversation(channel=channel, customer=customer, **fields))  # type: ignore[arg-type]


def column(ws: Workspace, conversation_id: str, name: str) -> object:
    """A column the domain model does not carry (held_since, linked_id, callback_attempts...)."""
    return ws.db.execute(
        f"SELECT {name} FROM conversations WHERE id = ?", (local_id(conversation_id),)
    ).fetchone()[0]


def csat_requested(ws: Workspace, conversation_id: str) -> bool:
    return local_id(conversation_id) in {row_id for row_id, _ in ws.pending_csat_requests()}


def changed(result_conversation: Conversation | None) -> Conversation:
    assert result_conversation is not None
    return result_conversation


# ---------------------------------------------------------------------------------------------- phone


async def test_accepting_a_ringing_call_connects_it_to_the_agent(ws: Workspace, alice: LocalBackend) -> None:
    call = new(ws, Channel.PHONE)
    assert ws.require(call).state is State.RINGING
    before = time.time()
    conversation = changed((await alice.perform(Accept(conversation_id=call))).conversation)
    assert conversation.state is State.CONNECTED
    assert conversation.assignee == "alice"
    assert conversation.answered_at is not None and before <= conversation.answered_at <= time.time()
    assert ws.require(call) == conversation  # what the command returned is what the file holds
    assert [(m.direction, m.body) for m in ws.messages(call)] == [(Direction.SYSTEM, "call answered")]


async def test_hold_resume_and_mute_follow_the_call(ws: Workspace, alice: LocalBackend) -> None:
    call = new(ws, Channel.PHONE)
    await alice.perform(Accept(conversation_id=call))

    held = changed((await alice.perform(Hold(conversation_id=call))).conversation)
    assert held.state is State.ON_HOLD
    assert column(ws, call, "held_since") is not None
    with pytest.raises(Invalid):
        await alice.perform(Hold(conversation_id=call))

    muted = changed((await alice.perform(Mute(conversation_id=call, muted=True))).conversation)
    assert muted.muted and muted.state is State.ON_HOLD

    resumed = changed((await alice.perform(Resume(conversation_id=call))).conversation)
    assert resumed.state is State.CONNECTED
    assert column(ws, call, "held_since") is None
    with pytest.raises(Invalid):
        await alice.perform(Resume(conversation_id=call))

    unmuted = changed((await alice.perform(Mute(conversation_id=call, muted=False))).conversation)
    assert not unmuted.muted


async def test_hanging_up_goes_to_wrap_up_and_wrap_up_ends_the_call(
    ws: Workspace, alice: LocalBackend
) -> None:
    call = new(ws, Channel.PHONE)
    await alice.perform(Accept(conversation_id=call))
    await alice.perform(Mute(conversation_id=call))

    hung_up = changed((await alice.perform(HangUp(conversation_id=call))).conversation)
    assert hung_up.state is State.WRAP_UP
    assert not hung_up.muted  # a finished call is not left muted for the next one
    assert column(ws, call, "wrap_up_since") is not None
    assert not hung_up.is_closed and hung_up.closed_at is None
    with pytest.raises(Invalid):
        await alice.perform(HangUp(conversation_id=call))
    with pytest.raises(Invalid):
        await alice.perform(Hold(conversation_id=call))

    result = await alice.perform(WrapUp(conversation_id=call, disposition="refund", note="refund of 12 EUR"))
    ended = changed(result.conversation)
    assert ended.state is State.ENDED
    assert ended.closed_at is not None
    assert column(ws, call, "wrap_up_since") is None
    [record] = ws.wrapups()
    assert (record.conversation_id, record.agent_id, record.disposition, record.note) == (
        call,
        "alice",
        "refund",
        "refund of 12 EUR",
    )
    assert record.handle_seconds >= 0
    assert record.at == ended.closed_at
    assert csat_requested(ws, call)
    notes = [m.body for m in ws.messages(call) if m.direction is Direction.NOTE]
    assert notes == ["refund of 12 EUR"]
    # A closed call cannot be wrapped up twice: that would count the contact twice in the metrics.
    with pytest.raises(Invalid):
        await alice.perform(WrapUp(conversation_id=call, disposition="resolved"))
    assert len(ws.wrapups()) == 1


async def test_declining_a_ringing_call_puts_it_back_in_the_queue(ws: Workspace, alice: LocalBackend) -> None:
    call = new(ws, Channel.PHONE)
    ws.update_conversation(call, assignee="alice")  # offered to alice
    declined = changed((await alice.perform(HangUp(conversation_id=call))).conversation)
    assert declined.state is State.QUEUED
    assert declined.assignee is None


async def test_an_unanswered_call_cannot_be_wrapped_up(ws: Workspace, alice: LocalBackend) -> None:
    call = new(ws, Channel.PHONE)
    with pytest.raises(Invalid):
        await alice.perform(WrapUp(conversation_id=call, disposition="resolved"))
    assert ws.require(call).state is State.RINGING
    assert ws.wrapups() == []


# ---------------------------------------------------------------------------------------------- chat


async def test_chat_accept_reply_end_and_wrap_up(ws: Workspace, alice: LocalBackend) -> None:
    chat = new(ws, Channel.CHAT)
    ws.add_message(chat, direction=Direction.INBOUND, body="bonjour ?", author="customer")
    assert ws.require(chat).unread == 1

    accepted = changed((await alice.perform(Accept(conversation_id=chat))).conversation)
    assert accepted.state is State.ACTIVE
    assert accepted.assignee == "alice"
    assert accepted.answered_at is not None

    result = await alice.perform(Reply(conversation_id=chat, body="Bonjour Camille, je regarde."))
    assert result.message is not None
    assert result.message.direction is Direction.OUTBOUND
    assert result.message.author == "alice"
    assert result.message.email is None
    replied = changed(result.conversation)
    assert replied.state is State.ACTIVE
    assert replied.first_response_at == result.message.created_at
    assert replied.unread == 0

    ended = changed((await alice.perform(EndChat(conversation_id=chat))).conversation)
    assert ended.state is State.WRAP_UP
    assert ws.messages(chat)[-1].body == "chat ended"
    # Ending it again must not reopen anything or log a second end.
    with pytest.raises(Invalid):
        await alice.perform(EndChat(conversation_id=chat))

    done = changed((await alice.perform(WrapUp(conversation_id=chat, disposition="order-info"))).conversation)
    assert done.state is State.ENDED and done.closed_at is not None
    assert [r.disposition for r in ws.wrapups()] == ["order-info"]
    assert csat_requested(ws, chat)
    with pytest.raises(Invalid):
        await alice.perform(EndChat(conversation_id=chat))
    assert ws.require(chat).state is State.ENDED


async def test_replying_to_a_waiting_chat_answers_it(ws: Workspace, alice: LocalBackend) -> None:
    chat = new(ws, Channel.CHAT)
    result = await alice.perform(Reply(conversation_id=chat, body="Hello!"))
    conversation = changed(result.conversation)
    assert conversation.state is State.ACTIVE
    assert conversation.assignee == "alice"
    assert result.message is not None and conversation.answered_at == result.message.created_at


# ---------------------------------------------------------------------------------------------- email


def inbound_email(
    ws: Workspace, conversation: str, message_id: str, references: tuple[str, ...] = ()
) -> None:
    ws.add_message(
        conversation,
        direction=Direction.INBOUND,
        body=f"body of {message_id}",
        author=CUSTOMER.name,
        email=EmailHeaders(
            message_id=message_id,
            in_reply_to=references[-1] if references else "",
            references=references,
            from_addr="Camille <camille.m@example.org>",
            to=("support@shop.example",),
            subject="Where is order 1234?",
        ),
    )


async def test_email_reply_threads_on_the_last_inbound_email_and_waits_for_the_customer(
    ws: Workspace, alice: LocalBackend
) -> None:
    mail = new(ws, Channel.EMAIL)
    inbound_email(ws, mail, "<m1@example.org>")
    assert ws.require(mail).state is State.NEW

    result = await alice.perform(Reply(conversation_id=mail, body="It ships tomorrow."))
    conversation = changed(result.conversation)
    assert conversation.state is State.PENDING
    assert conversation.assignee == "alice"
    assert result.message is not None and result.message.email is not None
    headers = result.message.email
    assert headers.in_reply_to == "<m1@example.org>"
    assert headers.references == ("<m1@example.org>",)
    assert headers.to == ("Camille <camille.m@example.org>",)  # the address the customer wrote from
    assert headers.subject == "Re: Where is order 1234?"
    assert headers.message_id.startswith("<") and headers.message_id.endswith(">")
    assert headers.message_id != "<m1@example.org>"
    assert ws.message(result.message.id).email == headers  # stored as returned

    # The customer answers in the same thread; the next reply threads on that answer, not the first mail,
    # and keeps the whole chain (including our own reply's id, which the customer's client referenced).
    chain = ("<m1@example.org>", headers.message_id)
    inbound_email(ws, mail, "<m2@example.org>", references=chain)
    assert ws.require(mail).state is State.OPEN  # the customer's answer needs us again
    second = await alice.perform(
        Reply(conversation_id=mail, body="Tracking: 1Z999", cc=("boss@example.org",))
    )
    assert second.message is not None and second.message.email is not None
    assert second.message.email.in_reply_to == "<m2@example.org>"
    assert second.message.email.references == (*chain, "<m2@example.org>")
    assert second.message.email.cc == ("boss@example.org",)
    assert second.message.email.subject == "Re: Where is order 1234?"  # not "Re: Re: ..."
    assert changed(second.conversation).state is State.PENDING
    assert changed(second.conversation).first_response_at == result.message.created_at


async def test_email_reply_without_inbound_headers_goes_to_the_customer_address(
    ws: Workspace, alice: LocalBackend
) -> None:
    form = new(ws, Channel.FORM, subject="Contact form")
    ws.add_message(form, direction=Direction.INBOUND, body="I need an invoice", author=CUSTOMER.name)
    result = await alice.perform(Reply(conversation_id=form, body="Here it is."))
    assert result.message is not None and result.message.email is not None
    assert result.message.email.to == (CUSTOMER.email,)
    assert result.message.email.in_reply_to == ""
    assert changed(result.conversation).state is State.PENDING


async def test_forward_goes_to_the_given_recipient_not_into_the_thread(
    ws: Workspace, alice: LocalBackend
) -> None:
    mail = new(ws, Channel.EMAIL)
    inbound_email(ws, mail, "<m1@example.org>")
    with pytest.raises(Invalid):  # without a recipient it would go back to the customer
        await alice.perform(Reply(conversation_id=mail, body="FYI", forward=True))
    result = await alice.perform(
        Reply(conversation_id=mail, body="FYI", forward=True, to=("logistics@shop.example",))
    )
    assert result.message is not None and result.message.email is not None
    headers = result.message.email
    assert (headers.to, headers.in_reply_to, headers.references) == (("logistics@shop.example",), "", ())
    assert headers.subject == "Fwd: Where is order 1234?"
    # Forwarding is not answering: the customer is still waiting for us.
    assert changed(result.conversation).state is State.NEW


async def test_an_empty_reply_is_refused_and_leaves_nothing_behind(
    ws: Workspace, alice: LocalBackend
) -> None:
    mail = new(ws, Channel.EMAIL)
    with pytest.raises(Invalid):
        await alice.perform(Reply(conversation_id=mail, body="   "))
    # The reply would have claimed the conversation first: the whole command rolled back.
    assert ws.require(mail).assignee is None
    assert ws.messages(mail) == []
    result = await alice.perform(
        Reply(
            conversation_id=mail, body="", attachments=(Attachment("invoice.pdf", "application/pdf", 1200),)
        )
    )
    assert result.message is not None and result.message.attachments[0].filename == "invoice.pdf"


# ---------------------------------------------------------------------------------------------- fields


async def test_note_is_internal_and_changes_no_state(ws: Workspace, alice: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL)
    result = await alice.perform(Note(conversation_id=mail, body="customer is a VIP"))
    assert result.message is not None
    assert result.message.direction is Direction.NOTE
    assert result.message.author == "alice"
    conversation = changed(result.conversation)
    assert conversation.state is State.NEW
    assert conversation.first_response_at is None  # a note is not an answer to the customer
    with pytest.raises(Invalid):
        await alice.perform(Note(conversation_id=mail, body="\n"))
    assert len(ws.messages(mail)) == 1


async def test_tags_are_normalised_added_and_removed(ws: Workspace, alice: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL, tags=("order",))
    tagged = changed(
        (await alice.perform(Tags(conversation_id=mail, add=("VIP", " refund ", "vip")))).conversation
    )
    assert tagged.tags == ("order", "refund", "vip")
    untagged = changed(
        (await alice.perform(Tags(conversation_id=mail, remove=("VIP", "order")))).conversation
    )
    assert untagged.tags == ("refund",)
    assert ws.require(mail).tags == ("refund",)


async def test_priority_and_snooze(ws: Workspace, alice: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL)
    urgent = changed(
        (await alice.perform(SetPriority(conversation_id=mail, priority=Priority.URGENT))).conversation
    )
    assert urgent.priority is Priority.URGENT
    until = time.time() + 3600
    snoozed = changed((await alice.perform(Snooze(conversation_id=mail, until=until))).conversation)
    assert snoozed.snoozed_until == until
    woken = changed((await alice.perform(Snooze(conversation_id=mail, until=None))).conversation)
    assert woken.snoozed_until is None
    assert ws.require(mail).version == woken.version == 3


async def test_status_changes_respect_the_channel(ws: Workspace, alice: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL)
    solved = changed((await alice.perform(SetStatus(conversation_id=mail, state=State.SOLVED))).conversation)
    assert solved.closed_at is not None
    assert csat_requested(ws, mail)
    reopened = changed((await alice.perform(SetStatus(conversation_id=mail, state=State.OPEN))).conversation)
    assert reopened.closed_at is None and reopened.state is State.OPEN
    with pytest.raises(Invalid):
        await alice.perform(SetStatus(conversation_id=mail, state=State.CONNECTED))


async def test_claim_opens_a_new_email_and_release_gives_it_back(ws: Workspace, alice: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL)
    claimed = changed((await alice.perform(Claim(conversation_id=mail))).conversation)
    assert (claimed.assignee, claimed.state) == ("alice", State.OPEN)
    released = changed((await alice.perform(Release(conversation_id=mail))).conversation)
    assert released.assignee is None
    assigned = changed((await alice.perform(Assign(conversation_id=mail, assignee="bob"))).conversation)
    assert assigned.assignee == "bob"


# ---------------------------------------------------------------------------------------------- transfer


async def test_cold_transfer_of_a_call_to_an_agent_rings_for_them(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend
) -> None:
    call = new(ws, Channel.PHONE)
    await alice.perform(Accept(conversation_id=call))
    moved = changed((await alice.perform(Transfer(conversation_id=call, to_agent="bob"))).conversation)
    assert (moved.assignee, moved.state) == ("bob", State.RINGING)
    assert ws.messages(call)[-1].body == "cold transfer by alice to bob"
    # Bob answers it: the call keeps its first answer time (the customer's wait ended then).
    answered_at = moved.answered_at
    accepted = changed((await bob.perform(Accept(conversation_id=call))).conversation)
    assert (accepted.assignee, accepted.state, accepted.answered_at) == ("bob", State.CONNECTED, answered_at)


async def test_warm_transfer_keeps_the_call_connected(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend
) -> None:
    call = new(ws, Channel.PHONE)
    await alice.perform(Accept(conversation_id=call))
    moved = changed(
        (await alice.perform(Transfer(conversation_id=call, to_agent="bob", warm=True))).conversation
    )
    assert (moved.assignee, moved.state) == ("bob", State.CONNECTED)


async def test_transfer_of_a_chat_to_a_queue_makes_it_wait_there(ws: Workspace, alice: LocalBackend) -> None:
    chat = new(ws, Channel.CHAT)
    await alice.perform(Accept(conversation_id=chat))
    moved = changed((await alice.perform(Transfer(conversation_id=chat, to_queue="billing"))).conversation)
    assert (moved.assignee, moved.queue, moved.state) == (None, "billing", State.WAITING)
    assert ws.messages(chat)[-1].body == "cold transfer by alice to queue billing"


async def test_transfer_needs_a_known_target(ws: Workspace, alice: LocalBackend) -> None:
    chat = new(ws, Channel.CHAT)
    with pytest.raises(NotFound):
        await alice.perform(Transfer(conversation_id=chat, to_agent="nobody"))
    with pytest.raises(Invalid):
        await alice.perform(Transfer(conversation_id=chat))
    assert ws.messages(chat) == []


async def test_a_closed_conversation_is_not_transferred(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend
) -> None:
    call = new(ws, Channel.PHONE)
    await alice.perform(Accept(conversation_id=call))
    await alice.perform(HangUp(conversation_id=call))
    ended = changed((await alice.perform(WrapUp(conversation_id=call, disposition="resolved"))).conversation)
    with pytest.raises(Invalid):
        await alice.perform(Transfer(conversation_id=call, to_agent="bob"))
    assert ws.require(call) == ended


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


def _example(kind: CommandKind, conversation_id: str, other_id: str) -> Command:
    """One well-formed command of each kind (the values matter less than that each kind is tried)."""
    at = time.time() + 60
    examples: dict[CommandKind, Command] = {
        CommandKind.REPLY: Reply(conversation_id=conversation_id, body="hi"),
        CommandKind.NOTE: Note(conversation_id=conversation_id, body="n"),
        CommandKind.CLAIM: Claim(conversation_id=conversation_id),
        CommandKind.ASSIGN: Assign(conversation_id=conversation_id, assignee="alice"),
        CommandKind.RELEASE: Release(conversation_id=conversation_id),
        CommandKind.TRANSFER: Transfer(conversation_id=conversation_id, to_queue="billing"),
        CommandKind.ACCEPT: Accept(conversation_id=conversation_id),
        CommandKind.HOLD: Hold(conversation_id=conversation_id),
        CommandKind.RESUME: Resume(conversation_id=conversation_id),
        CommandKind.MUTE: Mute(conversation_id=conversation_id),
        CommandKind.HANG_UP: HangUp(conversation_id=conversation_id),
        CommandKind.END_CHAT: EndChat(conversation_id=conversation_id),
        CommandKind.WRAP_UP: WrapUp(conversation_id=conversation_id, disposition="resolved"),
        CommandKind.SET_STATUS: SetStatus(conversation_id=conversation_id, state=State.OPEN),
        CommandKind.SET_PRIORITY: SetPriority(conversation_id=conversation_id, priority=Priority.HIGH),
        CommandKind.TAGS: Tags(conversation_id=conversation_id, add=("x",)),
        CommandKind.SNOOZE: Snooze(conversation_id=conversation_id, until=at),
        CommandKind.PRESENCE: SetPresence(presence=Presence.BUSY),
        CommandKind.SET_SKILLS: SetSkills(skills=Skills()),
        CommandKind.SCHEDULE_CALLBACK: ScheduleCallback(conversation_id=conversation_id, at=at),
        CommandKind.PLACE_CALLBACK: PlaceCallback(conversation_id=conversation_id),
        CommandKind.CALLBACK_OUTCOME: CallbackOutcome(conversation_id=conversation_id, reached=True),
        CommandKind.CSAT: RecordCsat(conversation_id=conversation_id, score=5),
        CommandKind.REQUEST_CSAT: RequestCsat(conversation_id=conversation_id),
        CommandKind.TYPING: Typing(conversation_id=conversation_id),
        CommandKind.VIEWING: Viewing(conversation_id=conversation_id),
        CommandKind.MERGE: Merge(conversation_id=conversation_id, other_id=other_id),
    }
    return examples[kind]


@pytest.mark.parametrize("channel", list(Channel))
async def test_no_advertised_command_is_unsupported(
    ws: Workspace, alice: LocalBackend, channel: Channel
) -> None:
    kinds = alice.capabilities.commands
    assert kinds == frozenset(CommandKind)  # the local workspace does everything natively
    assert alice.capabilities.channels == frozenset(Channel)
    for kind in sorted(kinds):
        conversation, other = new(ws, channel), new(ws, channel)
        command = _example(kind, conversation, other)
        assert command.kind is kind
        try:
            await alice.perform(command)
        except Unsupported:
            pytest.fail(f"{kind.value} is advertised but unsupported on {channel.value}")
        except BackendError:
            pass  # refused for this channel or state: a typed answer, which is what is asked
