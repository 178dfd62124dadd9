"""What each console command means on the local workspace: state transitions, records, side effects.

Each command runs in one write transaction together with its idempotency key, so a command retried by the
outbox after a crash is applied once: the second time it returns what the first time did.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ...console.core.model import (
    CLOSED_STATES,
    Channel,
    Conversation,
    CsatRecord,
    Customer,
    Direction,
    EmailHeaders,
    State,
    WrapUpRecord,
    state_allowed,
)
from ..base import (
    Accept,
    Assign,
    CallbackOutcome,
    Claim,
    Command,
    CommandResult,
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
from . import sent_files
from .rows import local_id
from .workspace import OwnedByOther, Workspace

# A callback that nobody answers is tried again this many times, this long apart.
CALLBACK_MAX_ATTEMPTS = 3
CALLBACK_RETRY_SECONDS = 15 * 60.0
LIVE_CLOSED = {Channel.PHONE: State.ENDED, Channel.CHAT: State.ENDED}


def perform(ws: Workspace, command: Command) -> CommandResult:
    """Apply `command` once. Raises typed backend errors."""
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise Unsupported(f"the local workspace has no {command.kind.value} command")
    for ref in (command.conversation_id, getattr(command, "other_id", "")):
        # An id of another backend, or garbage, names nothing here (and must not escape as ValueError).
        try:
            if ref:
                local_id(ref)
        except ValueError:
            raise NotFound(f"no conversation {ref} in the local workspace") from None
    if isinstance(command, Accept):
        _refuse_if_taken(ws, command)
    try:
        with ws.transaction():
            if command.key:
                done = ws.command_result(command.key)
                if done is not None:
                    return _replayed(ws, done)
            result = handler(ws, command)
            if command.key:
                ws.remember_command(command.key, _result_summary(result))
            return result
    except OwnedByOther as error:
        raise Conflict(str(error), owner=error.owner) from None
    except KeyError as error:
        raise NotFound(str(error.args[0] if error.args else error)) from None


def _refuse_if_taken(ws: Workspace, command: Accept) -> None:
    """A call another agent answered is refused before the writers' lock: of twenty consoles racing for one
    call, nineteen need not queue for the lock to hear that it is gone (on PostgreSQL each turn of the lock
    is a round trip). As true as the answer under the lock: only the owner or a supervisor changes an owner,
    never an Accept. A key already applied is replayed under the lock as usual."""
    if command.key and ws.command_result(command.key) is not None:
        return
    try:
        current = ws.conversation(command.conversation_id)
    except ValueError:
        return
    if current is not None and current.assignee not in (None, command.agent_id):
        raise Conflict(f"conversation {current.id} is owned by {current.assignee}", owner=current.assignee)


def _result_summary(result: CommandResult) -> str:
    return json.dumps(
        {
            "conversation": result.conversation.id if result.conversation else None,
            "message": result.message.id if result.message else None,
            "detail": result.detail,
        }
    )


def _replayed(ws: Workspace, summary: str) -> CommandResult:
    data = json.loads(summary)
    conversation = ws.conversation(data["conversation"]) if data["conversation"] else None
    message = ws.message(data["message"]) if data["message"] else None
    return CommandResult(True, conversation, message, data.get("detail", "") or "already done")


def _current(ws: Workspace, command: Command) -> Conversation:
    if not command.conversation_id:
        raise Invalid(f"{command.kind.value} needs a conversation")
    return ws.require(command.conversation_id)


def _ensure_owner(ws: Workspace, conversation: Conversation, agent_id: str) -> Conversation:
    """Working on an unowned conversation takes it; on someone else's, it is a conflict."""
    if not agent_id or conversation.assignee == agent_id:
        return conversation
    return ws.claim(conversation.id, agent_id)


def _ensure_not_others(conversation: Conversation, agent_id: str) -> None:
    """Acting on a live contact someone else handles (their caller, their chat) is a conflict."""
    if agent_id and conversation.assignee not in (None, agent_id):
        raise Conflict(f"{conversation.id} belongs to {conversation.assignee}", owner=conversation.assignee)


