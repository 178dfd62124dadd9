"""What closing a conversation sends, decided once for `x`, for `x` on marked rows, and for a macro that closes.

Closing depends on the channel and where the contact stands: a call is hung up and a chat ended, then both are
wrapped up with a disposition (asked for, unless a macro names one); a contact already in wrap-up only needs the
disposition; an email, form or social thread is solved and a callback done, both undoable; a callback being
dialled needs its outcome; one not answered yet, or already closed, is left as it is, and the agent is told why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ...backends.base import Command, EndChat, HangUp, SetStatus, WrapUp
from .model import CLOSED_STATES, EMAIL_LIKE, WAITING_STATES, Channel, Conversation, State

# Where a contact stands while someone works on it: what a macro's closing assumes when it is not told.
WORKING_STATE: dict[Channel, State] = {
    Channel.PHONE: State.CONNECTED,
    Channel.CHAT: State.ACTIVE,
    Channel.EMAIL: State.OPEN,
    Channel.FORM: State.OPEN,
    Channel.SOCIAL: State.OPEN,
    Channel.CALLBACK: State.SCHEDULED,
}


class Ask(StrEnum):
    """What the agent must still answer before the contact is closed."""

    NOTHING = "nothing"
    DISPOSITION = "disposition"  # the wrap-up code of a call or chat
    CALLBACK_OUTCOME = "callback_outcome"  # reached the customer, or retry later


@dataclass(frozen=True, slots=True)
class ClosePlan:
    commands: tuple[Command, ...] = ()
    ask: Ask = Ask.NOTHING
    undoable: bool = False  # solving a written thread can be taken back within the undo window
    refusal: str = ""  # why nothing is done (not answered yet, already closed)

    @property
    def without_questions(self) -> bool:
        """Carried out by its commands alone: what closing many marked rows at once can do."""
        return bool(self.commands) and self.ask is Ask.NOTHING


def closing_commands(
    conversation_id: str, channel: Channel, state: State, disposition: str = ""
) -> ClosePlan:
    """The plan for closing one conversation; `disposition` (a macro's) wraps a live contact up at once."""
    if state in CLOSED_STATES:
        return ClosePlan(refusal="Already closed.")
    if state in WAITING_STATES and channel.is_live:
        declines = ", H declines it" if channel is Channel.PHONE else "."
        return ClosePlan(refusal="Not answered yet: a accepts it, t transfers it" + declines)
    wrap: tuple[Command, ...] = (
        (WrapUp(conversation_id=conversation_id, disposition=disposition),) if disposition else ()
    )
    ask = Ask.NOTHING if disposition else Ask.DISPOSITION
    if channel is Channel.PHONE and state in (State.CONNECTED, State.ON_HOLD):
        return ClosePlan((HangUp(conversation_id=conversation_id), *wrap), ask)
    if channel is Channel.CHAT and state is State.ACTIVE:
        return ClosePlan((EndChat(conversation_id=conversation_id), *wrap), ask)
    if state is State.WRAP_UP or channel.is_live:
        return ClosePlan(wrap, ask)
    if channel is Channel.CALLBACK and state is State.DIALLING:
        return ClosePlan(ask=Ask.CALLBACK_OUTCOME)
    final = State.SOLVED if channel in EMAIL_LIKE else State.DONE
    return ClosePlan((SetStatus(conversation_id=conversation_id, state=final),), undoable=True)


def plan_for(conversation: Conversation, disposition: str = "") -> ClosePlan:
    return closing_commands(conversation.id, conversation.channel, conversation.state, disposition)


@dataclass(frozen=True, slots=True)
class BulkClose:
    """Closing the marked rows: what is sent, and how many were left as they were (live, closed, waiting)."""

    commands: tuple[Command, ...]
    closed: int
    left: int


def bulk_close(conversations: Iterable[Conversation]) -> BulkClose:
    """Many at once is for what closes without a question (written threads, callbacks not being dialled):
    a call or a chat is wrapped up one by one, with its own disposition."""
    commands: list[Command] = []
    closed = left = 0
    for conversation in conversations:
        plan = plan_for(conversation)
        if plan.without_questions:
            commands.extend(plan.commands)
            closed += 1
        else:
            left += 1
    return BulkClose(tuple(commands), closed, left)


__all__ = ["WORKING_STATE", "Ask", "BulkClose", "ClosePlan", "bulk_close", "closing_commands", "plan_for"]
