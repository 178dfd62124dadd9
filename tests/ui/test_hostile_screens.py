"""Hostile text in every field of the model, walked through every view, pane, dialog, toast and the wallboard.

The workspace file is filled with payloads (tests/hostile_text.py) in customer names, subjects, bodies, tags,
queue names, languages, attachment names, agent names and presence reasons, CSAT comments and the config's
dispositions. The console opens each view and conversation and every dialog; after each step the screen's cells
are checked: no control or bidi character, no link, no click action, and no crash (a MarkupError ends the app).
"""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import drawn_lines, make_app, wait_for, wait_for_screen
from hostile_text import hostile, screen_problems
from hostile_workspace import CONFIG, seed_hostile
from standardiste.backends.local import Workspace
from standardiste.console.core.model import (
    Channel,
    CsatRecord,
    Customer,
)
from standardiste.widgets.customer_card import CustomerCard


class Walk:
    """Each step: let the screen settle, then check what it drew."""

    def __init__(self, app, pilot) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.pilot = pilot
        self.steps = 0
        self.problems: list[str] = []

    async def check(self, step: str) -> None:
        # Settled: the keys handled, what they started in workers (history, search, saving) done, drawn.
        await self.pilot.pause()
        await self.app.workers.wait_for_complete()
        await self.pilot.wait_for_scheduled_animations()
        await self.pilot.pause()
        # A crash is re-raised by run_test when the block exits; here it is enough to say where it stopped.
        assert self.app.is_running, f"the console stopped at {step} (return code {self.app.return_code})"
        lines = drawn_lines(self.app.screen)
        assert lines, f"nothing drawn at {step}"
        self.problems += [f"{step}: {p}" for p in screen_problems(lines)]
        self.steps += 1

    async def press(self, step: str, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.check(step)


async def test_every_screen_draws_hostile_text_as_plain_text(tmp_path: Path) -> None:
    ids = seed_hostile(tmp_path / "workspace.db")
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
        # A survey answered now, its comment hostile: the customer card shows it with the conversation.
        answered = Workspace(tmp_path / "workspace.db")
        answered.record_csat(
            CsatRecord(email, Channel.EMAIL, 2, hostile(5, "comment "), time.time(), "agent0")
        )
        answered.close()
        await wait_for(lambda: email in app.store.csat_by_conversation, pilot=pilot)
        assert screen.queue.select_id(email)
        await pilot.press("enter")
        await wait_for(lambda: screen.open_id == email, pilot=pilot)
        card = screen.query_one(CustomerCard)
        await wait_for(lambda: "This contact's survey: 2/5" in str(card.render().plain), pilot=pilot)  # type: ignore[union-attr]
        await walk.check("survey on the customer card")
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
        folder = tmp_path / "saved"  # not the dialog's default ~/Downloads: the test leaves nothing behind
        await walk.press("save attachments to", "ctrl+u", *str(folder), "enter")
        await wait_for(lambda: any(f"Saved in {folder}" in n.message for n in app.said), pilot=pilot)
        await walk.check("saved notice")
        await walk.press("close", "x")
        await walk.press("close picked", "1")
        await walk.press("wallboard", "W")
        await wait_for_screen(app, "WallboardScreen", pilot)
        await wait_for(lambda: app.screen.figures is not None, pilot=pilot)  # its first figures are shown
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
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await wait_for(lambda: app.hub_ready, pilot=pilot)
        await pilot.press("P")
        await pilot.press("1")  # available
        ws.create_conversation(
            channel=Channel.PHONE,
            customer=Customer("c1", "Ann [/bold] Smith [link='http://evil.example/']x[/link]", "fr"),
            subject="call",
        )
        await wait_for(lambda: bool(app.store.conversations), pilot=pilot)
        await wait_for(lambda: any("Ann" in n.message for n in app.said), pilot=pilot)
        assert app.is_running
        notice = next(n for n in app.said if "Ann" in n.message)
        assert "[/bold]" in notice.message

        def toasts() -> list[str]:
            return [
                " ".join(t.render_line(y).text for y in range(t.size.height))
                for t in app.screen.query("Toast")
            ]

        await wait_for(lambda: any("[/bold]" in text for text in toasts()), pilot=pilot)  # drawn as typed
        assert screen_problems(drawn_lines(app.screen)) == []
    ws.close()