def _reply(ws: Workspace, command: Reply) -> CommandResult:
    conversation = _ensure_owner(ws, _current(ws, command), command.agent_id)
    if not command.body.strip() and not command.attachments:
        raise Invalid("an empty reply is not sent")
    if command.forward and not command.to:
        raise Invalid("a forward needs a recipient")  # else it would go back to the customer
    email = None
    if conversation.channel in (Channel.EMAIL, Channel.FORM, Channel.SOCIAL):
        email = _reply_headers(ws, conversation, command)
    # The files attached on this machine are kept with the reply: any console of the workspace can save them.
    raw = sent_files.pack(command.body, command.attachments)
    message = ws.add_message(
        conversation.id,
        direction=Direction.OUTBOUND,
        body=command.body,
        author=command.agent_id,
        attachments=command.attachments,
        email=email,
        raw=raw,
    )
    if raw is not None:
        message = sent_files.name_parts(ws, message, command.attachments)
    changes: dict[str, object] = {}
    if conversation.state in (State.NEW, State.OPEN) and not command.forward:
        changes["state"] = State.PENDING  # waiting for the customer now
    elif conversation.state is State.WAITING:
        changes.update(state=State.ACTIVE, answered_at=message.created_at)
    if changes:
        conversation = ws.update_conversation(conversation.id, **changes)
    else:
        conversation = ws.require(conversation.id)
    return CommandResult(True, conversation, message)


def _reply_headers(ws: Workspace, conversation: Conversation, command: Reply) -> EmailHeaders:
    """Threading headers from the last inbound email, so the customer's client threads the reply."""
    last = next(
        (m for m in reversed(ws.messages(conversation.id)) if m.email and m.direction is Direction.INBOUND),
        None,
    )
    customer = ws.customer(conversation.customer_id)
    to = command.to or ((last.email.from_addr,) if last and last.email else ())
    if not to and customer and customer.email:
        to = (customer.email,)
    subject = command.subject or conversation.subject
    if last and last.email:
        references = (*last.email.references, last.email.message_id) if last.email.message_id else ()
        prefix = "Fwd: " if command.forward else "Re: "
        if not subject.lower().startswith(("re:", "fwd:")):
            subject = prefix + subject
        return EmailHeaders(
            message_id=f"<{conversation.id.replace(':', '-')}-{ws.now():.6f}@standardiste.local>",
            in_reply_to="" if command.forward else last.email.message_id,
            references=() if command.forward else tuple(r for r in references if r),
            from_addr="support@standardiste.local",
            to=tuple(to),
            cc=command.cc,
            bcc=command.bcc,
            subject=subject,
        )
    return EmailHeaders(
        from_addr="support@standardiste.local", to=tuple(to), cc=command.cc, bcc=command.bcc, subject=subject
    )


def _note(ws: Workspace, command: Note) -> CommandResult:
    conversation = _current(ws, command)
    if not command.body.strip():
        raise Invalid("an empty note is not saved")
    message = ws.add_message(
        conversation.id, direction=Direction.NOTE, body=command.body, author=command.agent_id
    )
    return CommandResult(True, ws.require(conversation.id), message)


def _claim(ws: Workspace, command: Claim) -> CommandResult:
    conversation = ws.claim(command.conversation_id, command.agent_id, force=command.force)
    if conversation.state is State.NEW:
        conversation = ws.update_conversation(conversation.id, state=State.OPEN)
    return CommandResult(True, conversation)


def _assign(ws: Workspace, command: Assign) -> CommandResult:
    _current(ws, command)
    return CommandResult(True, ws.update_conversation(command.conversation_id, assignee=command.assignee))


def _release(ws: Workspace, command: Release) -> CommandResult:
    conversation = _current(ws, command)
    if conversation.assignee not in (None, command.agent_id):
        raise Conflict(f"{conversation.id} belongs to {conversation.assignee}", owner=conversation.assignee)
    return CommandResult(True, ws.update_conversation(conversation.id, assignee=None))


