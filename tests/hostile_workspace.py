"""A workspace file and a config with hostile text in every field, shared by the Pilot walk
(tests/ui/test_hostile_screens.py) and the pty check of the bytes written to the terminal
(tests/system/test_hostile_terminal.py)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from app_harness import T0
from hostile_text import MARKUP, hostile
from standardiste.backends.local import Workspace
from standardiste.console.core.model import (
    Agent,
    Channel,
    CsatRecord,
    Customer,
    Direction,
    Presence,
    Skills,
)
from standardiste.console.core.sla import SlaPolicy

CHANNELS = list(Channel)


def seed_hostile(db: Path) -> list[str]:
    ws = Workspace(db, clock=lambda: T0)
    sla = SlaPolicy()
    ids: list[str] = []
    n = 0
    for index, channel in enumerate(CHANNELS * 2):
        n += 3
        customer = Customer(
            f"cust-{index % 3}",  # the same customers on several channels: merge and history show them
            hostile(n, "name "),
            language="fr",
            email=hostile(n + 1, "mail@"),
            phone=hostile(n + 2, "+33 "),
            country=hostile(n + 3),
            social_handle=hostile(n + 4, "@"),
        )
        created = T0 - 30 * (index + 1)
        cid = ws.create_conversation(
            channel=channel,
            customer=customer,
            subject=hostile(n + 5, "subject "),
            created_at=created,
            queue=hostile(n + 6, "queue "),
            tags=(hostile(n + 7), hostile(n + 8)),
            sla_due_at=sla.due_at(channel, created),
            callback_number=hostile(n + 9) if channel is Channel.CALLBACK else "",
        )
        mime = EmailMessage()
        mime["Subject"] = "attachments"
        mime.set_content("see attached")
        name = hostile(n + 10, "file ") + ".pdf"
        mime.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
        message = ws.add_message(
            cid,
            direction=Direction.INBOUND,
            body=hostile(n + 11, "body ") + "\n" + hostile(n + 12),
            author=hostile(n + 13),
            created_at=created,
            raw=mime.as_bytes() if channel in (Channel.EMAIL, Channel.FORM, Channel.SOCIAL) else None,
        )
        if channel in (Channel.EMAIL, Channel.FORM, Channel.SOCIAL):
            ws.db.execute(
                "UPDATE messages SET attachments = ? WHERE id = ?",
                (
                    f'[{{"filename": {_json(name)}, "content_type": "application/pdf", "size": 8, '
                    f'"ref": "{message.id.rpartition(":")[2]}/1"}}]',
                    int(message.id.rpartition(":")[2]),
                ),
            )
            ws.db.commit()
        ws.add_message(cid, direction=Direction.NOTE, body=hostile(n + 14, "note "), author="alice")
        ids.append(f"local:{cid}")
    for index in range(4):
        ws.upsert_agent(
            Agent(
                f"agent{index}",
                hostile(index + 20, "agent "),
                skills=Skills({c: 2 for c in CHANNELS}, ("fr", "en")),
                presence=Presence.AWAY if index % 2 else Presence.AVAILABLE,
                presence_reason=hostile(index + 21),
                viewing=ids[index],
                typing_in=ids[index] if index == 1 else None,
                last_seen=T0,
            )
        )
        ws.record_csat(
            CsatRecord(ids[index], CHANNELS[index], 1 + index, hostile(index + 30, "comment "), T0, f"agent{index}")
        )
    ws.close()
    return ids


def _json(text: str) -> str:
    import json

    return json.dumps(text)


CONFIG = f'''agent = "alice"
name = "Alice"
undo_seconds = 0
bell = true
supervisor = true
[profile]
languages = ["fr", "en"]
channels = {{ phone = 2, chat = 2, email = 2, callback = 2, form = 2, social = 2 }}
[presence]
reasons = [{_json(MARKUP[0])}, {_json("lunch" + chr(0x1B) + "]0;x" + chr(7))}]
[dispositions]
resolved = {_json(MARKUP[1])}
odd = {_json("odd" + chr(0x1B) + "[2J")}
'''
