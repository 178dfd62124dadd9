"""Hostile text in every field of the model, walked through every view, pane, dialog, toast and the wallboard.

The workspace file is filled with payloads (tests/hostile_text.py) in customer names, subjects, bodies, tags,
queue names, languages, attachment names, agent names and presence reasons, CSAT comments and the config's
dispositions. The console opens each view and conversation and every dialog; after each step the screen's cells
are checked: no control or bidi character, no link, no click action, and no crash (a MarkupError ends the app).
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from app_harness import T0, make_app, wait_for
from hostile_text import MARKUP, hostile, screen_problems
from standardiste.backends.local import Workspace
from standardiste.console.model import (
    Agent,
    Channel,
    CsatRecord,
    Customer,
    Direction,
    Presence,
    Skills,
)
from standardiste.console.sla import SlaPolicy

CHANNELS = list(Channel)


def _seed(db: Path) -> list[str]:
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


class Walk:
    """Each step: let the screen settle, then check what it drew."""

    def __init__(self, app, pilot) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.pilot = pilot
        self.steps = 0
        self.problems: list[str] = []

    async def check(self, step: str) -> None:
        await self.pilot.pause(0.05)
        assert self.app.is_running, f"the console stopped at {step}: {self.app._exception!r}"
        strips = self.app.screen._compositor.render_strips()
        self.problems += [f"{step}: {p}" for p in screen_problems(strips)]
        self.steps += 1

    async def press(self, step: str, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.check(step)


async def test_every_screen_draws_hostile_text_as_plain_text(tmp_path: Path) -> None:
    ids = _seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, config_text=CONFIG)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: all(cid in app.store.conversations for cid in ids), pilot=pilot)
        walk = Walk(app, pilot)
        screen = app.workspace
        await walk.check("start")
        for key in "12345678":
            await walk.press(f"view {key}", key)
        screen.action_view("everyone")
        for cid in ids:
            assert screen.queue.select_id(cid)
            await walk.press(f"open {cid}", "enter")
            await wait_for(lambda cid=cid: screen.open_id == cid, pilot=pilot)
            await walk.check(f"opened {cid}")
        email = next(cid for cid in ids if app.store.conversations[cid].channel is Channel.EMAIL)
        assert screen.queue.select_id(email)
        await pilot.press("enter")
        await wait_for(lambda: screen.open_id == email, pilot=pilot)
        # Dialogs: each opened, checked, closed.
        for step, keys in [
            ("merge", ("ctrl+g",)),
            ("transfer", ("t",)),
            ("tags", ("plus",)),
            ("snooze", ("z",)),
            ("presence", ("P",)),
            ("macros", ("M",)),
            ("help", ("question_mark",)),
            ("palette", ("ctrl+p",)),
        ]:
            await walk.press(step, *keys)
            await walk.press(f"{step} closed", "escape")
            if len(app.screen_stack) > 2:
                await walk.press(f"{step} closed again", "escape")
        await walk.press("command line", "colon", "t", "tab")
        await walk.press("command line closed", "escape")
        await walk.press("save attachments", "S")
        await walk.press("save attachments to", "enter")
        await pilot.pause(0.5)
        await walk.check("saved notice")
        await walk.press("close", "x")
        await walk.press("close picked", "1")
        await walk.press("wallboard", "W")
        await pilot.pause(1.5)
        await walk.check("wallboard drawn")
        for key in ("a", "w"):
            await walk.press(f"wallboard {key}", key)
        await walk.press("wallboard closed", "escape")
        assert app.is_running
    assert walk.steps > 40
    assert walk.problems == []


async def test_a_caller_named_in_markup_is_announced_as_text(tmp_path: Path) -> None:
    """The incoming-call notice is built from the caller's name: `[/bold]` in it crashed the console."""
    ws = Workspace(tmp_path / "workspace.db")
    app = make_app(tmp_path, config_text=CONFIG)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: app.hub_ready, pilot=pilot)
        await pilot.press("P")
        await pilot.press("1")  # available
        ws.create_conversation(
            channel=Channel.PHONE,
            customer=Customer("c1", "Ann [/bold] Smith [link='http://evil.example/']x[/link]", "fr"),
            subject="call",
        )
        await wait_for(lambda: bool(app.store.conversations), pilot=pilot)
        await wait_for(lambda: any("Ann" in n.message for n in app._notifications), pilot=pilot)
        assert app.is_running
        notice = next(n for n in app._notifications if "Ann" in n.message)
        assert "[/bold]" in notice.message and not notice.markup
        strips = app.screen._compositor.render_strips()
        assert screen_problems(strips) == []
    ws.close()