def _transfer(ws: Workspace, command: Transfer) -> CommandResult:
    conversation = _current(ws, command)
    if not command.to_agent and not command.to_queue:
        raise Invalid("a transfer needs an agent or a queue")
    if conversation.is_closed:
        # A cold transfer would set an ended call ringing again, with its closed_at still set.
        raise Invalid(f"{conversation.id} is closed ({conversation.state.value}): nothing to transfer")
    if command.to_agent and ws.agent(command.to_agent) is None:
        raise NotFound(f"no agent {command.to_agent}")
    target = command.to_agent or f"queue {command.to_queue}"
    how = "warm" if command.warm else "cold"
    ws.add_message(
        conversation.id,
        direction=Direction.SYSTEM,
        body=f"{how} transfer by {command.agent_id or 'system'} to {target}",
        author=command.agent_id,
    )
    changes: dict[str, object] = {"assignee": command.to_agent}
    if command.to_queue:
        changes["queue"] = command.to_queue
    if conversation.channel is Channel.PHONE:
        # A transferred call rings again for its new owner (or waits in the new queue): the agent who
        # handed it over is released from it. The local workspace has no consult leg, so a warm transfer
        # (announced) rings too: its new owner answers it, their talk starts then.
        changes.update(state=State.RINGING if command.to_agent else State.QUEUED, muted=0, held_since=None)
    elif conversation.channel is Channel.CHAT and not command.to_agent:
        changes["state"] = State.WAITING
    return CommandResult(True, ws.update_conversation(conversation.id, **changes))


def _accept(ws: Workspace, command: Accept) -> CommandResult:
    conversation = _current(ws, command)
    if conversation.state in CLOSED_STATES:
        raise Conflict(f"{conversation.id} has already ended ({conversation.state.value})")
    conversation = ws.claim(conversation.id, command.agent_id)
    now = ws.now()
    if conversation.channel is Channel.PHONE and conversation.state in (State.RINGING, State.QUEUED):
        conversation = ws.update_conversation(
            conversation.id, state=State.CONNECTED, answered_at=conversation.answered_at or now
        )
        ws.add_message(
            conversation.id, direction=Direction.SYSTEM, body="call answered", author=command.agent_id
        )
    elif conversation.channel is Channel.CHAT and conversation.state is State.WAITING:
        conversation = ws.update_conversation(
            conversation.id, state=State.ACTIVE, answered_at=conversation.answered_at or now
        )
    elif conversation.state is State.NEW:
        conversation = ws.update_conversation(conversation.id, state=State.OPEN)
    return CommandResult(True, conversation)


def _phone(ws: Workspace, command: Command, allowed: set[State]) -> Conversation:
    conversation = _current(ws, command)
    if conversation.channel is not Channel.PHONE:
        raise Invalid(f"{command.kind.value} is for calls, not {conversation.channel.value}")
    if conversation.state not in allowed:
        raise Invalid(
            f"cannot {command.kind.value.replace('_', ' ')} a call that is {conversation.state.value}"
        )
    _ensure_not_others(conversation, command.agent_id)
    return conversation


def _hold(ws: Workspace, command: Hold) -> CommandResult:
    conversation = _phone(ws, command, {State.CONNECTED})
    return CommandResult(
        True, ws.update_conversation(conversation.id, state=State.ON_HOLD, held_since=ws.now())
    )


def _resume(ws: Workspace, command: Resume) -> CommandResult:
    conversation = _phone(ws, command, {State.ON_HOLD})
    return CommandResult(
        True, ws.update_conversation(conversation.id, state=State.CONNECTED, held_since=None)
    )


def _mute(ws: Workspace, command: Mute) -> CommandResult:
    conversation = _phone(ws, command, {State.CONNECTED, State.ON_HOLD})
    return CommandResult(True, ws.update_conversation(conversation.id, muted=int(command.muted)))


