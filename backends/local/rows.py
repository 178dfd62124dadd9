"""Rows of the workspace file and the domain values they hold: ids, columns, and the conversions both ways.

Strings repeated across 100k rows (language, queue, customer, assignee, tags) are interned as they are read,
and equal timestamps share one float, so the console's store stays small.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from sys import intern
from typing import Any

from ...console.core.model import (
    DEFAULT_CAPACITY,
    Agent,
    Attachment,
    Channel,
    Conversation,
    Customer,
    Direction,
    EmailHeaders,
    Message,
    Presence,
    Priority,
    Seniority,
    Skills,
    State,
)
from ..base import Invalid, split_id
from ..base import qualify as qualify_id

# The row's columns are defined in local_columns.py (local_prefetch.py reads them before any import).
from ..local_columns import AGENT_COLUMNS as AGENT_COLUMNS
from ..local_columns import CONVERSATION_COLUMNS as CONVERSATION_COLUMNS
from ..local_columns import RECENT_SECONDS as RECENT_SECONDS
from .migrations import CURRENT

BACKEND_NAME = "local"
SCHEMA_VERSION = str(CURRENT)  # as meta.schema_version holds it


def qualify(row_id: int | str) -> str:
    return qualify_id(BACKEND_NAME, row_id)


def local_id(conversation_id: str | int) -> int:
    """`local:42` -> 42 (a bare row id, 42 or "42", as the file's own columns hold it, too). Raises
    ValueError on an id of another backend or one that is not a row number."""
    if isinstance(conversation_id, int):
        return conversation_id
    if ":" not in conversation_id:
        return int(conversation_id)
    try:
        backend, rest = split_id(conversation_id)
    except Invalid as error:
        raise ValueError(str(error)) from None
    if backend != BACKEND_NAME:
        raise ValueError(f"not a local conversation: {conversation_id!r}")
    return int(rest)


def _tags_to_text(tags: Iterable[str]) -> str:
    return ",".join(sorted({t.strip().lower() for t in tags if t.strip()}))


@lru_cache(maxsize=4096)
def _tags_from_text(text: str) -> tuple[str, ...]:
    """One tuple for each set of tags, shared by every row that has it (a bounded cache: tags are free text)."""
    return tuple(sys.intern(t) for t in text.split(",")) if text else ()


def _interned(text: str | None) -> str | None:
    return sys.intern(text) if text else text


# Enum members by value: a dict lookup is ten times cheaper than calling the enum, per row.
_CHANNELS = {c.value: c for c in Channel}
_STATES = {s.value: s for s in State}
_PRIORITIES = {int(p): p for p in Priority}


def conversation_from_row(row: Sequence[Any]) -> Conversation:
    """A row of CONVERSATION_COLUMNS as a Conversation, 100k of them in a snapshot: unpacked in one step and
    passed by position in Conversation's field order (tests/unit/test_conversation_row.py holds both orders
    together), a third faster than 24 keywords and subscripts. One float object is shared when timestamps are
    equal, and repeated strings are interned, so that 100k rows stay small."""
    (row_id, channel, state, subject, customer_id, customer_name, language, queue, priority, tags,
     assignee, created, updated, first_response, last_customer, answered, closed, sla_due, snoozed,
     callback_number, callback_at, unread, muted, version) = row  # fmt: skip
    return Conversation(
        f"{BACKEND_NAME}:{row_id}",
        _CHANNELS[channel],
        _STATES[state],
        subject,
        intern(customer_id),
        intern(customer_name),
        intern(language),
        created,
        created if updated == created else updated,
        intern(queue),
        _PRIORITIES[priority],
        _tags_from_text(tags) if tags else (),
        intern(assignee) if assignee else assignee,
        first_response,
        created if last_customer == created else last_customer,
        answered,
        closed,
        sla_due,
        snoozed,
        callback_number,
        callback_at,
        unread,
        bool(muted),
        version,
    )


def attachments_to_json(attachments: Iterable[Attachment]) -> str:
    return json.dumps(
        [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "ref": a.ref}
            for a in attachments
        ]
    )


def email_to_json(email: EmailHeaders | None) -> str | None:
    if email is None:
        return None
    return json.dumps(
        {
            "message_id": email.message_id,
            "in_reply_to": email.in_reply_to,
            "references": list(email.references),
            "from_addr": email.from_addr,
            "to": list(email.to),
            "cc": list(email.cc),
            "bcc": list(email.bcc),
            "subject": email.subject,
        }
    )


def message_from_row(row: Sequence[Any]) -> Message:
    email = None
    if row[7]:
        data = json.loads(row[7])
        email = EmailHeaders(
            message_id=data.get("message_id", ""),
            in_reply_to=data.get("in_reply_to", ""),
            references=tuple(data.get("references", ())),
            from_addr=data.get("from_addr", ""),
            to=tuple(data.get("to", ())),
            cc=tuple(data.get("cc", ())),
            bcc=tuple(data.get("bcc", ())),
            subject=data.get("subject", ""),
        )
    return Message(
        id=qualify(row[0]),
        conversation_id=qualify(row[1]),
        direction=Direction(row[2]),
        author=row[3],
        body=row[4],
        created_at=row[5],
        attachments=tuple(Attachment(**a) for a in json.loads(row[6] or "[]")),
        email=email,
    )


def skills_to_json(skills: Skills) -> str:
    return json.dumps(
        {
            "channels": {c.value: level for c, level in skills.channels.items()},
            "languages": list(skills.languages),
            "seniority": int(skills.seniority),
        }
    )


def skills_from_json(text: str) -> Skills:
    data = json.loads(text or "{}")
    return Skills(
        channels={Channel(c): int(level) for c, level in data.get("channels", {}).items()},
        languages=tuple(data.get("languages", ("en",))),
        seniority=Seniority(int(data.get("seniority", Seniority.CONFIRMED))),
    )


def capacity_to_json(capacity: dict[Channel, int]) -> str:
    return json.dumps({c.value: n for c, n in capacity.items()})


def capacity_from_json(text: str) -> dict[Channel, int]:
    data = json.loads(text or "{}")
    return {Channel(c): int(n) for c, n in data.items()} or dict(DEFAULT_CAPACITY)


def agent_from_row(row: Sequence[Any]) -> Agent:
    return Agent(
        id=row[0],
        name=row[1],
        skills=skills_from_json(row[2]),
        capacity=capacity_from_json(row[3]),
        presence=Presence(row[4]),
        presence_reason=row[5],
        presence_since=row[6],
        viewing=qualify(row[7]) if row[7] is not None else None,
        typing_in=qualify(row[8]) if row[8] is not None else None,
        last_seen=row[9],
        supervisor=bool(row[10]),
    )


MESSAGE_COLUMNS = "id, conversation_id, direction, author, body, created_at, attachments, email"


def customer_from_row(row: Sequence[Any]) -> Customer:
    return Customer(*row)
