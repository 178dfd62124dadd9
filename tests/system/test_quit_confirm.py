"""ctrl+q and ctrl+c: quit at once when nothing is cut off; else ask, saying what, and on yes send what waits
in its undo window before leaving (not at the next start, maybe tomorrow)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for, wait_for_screen
from factories import conversation
from standardiste.backends.base import Accept, Claim, CommandKind, Reply
from standardiste.backends.local import Workspace
from standardiste.backends.local.commands import perform
from standardiste.console.core.drafts import Draft, Drafts
from standardiste.console.core.model import Channel, Conversation, State
from standardiste.console.core.outbox import EntryState
from standardiste.console.ui.dialogs import ConfirmDialog
from standardiste.console.ui.quitting import cut_off
from textual.widgets import Label

CONFIG = 'agent = "alice"\nundo_seconds = 30\nbell = false\n'
SIZE = (140, 40)


def _outbound(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return [r[0] for r in connection.execute("SELECT body FROM messages WHERE direction = 'outbound'")]


def _seed_live_chat(db: Path) -> tuple[str, str]:
    chat, email = seed(
        db,
        [
            Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=20),
            Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300),
        ],
        now=time.time(),
    )
    ws = Workspace(db)
    perform(ws, Claim(conversation_id=chat, agent_id="alice"))
    perform(ws, Accept(conversation_id=chat, agent_id="alice"))
    perform(ws, Claim(conversation_id=email, agent_id="alice"))
    ws.close()
    return chat, email


def _dialog_text(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ConfirmDialog)
    return " ".join(str(label.render()) for label in screen.query(Label))


async def test_quit_asks_when_it_would_cut_off_and_flushes_the_undo_window(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    chat, email = _seed_live_chat(db)
    app = make_app(tmp_path, config_text=CONFIG)
    app.outbox_path = tmp_path / "data" / "outbox-alice.db"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            lambda: (
                app.hub_ready
                and (c := app.store.conversations.get(chat)) is not None
                and c.state is State.ACTIVE
            ),
            pilot=pilot,
        )
        await pilot.press("ctrl+q")
        await wait_for_screen(app, ConfirmDialog, pilot)
        assert "1 live chat" in _dialog_text(app)
        await pilot.press("n")  # not now: the console carries on
        await wait_for(lambda: not isinstance(app.screen, ConfirmDialog), pilot=pilot)
        await app.workers.wait_for_complete()  # a quit, had "n" started one, would have run by now
        assert app.is_running

        app.send(Reply(conversation_id=email, body="Guten Tag"), undo=True)
        await wait_for(
            lambda: any(e.state is EntryState.SCHEDULED for e in app.outbox.pending()),  # type: ignore[union-attr]
            pilot=pilot,
        )
        await pilot.press("ctrl+c")  # the same as ctrl+q
        await wait_for_screen(app, ConfirmDialog, pilot)
        assert "1 live chat, 1 reply in its undo window" in _dialog_text(app)
        started = time.monotonic()
        await pilot.press("y")
        await wait_for(lambda: not app.is_running, timeout=10, pilot=pilot)
    # Sent on the way out, not 30 s later nor at the next start; and once.
    assert _outbound(db) == ["Guten Tag"]
    assert time.monotonic() - started < 10


async def test_quit_is_immediate_when_nothing_would_be_cut_off(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path, config_text=CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.hub_ready, pilot=pilot)
        await pilot.press("ctrl+c")
        await wait_for(lambda: not app.is_running, timeout=5, pilot=pilot)


async def test_ctrl_q_twice_quits_from_the_dialog(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    chat, _ = _seed_live_chat(db)
    app = make_app(tmp_path, config_text=CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.hub_ready and chat in app.store.conversations, pilot=pilot)
        await wait_for(
            lambda: getattr(app.store.conversations.get(chat), "state", None) is State.ACTIVE, pilot=pilot
        )
        await pilot.press("ctrl+q")
        await wait_for_screen(app, ConfirmDialog, pilot)
        await pilot.press("ctrl+q")
        await wait_for(lambda: not app.is_running, timeout=5, pilot=pilot)


def _conversation(cid: str, channel: Channel, state: State, assignee: str | None) -> Conversation:
    return conversation(cid, channel, state, assignee=assignee)


def test_what_quitting_cuts_off_in_words() -> None:
    items = [
        _conversation("local:1", Channel.CHAT, State.ACTIVE, "me"),
        _conversation("local:2", Channel.CHAT, State.WAITING, "me"),
        _conversation("local:3", Channel.CHAT, State.WRAP_UP, "me"),  # the customer has gone
        _conversation("local:4", Channel.CHAT, State.ACTIVE, "bob"),
        _conversation("local:5", Channel.PHONE, State.ON_HOLD, "me"),
        _conversation("local:6", Channel.EMAIL, State.OPEN, "me"),
    ]
    assert cut_off(items, "me", []) == "2 live chats, 1 call in progress"
    held = [CommandKind.REPLY, CommandKind.REPLY, CommandKind.NOTE]
    assert cut_off(items[5:], "me", held) == "2 replies in their undo window, 1 note in its undo window"
    assert cut_off(items[2:4] + items[5:], "me", []) == ""
    assert cut_off([], "me", [], unsaved_drafts=2) == "2 drafts not saved"


def test_ctrl_c_in_a_real_terminal_asks_then_sends_the_held_reply(tmp_path: Path) -> None:
    """Through a pty, as the agent's terminal sends it: ctrl+c is a key (raw mode), not SIGINT."""
    from test_console_crash import Console, _journalled, _wait

    db = tmp_path / "workspace.db"
    seed(db, [Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300)], now=time.time())
    (tmp_path / "config.toml").write_text(CONFIG)
    console = Console(tmp_path, db)
    try:
        console.read_until(b"Rechnung")
        console.type("\rr")
        console.type("Guten Tag")
        console.type("\x13")  # ctrl+s: held 30 s in its undo window
        _wait(lambda: _journalled(tmp_path) == 1)  # (on a loaded machine the send takes a moment)
        console.type("\x03")  # ctrl+c
        console.read_until(b"undo window", timeout=10)
        assert console.process.poll() is None
        assert _outbound(db) == []
        console.type("y")
        console.process.wait(timeout=15)
    finally:
        if console.process.poll() is None:
            console.kill()
    _wait(lambda: _outbound(db) == ["Guten Tag"], timeout=2)  # sent on the way out, once


async def test_quit_asks_before_losing_a_draft_a_full_disk_kept_in_memory(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    (email,) = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path, config_text=CONFIG)
    app.drafts_path = tmp_path / "data" / "drafts-alice.db"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.hub_ready and app.draft_keeper.drafts is not None, pilot=pilot)
        drafts = app.draft_keeper.drafts
        assert drafts is not None
        drafts.unwritten.pending[email] = Draft(email, "Dear John, space is short")  # refused by the disk
        await pilot.press("ctrl+q")
        await wait_for_screen(app, ConfirmDialog, pilot)
        assert "1 draft not saved" in _dialog_text(app)
        await pilot.press("y")  # the last try at writing it finds space
        await wait_for(lambda: not app.is_running, timeout=10, pilot=pilot)
    with Drafts(tmp_path / "data" / "drafts-alice.db") as again:
        kept = again.load(email)
        assert kept is not None and kept.body == "Dear John, space is short"