def _hang_up(ws: Workspace, command: HangUp) -> CommandResult:
    conversation = _phone(ws, command, {State.CONNECTED, State.ON_HOLD, State.RINGING, State.QUEUED})
    if conversation.state in (State.RINGING, State.QUEUED):
        # Declining a ringing call gives it back to the queue for someone else.
        return CommandResult(True, ws.update_conversation(conversation.id, assignee=None, state=State.QUEUED))
    ws.add_message(conversation.id, direction=Direction.SYSTEM, body="call ended", author=command.agent_id)
    return CommandResult(
        True,
        ws.update_conversation(
            conversation.id, state=State.WRAP_UP, wrap_up_since=ws.now(), muted=0, held_since=None
        ),
    )


def _end_chat(ws: Workspace, command: EndChat) -> CommandResult:
    conversation = _current(ws, command)
    if conversation.channel is not Channel.CHAT:
        raise Invalid("only a chat can be ended this way")
    if conversation.state in CLOSED_STATES or conversation.state is State.WRAP_UP:
        raise Invalid(f"this chat has already ended ({conversation.state.value})")
    _ensure_not_others(conversation, command.agent_id)
    ws.add_message(conversation.id, direction=Direction.SYSTEM, body="chat ended", author=command.agent_id)
    return CommandResult(
        True, ws.update_conversation(conversation.id, state=State.WRAP_UP, wrap_up_since=ws.now())
    )


def _wrap_up(ws: Workspace, command: WrapUp) -> CommandResult:
    conversation = _current(ws, command)
    # A second wrap-up would count the contact twice and reopen nothing; an unanswered call has no handling.
    if conversation.is_closed:
        raise Invalid(f"{conversation.id} is already closed ({conversation.state.value})")
    if conversation.channel in LIVE_CLOSED and conversation.state in (
        State.RINGING,
        State.QUEUED,
        State.WAITING,
    ):
        raise Invalid(f"nothing to wrap up: {conversation.id} was never answered")
    _ensure_not_others(conversation, command.agent_id)
    now = ws.now()
    started = conversation.answered_at or conversation.created_at
    ws.record_wrapup(
        WrapUpRecord(conversation.id, command.agent_id, command.disposition, command.note, now, now - started)
    )
    if command.note.strip():
        ws.add_message(conversation.id, direction=Direction.NOTE, body=command.note, author=command.agent_id)
    if conversation.channel in LIVE_CLOSED:
        closed = LIVE_CLOSED[conversation.channel]
    elif conversation.channel is Channel.CALLBACK:
        closed = State.DONE
    else:
        closed = State.SOLVED
    conversation = ws.update_conversation(conversation.id, state=closed, closed_at=now, wrap_up_since=None)
    ws.request_csat(conversation.id)
    return CommandResult(True, conversation, detail=f"wrapped up: {command.disposition}")


def _set_status(ws: Workspace, command: SetStatus) -> CommandResult:
    conversation = _current(ws, command)
    if not state_allowed(conversation.channel, command.state):
        raise Invalid(f"{conversation.channel.value} cannot be {command.state.value}")
    changes: dict[str, object] = {"state": command.state}
    if command.state in CLOSED_STATES:
        changes["closed_at"] = ws.now()
    elif conversation.is_closed:
        changes["closed_at"] = None
    conversation = ws.update_conversation(conversation.id, **changes)
    if command.state in CLOSED_STATES:
        ws.request_csat(conversation.id)
    return CommandResult(True, conversation)


def _set_priority(ws: Workspace, command: SetPriority) -> CommandResult:
    _current(ws, command)
    return CommandResult(True, ws.update_conversation(command.conversation_id, priority=command.priority))


def _tags(ws: Workspace, command: Tags) -> CommandResult:
    conversation = _current(ws, command)
    removed = {t.strip().lower() for t in command.remove}
    tags = [t for t in conversation.tags if t not in removed] + [t.strip().lower() for t in command.add]
    return CommandResult(True, ws.update_conversation(conversation.id, tags=tags))


def _snooze(ws: Workspace, command: Snooze) -> CommandResult:
    _current(ws, command)
    return CommandResult(True, ws.update_conversation(command.conversation_id, snoozed_until=command.until))


