"""Outgoing replies as MIME: the headers that make the customer's mail client thread them, and attachments.

- In-Reply-To is the parent's Message-ID; References is the parent's References plus that id (RFC 5322
  §3.6.4), trimmed to the root and the most recent ids when long.
- Subject gets one "Re: " unless it already starts with a reply prefix (Re, RE, Aw, Sv, Antw...).
- BCC recipients are in the SMTP envelope only, never in a header.
- Reply-all: the parent's To and Cc, minus our own addresses and whoever is already in To.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from ...console.core.sanitize import safe_filename
from .threads import trim_references

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|ref|rif|odp|vs|vá|atb)\s*(\[\d+\])?\s*:", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(fwd?|wg|tr|rv|enc|i)\s*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Parent:
    """What a reply needs of the message it answers."""

    message_id: str
    references: tuple[str, ...]
    subject: str
    from_addr: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]


def reply_subject(subject: str, *, forward: bool = False) -> str:
    subject = " ".join(subject.split())
    if forward:
        return subject if _FORWARD_PREFIX.match(subject) else f"Fwd: {subject}".rstrip()
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}".rstrip()


def reply_references(parent: Parent) -> tuple[str, ...]:
    ids = [*parent.references, parent.message_id] if parent.message_id else list(parent.references)
    return trim_references(i for i in ids if i)


def _unique(addresses: Iterable[str], exclude: Iterable[str] = ()) -> tuple[str, ...]:
    seen = {a.lower() for a in exclude}
    out: list[str] = []
    for address in addresses:
        key = address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(address.strip())
    return tuple(out)


def reply_recipients(
    parent: Parent, own: Iterable[str], *, reply_all: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(to, cc) for a reply: the Reply-To (or From) of the parent; with reply-all, its To and Cc too."""
    own_set = {a.lower() for a in own}
    to = _unique(parent.reply_to or (parent.from_addr,), exclude=own_set)
    if not to:
        # We answer our own message (a follow-up): it goes where that one went.
        to = _unique(parent.to, exclude=own_set)
    if not reply_all:
        return to, ()
    cc = _unique((*parent.to, *parent.cc), exclude={*own_set, *(a.lower() for a in to)})
    return to, cc


def make_message_id(key: str, from_addr: str) -> str:
    """A Message-ID derived from the idempotency key: a retried reply has the same id (found in Sent)."""
    domain = parseaddr(from_addr)[1].rpartition("@")[2] or "standardiste.invalid"
    token = hashlib.sha256(key.encode()).hexdigest()[:32] if key else uuid.uuid4().hex
    return f"<{token}.std@{domain}>"


def build_reply(
    *,
    from_addr: str,
    from_name: str = "",
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    attachments: Sequence[OutgoingAttachment] = (),
    date: float | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((from_name, from_addr)) if from_name else from_addr
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(
        datetime.fromtimestamp(time.time() if date is None else date).astimezone()
    )
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message["MIME-Version"] = "1.0"
    message.set_content(body.replace("\r\n", "\n"), subtype="plain", charset="utf-8", cte="quoted-printable")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        # An attached message goes as opaque bytes: rebuilding it as a message/rfc822 part could alter it.
        if not maintype or not subtype or maintype in ("message", "multipart"):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=safe_filename(attachment.filename),
        )
    return message


def guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
