"""Sending a reply: compose from the thread's last customer message, submit over SMTP, file a copy in Sent.

Once per idempotency key: the key is journalled as "sending" before SMTP and "sent" after; a retry of a sent
key does nothing, and a retry of a key left at "sending" (a crash in between) first looks in Sent for the
Message-ID derived from the key. The window where a crash after SMTP and before the APPEND makes a retry send
twice remains; it is as small as one APPEND.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...console.core.model import Attachment
from ..base import Invalid, Reply
from .command_link import CommandLink
from .compose import (
    OutgoingAttachment,
    Parent,
    build_reply,
    guess_type,
    make_message_id,
    reply_recipients,
    reply_references,
    reply_subject,
)
from .index import INBOX, SENT, Fetched, IndexedMessage, MailIndex
from .local_state import Journal
from .mime import parse_headers, part_payload
from .session import ImapSession
from .settings import ImapSettings
from .smtp import as_bytes, submit
from .workers import Worker

MAX_ATTACHMENT_BYTES = 25_000_000


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str
    row: IndexedMessage | None  # the copy in Sent, indexed (None when it could not be filed)
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    refused: dict[str, str]
    detail: str


def parent_of(rows: Sequence[IndexedMessage]) -> IndexedMessage:
    """The message a reply answers: the customer's latest, else the latest in the inbox."""
    inbound = [r for r in rows if r.inbound]
    candidates = inbound or [r for r in rows if r.role == INBOX] or list(rows)
    if not candidates:
        raise Invalid("this conversation has no message to reply to")
    return max(candidates, key=lambda r: (r.date, r.uid))


def as_parent(row: IndexedMessage) -> Parent:
    return Parent(
        message_id=row.message_id,
        references=row.references,
        subject=row.subject,
        from_addr=row.from_addr,
        reply_to=row.reply_to,
        to=row.to,
        cc=row.cc,
    )


