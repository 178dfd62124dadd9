"""What a command did, in the agent's words: for toasts such as "Undone: …" (never `set_status`)."""

from __future__ import annotations

from ...backends.base import Command, CommandKind, Merge, Reply, SetPriority, SetStatus, WrapUp
from .model import Conversation
from .sanitize import sanitize

# `{who}` is the customer's name, `{what}` their conversation ("Anna Müller's chat").
PHRASES: dict[CommandKind, str] = {
    CommandKind.REPLY: "the reply to {who}",
    CommandKind.NOTE: "the note on {what}",
    CommandKind.CLAIM: "taking {what}",
    CommandKind.ASSIGN: "assigning {what}",
    CommandKind.RELEASE: "releasing {what}",
    CommandKind.TRANSFER: "the transfer of {what}",
    CommandKind.ACCEPT: "answering {what}",
    CommandKind.HOLD: "putting {who} on hold",
    CommandKind.RESUME: "resuming {what}",
    CommandKind.MUTE: "muting {what}",
    CommandKind.HANG_UP: "hanging up on {who}",
    CommandKind.END_CHAT: "ending {what}",
    CommandKind.TAGS: "the tags of {what}",
    CommandKind.SNOOZE: "snoozing {what}",
    CommandKind.PRESENCE: "your presence change",
    CommandKind.SCHEDULE_CALLBACK: "scheduling {what}",
    CommandKind.PLACE_CALLBACK: "dialling {who}",
    CommandKind.CALLBACK_OUTCOME: "the outcome of {what}",
    CommandKind.REQUEST_CSAT: "the survey to {who}",
}


def command_words(command: Command, conversation: Conversation | None) -> str:
    """A phrase naming what `command` does to whom, from the conversation the console knows (if any)."""
    who = sanitize(conversation.customer_name, single_line=True) if conversation else "the customer"
    what = f"{who}'s {conversation.channel.value}" if conversation else "the conversation"
    if isinstance(command, Reply) and command.forward:
        return f"the forward of {what}"
    if isinstance(command, SetStatus):
        return f"marking {what} {command.state.value.replace('_', ' ')}"
    if isinstance(command, SetPriority):
        return f"{what}'s priority {command.priority.name.lower()}"
    if isinstance(command, WrapUp):
        return f"the wrap-up of {what} ({sanitize(command.disposition, single_line=True)})"
    if isinstance(command, Merge):
        return f"the merge into {what}"
    phrase = PHRASES.get(command.kind, command.kind.value.replace("_", " "))
    return phrase.format(who=who, what=what)
