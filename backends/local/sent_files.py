"""Files an agent attaches to a reply, kept in the workspace with the reply, so that every console of the
workspace can save them (`S`), not only the one on the machine the file was on.

The composer names such a file by its absolute path on the agent's machine (console/core/attach_files.py).
The IMAP backend reads it as it sends; here the reply goes into the shared workspace file instead, so the
bytes go there too: into the message's `raw`, as a MIME message (its text, then one part per file), the way
a customer's mail is stored, and each `ref` becomes `<message row>/<leaf part>`, which
`LocalBackend.attachment()` reads back for both. A ref that is already a stored part (a customer's file
being forwarded) stays as it is: its bytes are in the workspace already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

from ...console.core.attach_files import MAX_BYTES, human_size
from ...console.core.model import Attachment, Message
from ..base import Invalid
from .rows import attachments_to_json, local_id
from .workspace import Workspace


def is_file_here(attachment: Attachment) -> bool:
    """A path on this machine (absolute), not a stored `<row>/<part>`."""
    return bool(attachment.ref) and Path(attachment.ref).is_absolute()


def pack(body: str, attachments: Sequence[Attachment]) -> bytes | None:
    """The reply as MIME with the bytes of every file attachment read now; None when there is none."""
    files = [a for a in attachments if is_file_here(a)]
    if not files:
        return None
    mime = EmailMessage()
    mime.set_content(body)
    total = 0
    for attachment in files:
        path = Path(attachment.ref)
        try:
            data = path.read_bytes()
        except OSError as error:  # moved or deleted since it was attached, or no longer readable
            reason = error.strerror or str(error)
            raise Invalid(f"cannot attach {attachment.filename or path.name}: {reason}") from None
        total += len(data)
        if total > MAX_BYTES:
            raise Invalid(f"attachments over {human_size(MAX_BYTES)} are not sent")
        maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        mime.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename or path.name,
        )
    return mime.as_bytes()


def stored(attachments: Sequence[Attachment], message_row: int) -> list[Attachment]:
    """The attachments as `pack` stored them in message `message_row`: part 0 is the text, then the files."""
    out = []
    part = 0
    for attachment in attachments:
        if is_file_here(attachment):
            part += 1
            attachment = replace(attachment, ref=f"{message_row}/{part}")
        out.append(attachment)
    return out


def name_parts(ws: Workspace, message: Message, attachments: Sequence[Attachment]) -> Message:
    """Point the attachments of a message just added with `raw=pack(...)` at its parts (in its transaction)."""
    row = local_id(message.id)
    ws.db.execute(
        "UPDATE messages SET attachments = ? WHERE id = ?",
        (attachments_to_json(stored(attachments, row)), row),
    )
    return ws.message(row)
