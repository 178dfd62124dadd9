"""Index rows and marks to the console's model: a thread becomes a `Conversation`, a row a `Message`.

State of an email thread: the status an agent set, unless the customer wrote again after it was set on a
pending or solved thread (then it is open again); with no status set, a thread is new until someone replies.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ...console.core.model import (
    Attachment,
    Channel,
    Conversation,
    Customer,
    Direction,
    EmailHeaders,
    Message,
    State,
)
from ..base import Invalid, qualify, split_id
from .index import INBOX, IndexedMessage
from .local_state import Marks, NoteRow
from .mime import ParsedMail, PartInfo

_REOPENED_BY_CUSTOMER = frozenset({State.PENDING, State.SOLVED})


def conversation_id(name: str, thread: str) -> str:
    return qualify(name, thread)


def thread_of(name: str, conversation_id: str) -> str:
    """The thread a conversation id of this backend names; "" for another backend's or a malformed id."""
    try:
        prefix, thread = split_id(conversation_id)
    except Invalid:
        return ""
    return thread if prefix == name else ""


def customer_id(name: str, address: str) -> str:
    return qualify(name, address.lower())


def message_id(name: str, row: IndexedMessage) -> str:
    return qualify(name, row.ref)


def effective_state(rows: Sequence[IndexedMessage], marks: Marks) -> State:
    inbound_uids = [r.uid for r in rows if r.inbound]
    if marks.status is not None:
        if marks.status in _REOPENED_BY_CUSTOMER and inbound_uids and max(inbound_uids) > marks.status_uid:
            return State.OPEN
        return marks.status
    last_inbound = max((r.date for r in rows if r.inbound), default=0.0)
    last_outbound = max((r.date for r in rows if r.outbound), default=0.0)
    if last_outbound and last_outbound >= last_inbound:
        return State.PENDING
    return State.OPEN if last_outbound else State.NEW


def _customer_row(rows: Sequence[IndexedMessage]) -> IndexedMessage | None:
    return next((r for r in rows if r.inbound and r.from_addr), None) or next(
        (r for r in rows if r.role == INBOX), None
    )


def customer_of(name: str, rows: Sequence[IndexedMessage]) -> Customer | None:
    row = _customer_row(rows)
    if row is None or not row.from_addr:
        return None
    return Customer(
        id=customer_id(name, row.from_addr),
        name=row.from_name or row.from_addr,
        language=row.language or "en",
        email=row.from_addr.lower(),
    )


def build_conversation(
    name: str,
    thread: str,
    rows: Sequence[IndexedMessage],
    marks: Marks,
    language: str,
    queue: str = "email",
) -> Conversation | None:
    """None when no message of the thread is in the inbox any more (archived or deleted)."""
    inbox = [r for r in rows if r.role == INBOX]
    if not inbox:
        return None
    first = min(rows, key=lambda r: r.date)
    customer = _customer_row(rows)
    state = effective_state(rows, marks)
    created = first.date
    inbound_dates = [r.date for r in rows if r.inbound]
    outbound_dates = sorted(r.date for r in rows if r.outbound and r.date >= created)
    updated = max(r.date for r in rows)
    return Conversation(
        id=conversation_id(name, thread),
        channel=Channel.EMAIL,
        state=state,
        subject=first.subject or (inbox[0].subject if inbox else ""),
        customer_id=customer_id(name, customer.from_addr) if customer and customer.from_addr else "",
        customer_name=(customer.from_name or customer.from_addr) if customer else "",
        language=(customer.language if customer and customer.language else language),
        created_at=created,
        updated_at=updated,
        queue=queue,
        priority=marks.priority,
        tags=marks.tags,
        assignee=marks.assignee,
        first_response_at=outbound_dates[0] if outbound_dates else None,
        last_customer_at=max(inbound_dates) if inbound_dates else None,
        answered_at=outbound_dates[0] if outbound_dates else None,
        closed_at=updated if state is State.SOLVED else None,
        unread=sum(1 for r in inbox if r.inbound and "\\Seen" not in r.flags),
        # Milliseconds: every rebuild is newer than the last, so the store never keeps a stale copy.
        version=time.time_ns() // 1_000_000,
    )


def _attachments(row: IndexedMessage, parts: Sequence[PartInfo]) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(filename=p.filename, content_type=p.content_type, size=p.size, ref=f"{row.ref}/{p.index}")
        for p in parts
    )


def build_message(name: str, row: IndexedMessage, parsed: ParsedMail | None) -> Message:
    """A message of a thread; without `parsed` (body not downloaded) the body is empty."""
    direction = Direction.OUTBOUND if row.outbound else Direction.INBOUND
    return Message(
        id=message_id(name, row),
        conversation_id=conversation_id(name, row.thread),
        direction=direction,
        author=row.from_name or row.from_addr,
        body=parsed.body if parsed else "",
        created_at=row.date,
        attachments=_attachments(row, parsed.attachments) if parsed else (),
        undecodable=parsed.undecodable if parsed else (),
        email=EmailHeaders(
            message_id=row.message_id,
            in_reply_to=row.in_reply_to,
            references=row.references,
            from_addr=row.from_addr,
            to=row.to,
            cc=row.cc,
            subject=row.subject,
        ),
    )


def note_message(name: str, note: NoteRow) -> Message:
    return Message(
        id=qualify(name, f"note/{note.id}"),
        conversation_id=conversation_id(name, note.thread),
        direction=Direction.NOTE,
        author=note.author,
        body=note.body,
        created_at=note.created_at,
    )
