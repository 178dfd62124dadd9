"""Shared by the local command tests: a customer, seeding helpers, one example command of each kind."""

from __future__ import annotations

import time

from standardiste.backends.base import (
    Accept,
    Assign,
    CallbackOutcome,
    Claim,
    Command,
    CommandKind,
    EndChat,
    HangUp,
    Hold,
    Merge,
    Mute,
    Note,
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
    Viewing,
    WrapUp,
)
from standardiste.backends.local import Workspace, qualify
from standardiste.backends.local.rows import local_id
from standardiste.console.core.model import (
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


def example_command(kind: CommandKind, conversation_id: str, other_id: str) -> Command:
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