class ReplySender:
    def __init__(
        self,
        *,
        settings: ImapSettings,
        secret: Callable[[], str],
        link: CommandLink,
        db: Worker,
        index: MailIndex,
        journal: Journal,
        smtp: Worker,
    ) -> None:
        self.settings = settings
        self.secret = secret
        self.link = link
        self.db = db
        self.index = index
        self.journal = journal
        self.smtp = smtp

    async def send(self, command: Reply, rows: Sequence[IndexedMessage]) -> Sent:
        s = self.settings
        parent = as_parent(parent_of(rows))
        reply_all = command.reply_all
        default_to, default_cc = reply_recipients(parent, s.own_addresses, reply_all=reply_all)
        to = tuple(command.to) or default_to
        cc = tuple(command.cc) or default_cc
        bcc = tuple(command.bcc)
        if not to and not cc and not bcc:
            raise Invalid("this reply has no recipient")
        if command.forward and not command.to:
            raise Invalid("a forward needs a recipient")
        subject = reply_subject(command.subject or parent.subject, forward=command.forward)
        message_id = make_message_id(command.key, s.from_addr)
        attachments = await self._attachments(command.attachments)
        message = build_reply(
            from_addr=s.from_addr,
            from_name=s.from_name,
            to=to,
            cc=cc,
            subject=subject,
            body=command.body,
            message_id=message_id,
            in_reply_to="" if command.forward else parent.message_id,
            references=() if command.forward else reply_references(parent),
            attachments=attachments,
        )
        journalled = await self.db.run(self.journal.get, command.key) if command.key else None
        already_filed = journalled is not None and await self._in_sent(message_id)
        refused: dict[str, str] = {}
        if not already_filed:
            if command.key:
                await self.db.run(self.journal.put, command.key, "sending", {"message_id": message_id})
            refused = await self.smtp.run(submit, s, self.secret(), message, s.from_addr, [*to, *cc, *bcc])
        row, detail = await self._file(message, bcc, already_filed)
        if command.key:
            await self.db.run(self.journal.put, command.key, "sent", {"message_id": message_id})
        if refused:
            detail = "; ".join(
                [detail, "refused: " + ", ".join(sorted(refused))]
                if detail
                else ["refused: " + ", ".join(sorted(refused))]
            )
        return Sent(message_id, row, to, cc, bcc, subject, refused, detail)

    async def _file(
        self, message: object, bcc: tuple[str, ...], already: bool
    ) -> tuple[IndexedMessage | None, str]:
        """APPEND the copy to Sent (with Bcc, so the agent can see who got it) and index it."""
        s = self.settings
        if not s.append_sent or not s.sent or already:
            return None, ""
        copy = as_bytes(message)  # type: ignore[arg-type]
        if bcc:
            copy = f"Bcc: {', '.join(bcc)}\r\n".encode() + copy
        try:
            async with self.link.session() as (session, worker):
                where = await worker.run(_append, session, s.sent, copy)
        except Exception as error:  # the mail is gone: failing to file it must not look like a failed send
            return None, f"sent, but not filed in {s.sent}: {error}"
        if where is None:
            return None, ""
        uidvalidity, uid = where
        headers = parse_headers(copy)
        added = await self.db.run(
            self.index.add,
            SENT,
            uidvalidity,
            [
                Fetched(
                    uid=uid,
                    flags=frozenset({"\\Seen"}),
                    internaldate=time.time(),
                    size=len(copy),
                    headers=headers,
                )
            ],
        )
        rows = added or [
            r for r in await self.db.run(self.index.by_message_id, headers.message_id) if r.role == SENT
        ]
        return (rows[0] if rows else None), ""

    async def _in_sent(self, message_id: str) -> bool:
        s = self.settings
        if not s.sent or not s.append_sent:
            return False

        def look(session: ImapSession) -> bool:
            session.ensure_selected(s.sent, readonly=True)
            return bool(session.search_header("Message-ID", message_id))

        try:
            return await self.link.call(look)
        except Exception:
            return False

    async def _attachments(self, attachments: Sequence[Attachment]) -> list[OutgoingAttachment]:
        out: list[OutgoingAttachment] = []
        total = 0
        for attachment in attachments:
            data = await self._attachment_bytes(attachment)
            total += len(data)
            if total > MAX_ATTACHMENT_BYTES:
                raise Invalid(f"attachments over {MAX_ATTACHMENT_BYTES // 1_000_000} MB are not sent by mail")
            name = attachment.filename or Path(attachment.ref).name or "attachment"
            content_type = attachment.content_type
            if not content_type or content_type == "application/octet-stream":
                content_type = guess_type(name)
            out.append(OutgoingAttachment(name, content_type, data))
        return out

    async def _attachment_bytes(self, attachment: Attachment) -> bytes:
        """`ref` is a file on this machine, or `<role>/<uidvalidity>/<uid>/<part>` of a message we hold."""
        found = await fetch_part(self.link, self.settings, attachment.ref)
        if found is not None:
            return found
        path = Path(attachment.ref).expanduser()
        if not attachment.ref or not path.is_file():
            raise Invalid(f"cannot attach {attachment.filename or attachment.ref}: no such file")
        return await asyncio.to_thread(path.read_bytes)


def _append(session: ImapSession, folder: str, data: bytes) -> tuple[int, int] | None:
    try:
        where = session.append(folder, data, flags=("\\Seen",))
    except Exception as error:
        if "TRYCREATE" not in str(error).upper() and "exist" not in str(error).lower():
            raise
        session.create_folder(folder)
        where = session.append(folder, data, flags=("\\Seen",))
    if where is not None:
        return where
    # Without UIDPLUS, find the copy by its Message-ID.
    info = session.ensure_selected(folder, readonly=True)
    message_id = parse_headers(data).message_id
    found = session.search_header("Message-ID", message_id) if message_id else []
    return (info.uidvalidity, found[-1]) if found else None


def parse_ref(ref: str) -> tuple[str, int, int, int] | None:
    parts = ref.split("/")
    if len(parts) != 4 or parts[0] not in (INBOX, SENT):
        return None
    try:
        return parts[0], int(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        return None


async def fetch_part(link: CommandLink, settings: ImapSettings, ref: str) -> bytes | None:
    """The content of attachment `ref` from the server, or None when `ref` is not one of ours."""
    parsed = parse_ref(ref)
    if parsed is None:
        return None
    role, uidvalidity, uid, index = parsed
    folder = settings.inbox if role == INBOX else settings.sent

    def fetch(session: ImapSession) -> bytes | None:
        info = session.ensure_selected(folder, readonly=role == SENT)
        if info.uidvalidity != uidvalidity:
            return None
        return session.fetch_whole(uid)

    raw = await link.call(fetch)
    if raw is None:
        raise Invalid("that message is no longer on the server")
    payload = await asyncio.to_thread(part_payload, raw, index)
    if payload is None:
        raise Invalid("that attachment is no longer in its message")
    return payload
