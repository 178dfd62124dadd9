"""A reply sent with a file before the local backend kept files in the workspace names only a path on the
sender's machine: another console's `S` says the file was not kept, instead of failing on the path."""

from __future__ import annotations

import pytest
from local_commands_kit import new
from standardiste.backends.base import NotFound
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.model import Attachment, Channel, Direction


async def test_a_file_sent_before_it_was_kept_says_so(ws: Workspace, bob: LocalBackend) -> None:
    mail = new(ws, Channel.EMAIL)
    old = Attachment("old.pdf", "application/pdf", 4, "/home/alice/old.pdf")
    ws.add_message(mail, direction=Direction.OUTBOUND, body="Old.", attachments=(old,))
    with pytest.raises(NotFound, match=r"old\.pdf was not kept in the workspace"):
        await bob.attachment(mail, old)
