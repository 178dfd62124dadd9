"""The gate where backend data enters the console's model: every text field is sanitised once, here.

Names, subjects, bodies, tags, queue names, reasons and error details come from customers, helpdesks, scenario
files and mail servers: a tag or a queue name is as hostile as a subject. The hub passes every event, snapshot,
history and command result through `clean_*` before the store sees it, so no widget depends on remembering to
sanitise (they still do, where they draw: the fast path makes that free).

Identifiers (conversation, customer, agent and message ids) are kept byte-exact: they go back to the backend in
commands, and changing them would address something else. They are sanitised where they are drawn.

Cost: one concatenation and one scan per object in the common case (every character printable); an object is
copied only when one of its fields changes. 100k conversations take ~60 ms here, so the hub cleans a snapshot in
a worker thread, off the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ...backends.base import (
    AgentUpdated,
    BackendStatus,
    CommandResult,
    ConversationUpserted,
    CsatRecorded,
    CustomerUpdated,
    Event,
    HeadLoaded,
    MessageAdded,
    Snapshot,
    SnapshotLoaded,
    WrappedUp,
)
from .model import Agent, Attachment, Conversation, CsatRecord, Customer, EmailHeaders, Message, WrapUpRecord
from .sanitize import sanitize

# What `sanitize` would change: controls (C0, DEL, C1, so every escape sequence) and bidi overrides. One-line
# fields also fold newlines and tabs.
_DIRTY_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_DIRTY_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _clean(*fields: str) -> bool:
    """True when no one-line field needs sanitising (one scan over the joined fields)."""
    joined = "\x20".join(fields)
    return joined.isprintable() or _DIRTY_LINE.search(joined) is None


def _clean_text(text: str) -> bool:
    return _DIRTY_TEXT.search(text) is None


def line(text: str) -> str:
    return sanitize(text, single_line=True)


def clean_conversation(c: Conversation) -> Conversation:
    # The hot path (100k rows in a snapshot, thousands a second in a flood): one f-string, one C-level scan.
    # `isprintable` is false for every control, newline, tab and bidi override, so true means nothing to do.
    tags = "".join(c.tags) if c.tags else ""
    if f"{c.subject}{c.customer_name}{c.language}{c.queue}{c.callback_number}{tags}".isprintable():
        return c
    return replace(
        c,
        subject=line(c.subject),
        customer_name=line(c.customer_name),
        language=line(c.language),
        queue=line(c.queue),
        callback_number=line(c.callback_number),
        tags=tuple(line(t) for t in c.tags),
    )


def clean_attachment(a: Attachment) -> Attachment:
    if _clean(a.filename, a.content_type):
        return a
    return replace(a, filename=line(a.filename), content_type=line(a.content_type))


def clean_headers(h: EmailHeaders) -> EmailHeaders:
    if _clean(h.from_addr, h.subject, *h.to, *h.cc, *h.bcc):
        return h
    return replace(
        h,
        from_addr=line(h.from_addr),
        subject=line(h.subject),
        to=tuple(line(a) for a in h.to),
        cc=tuple(line(a) for a in h.cc),
        bcc=tuple(line(a) for a in h.bcc),
    )


def clean_message(m: Message) -> Message:
    attachments = tuple(clean_attachment(a) for a in m.attachments)
    email = clean_headers(m.email) if m.email is not None else None
    if _clean_text(m.body) and _clean(m.author) and email is m.email and attachments == m.attachments:
        return m
    return replace(m, author=line(m.author), body=sanitize(m.body), attachments=attachments, email=email)


def clean_customer(c: Customer) -> Customer:
    if _clean(c.name, c.language, c.email, c.phone, c.social_handle, c.country):
        return c
    return replace(
        c,
        name=line(c.name),
        language=line(c.language),
        email=line(c.email),
        phone=line(c.phone),
        social_handle=line(c.social_handle),
        country=line(c.country),
    )


def clean_agent(a: Agent) -> Agent:
    if _clean(a.name, a.presence_reason, *a.skills.languages):
        return a
    skills = replace(a.skills, languages=tuple(line(lang) for lang in a.skills.languages))
    return replace(a, name=line(a.name), presence_reason=line(a.presence_reason), skills=skills)


def clean_csat(r: CsatRecord) -> CsatRecord:
    return r if _clean_text(r.comment) else replace(r, comment=sanitize(r.comment))


def clean_wrapup(r: WrapUpRecord) -> WrapUpRecord:
    return (
        r
        if _clean(r.disposition) and _clean_text(r.note)
        else replace(r, disposition=line(r.disposition), note=sanitize(r.note))
    )


def clean_snapshot(s: Snapshot) -> Snapshot:
    return replace(
        s,
        conversations=[clean_conversation(c) for c in s.conversations],
        agents=[clean_agent(a) for a in s.agents],
        customers=[clean_customer(c) for c in s.customers],
        csat=[clean_csat(r) for r in s.csat],
        wrapups=[clean_wrapup(r) for r in s.wrapups],
    )


def clean_event(event: Event) -> Event:
    if isinstance(event, ConversationUpserted):
        clean = clean_conversation(event.conversation)
        return event if clean is event.conversation else ConversationUpserted(clean)
    if isinstance(event, MessageAdded):
        message = clean_message(event.message)
        return event if message is event.message else MessageAdded(message)
    if isinstance(event, AgentUpdated):
        agent = clean_agent(event.agent)
        return event if agent is event.agent else AgentUpdated(agent)
    if isinstance(event, CustomerUpdated):
        customer = clean_customer(event.customer)
        return event if customer is event.customer else CustomerUpdated(customer)
    if isinstance(event, CsatRecorded):
        return CsatRecorded(clean_csat(event.record))
    if isinstance(event, WrappedUp):
        return WrappedUp(clean_wrapup(event.record))
    if isinstance(event, SnapshotLoaded):
        return SnapshotLoaded(event.backend, clean_snapshot(event.snapshot))
    if isinstance(event, HeadLoaded):
        return HeadLoaded(event.backend, clean_snapshot(event.snapshot), event.complete)
    if isinstance(event, BackendStatus) and not _clean(event.detail):
        return replace(event, detail=line(event.detail))
    return event


def clean_events(events: Iterable[Event]) -> list[Event]:
    return [clean_event(e) for e in events]


def clean_result(result: CommandResult) -> CommandResult:
    return replace(
        result,
        conversation=clean_conversation(result.conversation) if result.conversation else None,
        message=clean_message(result.message) if result.message else None,
        detail=line(result.detail),
    )


def clean_messages(messages: Sequence[Message]) -> list[Message]:
    return [clean_message(m) for m in messages]


def clean_conversations(conversations: Sequence[Conversation]) -> list[Conversation]:
    return [clean_conversation(c) for c in conversations]
