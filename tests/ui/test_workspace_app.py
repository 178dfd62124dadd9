"""Pilot tests of the agent workspace over a real local workspace file."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from app_harness import Contact, make_app, row_text, seed, wait_for
from standardiste.backends.base import (
    Backend,
    Capabilities,
    Command,
    CommandKind,
    CommandResult,
    Event,
    Snapshot,
    Unavailable,
)
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Message
from standardiste.console.ui.help_screen import HelpScreen
from standardiste.console.ui.workspace_screen import WorkspaceScreen
from standardiste.widgets.queue_list import QueueList
from standardiste.widgets.status_bar import StatusBar
from textual.command import CommandPalette

SIZE = (160, 50)


def _screen(app: object) -> WorkspaceScreen:
    return app.workspace  # type: ignore[attr-defined,no-any-return]


async def _started(pilot: object, app: object, count: int) -> None:
    await wait_for(lambda: len(app.store.conversations) >= count, pilot=pilot)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_navigation_moves_the_cursor_and_enter_opens(tmp_path: Path) -> None:
    ids = seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, len(ids))
        queue = app.workspace.query_one(QueueList)
        assert queue.cursor == 0
        first = queue.cursor_id
        # The unified queue puts the ringing call first.
        assert app.store.conversations[first].channel is Channel.PHONE
        await pilot.press("j", "j")
        assert queue.cursor == 2
        await pilot.press("k")
        assert queue.cursor == 1
        await pilot.press("G")
        assert queue.cursor == len(ids) - 1
        await pilot.press("g")
        assert queue.cursor == 0
        await pilot.press("down", "enter")
        assert _screen(app).open_id == queue.cursor_id
        await pilot.press("escape")


async def test_views_one_key_away(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        screen = _screen(app)
        await pilot.press("3")
        assert screen.current == "chat"
        assert {app.store.conversations[c].channel for c in screen.views["chat"].ids()} == {Channel.CHAT}
        await pilot.press("4")
        assert {app.store.conversations[c].channel for c in screen.views["email"].ids()} == {
            Channel.EMAIL,
            Channel.FORM,
            Channel.SOCIAL,
        }
        await pilot.press("2")
        assert len(screen.views["phone"]) == 1
        await pilot.press("1")
        assert len(screen.views["all"]) == 8


async def test_filter_as_you_type(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        screen = _screen(app)
        await pilot.press("slash", *"lang:de")
        assert [app.store.conversations[c].customer_name for c in screen.views["all"].ids()] == [
            "Anna Müller"
        ]
        await pilot.press("enter")  # keep the filter, back to the list
        await pilot.press("slash", "ctrl+u", *"channel:chat")
        await pilot.pause()
        names = {app.store.conversations[c].customer_name for c in screen.views["all"].ids()}
        assert names == {"Jean Dupont", "Emma de Vries"}
        await pilot.press("escape")  # esc on the prompt clears the filter
        assert len(screen.views["all"]) == 8
        await pilot.press("slash", *"refund")
        assert [app.store.conversations[c].customer_name for c in screen.views["all"].ids()] == ["John Smith"]


async def test_command_line_runs_actions_with_completion(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        screen = _screen(app)
        await pilot.press("colon", *"view ph", "tab", "enter")
        assert screen.current == "phone"
        await pilot.press("colon", *"theme light", "enter")
        assert app.theme == "standardiste-light"
        await pilot.press("colon", *"no-such-command", "enter")
        await pilot.pause()
        assert any("Unknown command" in n.message for n in app.said)
        # Commands of the action table run too, on the screen and on the app: `:help`, `:outbox`.
        await pilot.press("colon", *"help", "enter")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot=pilot)
        await pilot.press("escape")
        await pilot.press("colon", *"outbox", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "OutboxScreen", pilot=pilot)


async def test_help_lists_the_active_keys_with_their_ids(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = {row[1] for row in app.screen.active}
        assert {"queue.down", "work.next", "work.reply", "view.filter", "call.hold"} <= ids
        await pilot.press("escape")
        assert isinstance(app.screen, WorkspaceScreen)


async def test_a_key_remapped_in_the_config_file(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    config = 'agent = "alice"\nundo_seconds = 0\nbell = false\n[keys]\n"queue.down" = "ctrl+n"\n'
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        queue = app.workspace.query_one(QueueList)
        await pilot.press("ctrl+n", "ctrl+n")
        assert queue.cursor == 2
        await pilot.press("j")  # the old key no longer moves down
        assert queue.cursor == 2


async def test_theme_switch_is_remembered_in_the_config(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, config_text='# my settings\nagent = "alice"\nbell = false\n')
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        await pilot.press("colon", *"theme high-contrast", "enter")
        await pilot.pause()
        assert app.theme == "standardiste-high-contrast"
    text = (tmp_path / "config.toml").read_text()
    assert 'theme = "standardiste-high-contrast"' in text
    assert "# my settings" in text  # the user's comments survive


async def test_live_updates_keep_the_cursor_on_its_conversation(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        queue = app.workspace.query_one(QueueList)
        await pilot.press("j", "j", "j", "j")
        chosen = queue.cursor_id
        before = queue.cursor
        # Another process: three new ringing calls, which sort above the cursor.
        seed(
            tmp_path / "workspace.db",
            [Contact(Channel.PHONE, f"Caller {i}", "en", "Help") for i in range(3)],
            now=app.clock(),
        )
        await wait_for(lambda: len(app.store.conversations) == 11, pilot=pilot)
        await pilot.pause()
        assert queue.cursor_id == chosen
        assert queue.cursor == before + 3
        status = app.workspace.query_one(StatusBar)
        assert "☎ 4" in str(status.render())


async def test_take_a_chat_answer_it_and_move_on_with_the_keyboard(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(
        db,
        [
            Contact(Channel.CHAT, "Jean Dupont", "fr", "Où est mon colis ?", age=20),
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600),
        ],
    )
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 2)
        await pilot.press("n")  # the chat comes before the email
        await wait_for(lambda: _screen(app).open_id is not None, pilot=pilot)
        chat = _screen(app).open_id
        await wait_for(lambda: app.store.conversations[chat].assignee == "alice", pilot=pilot)
        await pilot.press("r", *"Bonjour, je regarde.", "enter")
        await wait_for(lambda: _outbound(db, chat) == ["Bonjour, je regarde."], pilot=pilot)
        await pilot.press("escape", "x")  # end the chat: disposition, then an optional note
        await pilot.pause()
        await pilot.press("1")
        await pilot.press(*"colis localisé", "enter")
        await wait_for(lambda: app.store.conversations[chat].is_closed, pilot=pilot)
        await pilot.press("n")  # next: the email
        await wait_for(lambda: _screen(app).open_id not in (None, chat), pilot=pilot)
    ws = Workspace(db)
    state, assignee = ws.db.execute(
        "SELECT state, assignee FROM conversations WHERE id = ?", (int(chat.split(":")[1]),)
    ).fetchone()
    assert (state, assignee) == ("ended", "alice")
    assert [w.disposition for w in ws.wrapups()] == ["resolved"]


def _outbound(db: Path, conversation_id: str) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND direction = 'outbound' ORDER BY id",
            (int(conversation_id.split(":")[1]),),
        ).fetchall()
    return [r[0] for r in rows]


class UnreachableBackend(Backend):
    """A backend whose server cannot be reached: connect always fails, as a dead host does."""

    name = "remote"
    capabilities = Capabilities(channels=frozenset({Channel.EMAIL}), commands=frozenset({CommandKind.REPLY}))

    def __init__(self) -> None:
        self.attempts = 0

    @classmethod
    def from_config(cls, name: str, settings: Any, context: Any) -> UnreachableBackend:
        return cls()

    async def connect(self) -> None:
        self.attempts += 1
        raise Unavailable("cannot reach mail.example.invalid:993 (connection refused)")

    async def close(self) -> None:
        return None

    async def snapshot(self) -> Snapshot:
        raise AssertionError("never connected")

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        await asyncio.sleep(0)
        if False:
            yield []

    async def history(self, conversation_id: str) -> list[Message]:
        raise Unavailable("down")

    async def perform(self, command: Command) -> CommandResult:
        raise Unavailable("down")


async def test_unreachable_backend_keeps_the_console_up_and_says_so(tmp_path: Path) -> None:
    backend = UnreachableBackend()
    app = make_app(tmp_path, backend=backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            lambda: "remote" in app.store.links and app.store.links["remote"].retry_in, pilot=pilot
        )
        await pilot.pause()
        status = str(app.workspace.query_one(StatusBar).render())
        assert "remote" in status and "cannot reach" in status and "retrying in" in status
        assert app.workspace.has_class("-empty")  # the empty state, not a crash
        await pilot.press("j", "n", "question_mark")  # keys still answer
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        unsupported = app.screen.unsupported
        assert "call.hold" in unsupported and "work.reply" not in unsupported


async def test_presence_is_set_with_a_key_and_reaches_the_workspace(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(db)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        await pilot.press("P")
        await wait_for(lambda: bool(app.screen.query("OptionList")), pilot=pilot)
        labels = [str(o.prompt) for o in app.screen.query_one("OptionList").options]  # type: ignore[attr-defined]
        index = next(i for i, label in enumerate(labels) if "Away: lunch" in label)
        await pilot.press(str(index + 1))
        await wait_for(lambda: app.store.agents["alice"].presence.value == "away", pilot=pilot)
        assert "○ away (lunch)" in str(app.workspace.query_one(StatusBar).render())
        await pilot.press("n")  # away: nothing is taken, and the console says why
        await wait_for(lambda: any("You are away" in n.message for n in app.said), pilot=pilot)
        assert app.store.conversations and all(
            c.assignee != "alice" for c in app.store.conversations.values()
        )
        with contextlib.closing(sqlite3.connect(db)) as connection:
            assert connection.execute(
                "SELECT presence, presence_reason FROM agents WHERE id = 'alice'"
            ).fetchone() == ("away", "lunch")
    with contextlib.closing(sqlite3.connect(db)) as connection:  # quitting signs off
        assert connection.execute(
            "SELECT presence, presence_reason FROM agents WHERE id = 'alice'"
        ).fetchone() == ("offline", "")


async def test_sla_clocks_warn_before_and_mark_after_the_breach(tmp_path: Path) -> None:
    from app_harness import T0

    seed(tmp_path / "workspace.db")
    now = [T0]
    app = make_app(tmp_path, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        queue = app.workspace.query_one(QueueList)

        def row_of(name: str) -> str:
            view = app.workspace.views["all"]
            for i in range(len(view)):
                c = app.store.conversations[view.id_at(i)]
                if c.customer_name == name:
                    return row_text(queue, c.id)
            raise AssertionError(name)

        # A chat waited 25 s of its 30 s target: warned, 5 s left. The call waited 40 s of 20: breached.
        assert "▲5s" in row_of("Jean Dupont")
        assert "✖+20s" in row_of("Anna Müller")
        now[0] = T0 + 5  # the chat's deadline passes: it is marked at that second
        assert "✖+0s" in row_of("Jean Dupont")
        now[0] = T0 + 4.9
        assert "▲0s" in row_of("Jean Dupont")


async def test_collision_shows_who_else_is_on_it_and_taking_it_over_asks_first(tmp_path: Path) -> None:
    from standardiste.backends.local import default_agent

    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Refund", age=600)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 1)
        bob = Workspace(db)  # another agent's console, on the same file
        bob.upsert_agent(default_agent("bob", "Bob"))
        bob.claim(mail, "bob")
        bob.set_agent_activity("bob", viewing=mail, typing_in=mail)
        await wait_for(lambda: app.store.viewers(mail, besides="alice"), pilot=pilot)
        await wait_for(lambda: app.store.conversations[mail].assignee == "bob", pilot=pilot)
        app.workspace.action_view("everyone")
        queue = app.workspace.query_one(QueueList)
        assert queue.select_id(mail)
        await pilot.press("enter")
        await wait_for(lambda: _screen(app).open_id == mail, pilot=pilot)
        await pilot.pause()  # one frame: the header is drawn for the opened conversation
        assert "✎bob" in row_text(queue, mail)
        header = str(app.workspace.query_one("#detail-header").render())
        assert "Bob is typing a reply" in header
        await pilot.press("c")  # take it over: the console asks first
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmDialog", pilot=pilot)
        assert _assignee(db, mail) == "bob"  # nothing taken before the answer
        await pilot.press("y")
        await wait_for(lambda: _assignee(db, mail) == "alice", pilot=pilot)


def _assignee(db: Path, conversation_id: str) -> str | None:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT assignee FROM conversations WHERE id = ?", (int(conversation_id.split(":")[1]),)
        ).fetchone()[0]


async def test_the_command_palette_lists_the_actions(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 8)
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot=pilot)
        await pilot.press(*"hang up")
        # The palette searches in a worker: the list fills in once it has found the matches.
        await wait_for(lambda: any("Hang up" in p for p in _palette_prompts(app)), pilot=pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, WorkspaceScreen), pilot=pilot)
        await pilot.press("ctrl+p", *"theme: light")
        await wait_for(lambda: any("Theme: light" in p for p in _palette_prompts(app)), pilot=pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.theme == "standardiste-light", pilot=pilot)


def _palette_prompts(app: object) -> list[str]:
    options = app.screen.query("CommandList")  # type: ignore[attr-defined]
    return [str(option.prompt) for option in options.first().options] if options else []


async def test_a_new_call_i_can_answer_rings_and_says_who_is_calling(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path, config_text='agent = "alice"\nundo_seconds = 0\nbell = true\n')
    rings: list[None] = []
    app.bell = lambda: rings.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app, 1)
        # Alice (the default agent) speaks German, not Finnish: only the German caller rings for her.
        seed(
            db,
            [
                Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=1),
                Contact(Channel.PHONE, "Väinö Virtanen", "fi", "Paketti", age=1),
            ],
            now=time.time(),
        )
        await wait_for(lambda: len(app.store.conversations) == 3, pilot=pilot)
        await wait_for(lambda: any("is calling" in n.message for n in app.said), pilot=pilot)
        calls = [n.message for n in app.said if "is calling" in n.message]
        assert calls == ["☎ Anna Müller is calling (DE): press n or a"]
        assert len(rings) == 1


async def test_the_wallboard_is_one_key_away_for_supervisors_only(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    agent = make_app(tmp_path)
    async with agent.run_test(size=SIZE) as pilot:
        await _started(pilot, agent, 8)
        await pilot.press("W")
        await wait_for(lambda: any("for supervisors" in n.message for n in agent.said), pilot=pilot)
        assert isinstance(agent.screen, WorkspaceScreen)  # an agent does not get it
    supervisor = make_app(tmp_path, config_text='agent = "sam"\nsupervisor = true\nbell = false\n')
    async with supervisor.run_test(size=SIZE) as pilot:
        await _started(pilot, supervisor, 8)
        await pilot.press("W")
        await wait_for(lambda: supervisor.screen.__class__.__name__ == "WallboardScreen", pilot=pilot)

        def tiles() -> str:
            return " ".join(str(w.render()) for w in supervisor.screen.query("Static"))

        # The eight seeded contacts, from the console's own store, once the first tick has drawn the tiles.
        await wait_for(lambda: "waiting 8" in tiles(), pilot=pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(supervisor.screen, WorkspaceScreen), pilot=pilot)