def _presence(ws: Workspace, command: SetPresence) -> CommandResult:
    if not command.agent_id:
        raise Invalid("presence needs an agent")
    ws.set_presence(command.agent_id, command.presence, command.reason)
    return CommandResult(True, detail=f"{command.agent_id} is {command.presence.value}")


def _set_skills(ws: Workspace, command: SetSkills) -> CommandResult:
    ws.set_skills(command.agent_id, command.skills, command.capacity or None)
    return CommandResult(True, detail=f"skills of {command.agent_id} changed")


def _schedule_callback(ws: Workspace, command: ScheduleCallback) -> CommandResult:
    conversation = _current(ws, command)
    if conversation.channel is not Channel.CALLBACK:
        raise Invalid("only a callback request can be scheduled")
    return CommandResult(
        True, ws.update_conversation(conversation.id, state=State.SCHEDULED, callback_at=command.at)
    )


def _place_callback(ws: Workspace, command: PlaceCallback) -> CommandResult:
    request = _current(ws, command)
    if request.channel is not Channel.CALLBACK or request.is_closed:
        raise Invalid("only an open callback request can be dialled")
    if request.state is State.DIALLING:
        raise Invalid("this callback is being dialled: give the outcome of that call first")
    request = _ensure_owner(ws, request, command.agent_id)
    customer = ws.customer(request.customer_id) or Customer(request.customer_id, request.customer_name)
    now = ws.now()
    call_id = ws.create_conversation(
        channel=Channel.PHONE,
        customer=customer,
        subject=f"Callback: {request.subject}",
        state=State.CONNECTED,
        queue=request.queue,
        priority=request.priority,
        tags=(*request.tags, "callback"),
        language=request.language,
        created_at=now,
    )
    ws.update_conversation(call_id, assignee=command.agent_id, answered_at=now)
    ws.db.execute(
        "UPDATE conversations SET linked_id = ?, callback_attempts = callback_attempts + 1 WHERE id = ?",
        (call_id, local_id(request.id)),
    )
    ws.add_message(
        call_id,
        direction=Direction.SYSTEM,
        body=f"dialling {request.callback_number}",
        author=command.agent_id,
    )
    request = ws.update_conversation(request.id, state=State.DIALLING, answered_at=request.answered_at or now)
    return CommandResult(True, ws.require(call_id), detail=f"dialling {request.callback_number}")


def _callback_outcome(ws: Workspace, command: CallbackOutcome) -> CommandResult:
    request = _current(ws, command)
    if request.channel is not Channel.CALLBACK:
        raise Invalid("only a callback has an outcome")
    if request.state is not State.DIALLING:
        raise Invalid(f"no callback is being dialled for {request.id} ({request.state.value})")
    attempts, call_row = ws.db.execute(
        "SELECT callback_attempts, linked_id FROM conversations WHERE id = ?", (local_id(request.id),)
    ).fetchone()
    note = command.note or ("reached" if command.reached else "no answer")
    ws.add_message(
        request.id,
        direction=Direction.SYSTEM,
        body=f"callback attempt {attempts}: {note}",
        author=command.agent_id,
    )
    now = ws.now()
    if not command.reached and call_row is not None:
        _end_unanswered_call(ws, call_row, command.agent_id, now)
    if command.reached:
        request = ws.update_conversation(request.id, state=State.DONE, closed_at=now)
        ws.request_csat(request.id)
    elif attempts < CALLBACK_MAX_ATTEMPTS:
        retry_at = command.retry_at or now + CALLBACK_RETRY_SECONDS
        request = ws.update_conversation(
            request.id, state=State.SCHEDULED, callback_at=retry_at, assignee=None
        )
    else:
        tags = (*request.tags, "unreached")
        request = ws.update_conversation(request.id, state=State.DONE, closed_at=now, tags=tags)
    return CommandResult(True, request)


