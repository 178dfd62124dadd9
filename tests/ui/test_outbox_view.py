"""Nothing unsent is silent: the status line counts it, the outbox view (O, :outbox) lists it with its error
and next try, and the agent can retry it now, take it back into the composer, or discard it."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from app_harness import Contact, make_app, seed, stays, wait_for, wait_for_screen
from standardiste.backends.base import Command, CommandKind, CommandResult, Unavailable
from standardiste.backends.local import LocalBackend
from standardiste.console.core.model import Channel
from standardiste.console.core.outbox import EntryState
from standardiste.console.ui.dialogs import ConfirmDialog
from standardiste.console.ui.help_screen import HelpScreen
from standardiste.console.ui.outbox_screen import OutboxScreen
from standardiste.widgets.composer import Composer
from standardiste.widgets.status_bar import StatusBar
from textual.widgets import DataTable

SIZE = (160, 40)
# How long a send that must not happen is watched for: the outbox retries after 0.25-0.5 s, then 0.5-1 s
# (base_delay 0.5 with jitter), so a wrong resend would show in this time.
PAST_TWO_RETRIES = 1.5


class SmtpDown(LocalBackend):
    """The local workspace, except that replies fail as with the mail server unreachable, until `up`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.down = True
        self.refused = 0

    async def perform(self, command: Command) -> CommandResult:
        if self.down and command.kind is CommandKind.REPLY:
            self.refused += 1
            raise Unavailable("smtp.example.com:587: connection refused")
        return await super().perform(command)


def _outbound(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return [r[0] for r in connection.execute("SELECT body FROM messages WHERE direction = 'outbound'")]


def _status(app: Any) -> str:
    return str(app.workspace.query_one(StatusBar).render())


async def _reply(pilot: Any, app: Any, cid: str, text: str) -> None:
    await wait_for(lambda: cid in app.store.conversations and app.outbox is not None, pilot=pilot)
    app.workspace.action_view("everyone")
    assert app.workspace.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: app.workspace.open_id == cid, pilot=pilot)
    await pilot.press("r", *text, "ctrl+s")


def _cells(screen: OutboxScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def _setup(tmp_path: Path) -> tuple[Any, SmtpDown, Path, str]:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John \x1b[31mSmith", "en", "Invoice [b]request[/b]", age=600)])
    backend = SmtpDown(db, agent_id="alice")
    return make_app(tmp_path, backend=backend), backend, db, mail


async def test_smtp_down_is_counted_listed_and_retried_now_once(tmp_path: Path) -> None:
    app, backend, db, mail = await _setup(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _reply(pilot, app, mail, "Dear John, it is attached")
        await wait_for(lambda: backend.refused >= 1, pilot=pilot)
        await wait_for(lambda: "1 unsent: 1 retrying" in _status(app), pilot=pilot)
        await pilot.press("O")
        screen = app.screen
        assert isinstance(screen, OutboxScreen)
        [row] = _cells(screen)
        assert row[0] == "retrying"
        assert "Smith — Invoice [b]request[/b]" in row[1] and "\x1b" not in row[1]  # sanitised, not markup
        assert row[2] == "reply: Dear John, it is attached"
        assert row[3] == "Unavailable: smtp.example.com:587: connection refused"
        assert row[4].startswith("in ") or row[4] == "now"
        backend.down = False  # the mail server is back
        await pilot.press("r")
        await wait_for(lambda: _outbound(db) == ["Dear John, it is attached"], pilot=pilot)
        await wait_for(lambda: _cells(screen) == [], pilot=pilot)
        await pilot.press("escape")
        await wait_for(lambda: "unsent" not in _status(app), pilot=pilot)
        await stays(lambda: _outbound(db) == ["Dear John, it is attached"], PAST_TWO_RETRIES, pilot)  # once


async def test_edit_takes_it_back_into_the_composer_and_discard_asks_first(tmp_path: Path) -> None:
    app, backend, db, mail = await _setup(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _reply(pilot, app, mail, "Dear Jhon")
        await wait_for(lambda: backend.refused >= 1, pilot=pilot)
        await pilot.press("O")
        assert isinstance(app.screen, OutboxScreen)
        [entry] = app.outbox.pending()
        await pilot.press("e")
        composer = app.workspace.query_one(Composer)
        await wait_for(lambda: composer.is_open and not isinstance(app.screen, OutboxScreen), pilot=pilot)
        assert composer.text_area.text == "Dear Jhon"
        assert app.outbox.pending() == []  # withdrawn, and its draft is on disk
        with contextlib.closing(sqlite3.connect(tmp_path / "drafts.db")) as connection:
            assert connection.execute("SELECT body, reply_key FROM drafts").fetchall() == [
                ("Dear Jhon", entry.key)
            ]
        composer.text_area.load_text("Dear John")
        await pilot.press("ctrl+s")
        await wait_for(lambda: len(app.outbox.pending()) == 1, pilot=pilot)
        [again] = app.outbox.pending()
        assert again.key == entry.key and again.command.body == "Dear John"  # same key: once at most

        # Discard: asked first; "n" keeps it, "y" drops it.
        await pilot.press("escape")
        await wait_for(lambda: not composer.is_open, pilot=pilot)
        await pilot.press("O")
        await wait_for_screen(app, OutboxScreen, pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await wait_for_screen(app, OutboxScreen, pilot)
        await app.workers.wait_for_complete()  # a discard, had "n" started one, would be done by now
        assert len(app.outbox.pending()) == 1
        await pilot.press("d")
        await pilot.press("y")
        await wait_for(lambda: app.outbox.pending() == [], pilot=pilot)
        backend.down = False  # the server is back: the discarded reply must not go out all the same
        await stays(lambda: _outbound(db) == [], PAST_TWO_RETRIES, pilot)
    with contextlib.closing(sqlite3.connect(tmp_path / "outbox.db")) as connection:
        assert connection.execute("SELECT state FROM entries").fetchall() == [(EntryState.CANCELLED.value,)]


async def test_a_forward_without_recipient_is_refused_at_once(tmp_path: Path) -> None:
    app, _, _, mail = await _setup(tmp_path)
    said: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        original = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            said.append(message)
            original(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]
        await wait_for(lambda: mail in app.store.conversations and app.outbox is not None, pilot=pilot)
        app.workspace.action_view("everyone")
        assert app.workspace.queue.select_id(mail)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace.open_id == mail, pilot=pilot)
        await pilot.press("f", *"see below", "ctrl+s")
        await wait_for(lambda: any("needs a recipient" in text for text in said), pilot=pilot)
        composer = app.workspace.query_one(Composer)
        assert composer.is_open and composer.text_area.text == "see below"
        assert app.outbox.pending() == []


async def test_the_outbox_is_in_the_palette_and_the_commands_and_remappable(tmp_path: Path) -> None:
    config = 'agent = "alice"\nundo_seconds = 0\nbell = false\n[keys]\n"app.outbox" = "f9"\n'
    seed(tmp_path / "workspace.db", [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.outbox is not None, pilot=pilot)
        await pilot.press("f9")
        assert isinstance(app.screen, OutboxScreen)
        await pilot.press("escape")
        # `:outbox` is in the command table (BY_NAME) too; the command line does not await table actions
        # yet (workspace_screen.run_command_line), so it is not pressed here.
        assert "outbox" in app.command_completions()
        titles = [command.title for command in app.get_system_commands(app.workspace)]
        assert "Outbox" in titles
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot=pilot)
        assert ("f9", "app.outbox") in [(keys, binding_id) for keys, binding_id, *_ in app.screen.active]
