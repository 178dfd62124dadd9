"""What each command does on a real workspace file, through `LocalBackend.perform`.

Two consoles (alice and bob) open the same file, as two agents on one machine would; a plain `Workspace`
on that file seeds conversations and reads back what the commands wrote (rows, records, side effects).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from local_commands_kit import (
    CUSTOMER,
    changed,
    column,
    csat_requested,
    inbound_email,
    new,
)
from standardiste.backends.base import (
    Accept,
    Assign,
    Claim,
    EndChat,
    HangUp,
    Hold,
    Invalid,
    Mute,
    Note,
    NotFound,
    Release,
    Reply,
    Resume,
    SetPriority,
    SetStatus,
    Snooze,
    Tags,
    Transfer,
    WrapUp,
)
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.model import (
    Attachment,
    Channel,
    Direction,
    Priority,
    State,
)

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


async def test_warm_transfer_rings_for_the_new_agent_and_releases_the_first(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend
) -> None:
    call = new(ws, Channel.PHONE)
    await alice.perform(Accept(conversation_id=call))
    await alice.perform(Mute(conversation_id=call, muted=True))
    moved = changed(
        (await alice.perform(Transfer(conversation_id=call, to_agent="bob", warm=True))).conversation
    )
    # Not "connected" to bob who never answered it: it rings for him, and alice's mute does not follow.
    assert (moved.assignee, moved.state, moved.muted) == ("bob", State.RINGING, False)


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


@pytest.fixture
def workspace_path(workspace_target: Any) -> Any:
    """Every test here runs on the file and on PostgreSQL (conftest's `workspace_target`)."""
    return workspace_target