def _end_unanswered_call(ws: Workspace, call_row: int, agent_id: str, now: float) -> None:
    """The call placed for a callback nobody answered: ended, so it no longer holds the agent (a
    connected call counts against their phone capacity and blocks the next one)."""
    call = ws.conversation(call_row)
    if call is None or call.state not in (State.CONNECTED, State.ON_HOLD, State.WRAP_UP):
        return
    ws.add_message(call.id, direction=Direction.SYSTEM, body="no answer: call ended", author=agent_id)
    ws.update_conversation(
        call.id, state=State.ENDED, closed_at=now, muted=0, held_since=None, wrap_up_since=None
    )


def _record_csat(ws: Workspace, command: RecordCsat) -> CommandResult:
    conversation = _current(ws, command)
    if not 1 <= command.score <= 5:
        raise Invalid("a CSAT score is from 1 to 5")
    ws.record_csat(
        CsatRecord(
            conversation.id,
            conversation.channel,
            command.score,
            command.comment,
            ws.now(),
            conversation.assignee,
            conversation.customer_id,
        )
    )
    ws.add_message(
        conversation.id,
        direction=Direction.SYSTEM,
        body=f"CSAT {command.score}/5" + (f": {command.comment}" if command.comment else ""),
        author="customer",
    )
    return CommandResult(True, ws.require(conversation.id))


def _request_csat(ws: Workspace, command: RequestCsat) -> CommandResult:
    ws.request_csat(_current(ws, command).id)
    return CommandResult(True, detail="survey sent")


def _typing(ws: Workspace, command: Typing) -> CommandResult:
    _current(ws, command)  # a mark on a conversation that does not exist would linger in the file
    ws.set_typing(command.conversation_id, command.agent_id, command.typing)
    ws.set_agent_activity(command.agent_id, typing_in=command.conversation_id if command.typing else None)
    return CommandResult(True)


def _viewing(ws: Workspace, command: Viewing) -> CommandResult:
    if command.conversation_id:  # none is "viewing nothing"
        _current(ws, command)
    ws.set_agent_activity(command.agent_id, viewing=command.conversation_id or None)
    return CommandResult(True)


def _merge(ws: Workspace, command: Merge) -> CommandResult:
    target = _current(ws, command)
    other = ws.require(command.other_id)
    if other.customer_id != target.customer_id:
        raise Invalid("only conversations of the same customer can be merged")
    if other.id == target.id:
        raise Invalid("a conversation cannot be merged into itself")
    ws.db.execute(
        "UPDATE messages SET conversation_id = ? WHERE conversation_id = ?",
        (local_id(target.id), local_id(other.id)),
    )
    ws.add_message(
        target.id,
        direction=Direction.SYSTEM,
        body=f"merged {other.id} ({other.channel.value})",
        author=command.agent_id,
    )
    closed = (
        State.SOLVED
        if state_allowed(other.channel, State.SOLVED)
        else (State.DONE if other.channel is Channel.CALLBACK else State.ENDED)
    )
    ws.update_conversation(other.id, state=closed, closed_at=ws.now(), tags=(*other.tags, "merged"))
    ws.db.execute(
        "UPDATE conversations SET linked_id = ? WHERE id = ?", (local_id(target.id), local_id(other.id))
    )
    return CommandResult(True, ws.require(target.id))


_HANDLERS: dict[type[Command], Callable[[Workspace, Command], CommandResult]] = {
    Reply: _reply,
    Note: _note,
    Claim: _claim,
    Assign: _assign,
    Release: _release,
    Transfer: _transfer,
    Accept: _accept,
    Hold: _hold,
    Resume: _resume,
    Mute: _mute,
    HangUp: _hang_up,
    EndChat: _end_chat,
    WrapUp: _wrap_up,
    SetStatus: _set_status,
    SetPriority: _set_priority,
    Tags: _tags,
    Snooze: _snooze,
    SetPresence: _presence,
    SetSkills: _set_skills,
    ScheduleCallback: _schedule_callback,
    PlaceCallback: _place_callback,
    CallbackOutcome: _callback_outcome,
    RecordCsat: _record_csat,
    RequestCsat: _request_csat,
    Typing: _typing,
    Viewing: _viewing,
    Merge: _merge,
}

SUPPORTED = frozenset(cls.kind for cls in _HANDLERS)
