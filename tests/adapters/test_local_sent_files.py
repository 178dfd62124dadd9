"""Files an agent sends from the local backend are kept in the workspace with the reply (sent_files.py): another
console reads them back with `attachment()`; a file gone by send time refuses the reply, naming it; a customer's
file forwarded with it keeps its stored part. Real workspace file, two consoles (alice sends, bob reads)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from local_commands_kit import new
from standardiste.backends.base import Invalid, Reply
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.attach_files import attachable
from standardiste.console.core.model import Attachment, Channel, Direction


def _customer_mail(ws: Workspace, cid: str) -> Attachment:
    mime = EmailMessage()
    mime.set_content("My photo.")
    mime.add_attachment(b"\x89PNG customer", maintype="image", subtype="png", filename="photo.png")
    message = ws.add_message(cid, direction=Direction.INBOUND, body="My photo.", raw=mime.as_bytes())
    return Attachment("photo.png", "image/png", 14, f"{message.id.rpartition(':')[2]}/1")


async def test_a_forward_keeps_the_sent_file_and_the_customers_for_every_console(
    ws: Workspace, alice: LocalBackend, bob: LocalBackend, tmp_path: Path
) -> None:
    mail = new(ws, Channel.EMAIL)
    theirs = _customer_mail(ws, mail)
    label = tmp_path / "étiquette retour.pdf"
    label.write_bytes(b"%PDF-1.7 \x00\xff label")
    mine = attachable(str(label))
    result = await alice.perform(
        Reply(
            conversation_id=mail,
            body="See both.",
            to=("depot@example.com",),
            forward=True,
            attachments=(theirs, mine),
        )
    )
    assert result.message is not None
    forwarded, sent = result.message.attachments
    assert forwarded == theirs  # already in the workspace
    assert sent.filename == "étiquette retour.pdf" and not Path(sent.ref).is_absolute()
    label.unlink()  # only the workspace has it now
    [stored] = [m for m in ws.messages(mail) if m.direction is Direction.OUTBOUND]
    assert stored.attachments == (forwarded, sent)
    assert await bob.attachment(mail, sent) == b"%PDF-1.7 \x00\xff label"
    assert await bob.attachment(mail, forwarded) == b"\x89PNG customer"


async def test_a_file_gone_before_the_send_refuses_the_reply_by_name(
    ws: Workspace, alice: LocalBackend, tmp_path: Path
) -> None:
    mail = new(ws, Channel.EMAIL)
    gone = tmp_path / "invoice.pdf"
    gone.write_bytes(b"%PDF")
    attachment = attachable(str(gone))
    gone.unlink()
    with pytest.raises(Invalid, match=r"cannot attach invoice\.pdf"):
        await alice.perform(Reply(conversation_id=mail, body="Attached.", attachments=(attachment,)))
    assert ws.messages(mail) == []  # nothing half-sent
    assert ws.require(mail).assignee is None
