"""An outbox entry reaches only the workspace it was written for.

The journal is per agent (one file in the user data dir), and two workspaces both have a `local:1`: a reply
queued in one must never be delivered to the other's customer. It waits, listed, until its own workspace
is open again.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from app_harness import Contact, seed, stays, wait_for
from standardiste.backends.base import Command, CommandResult, Reply
from standardiste.backends.local import LocalBackend
from standardiste.console.core import command_codec
from standardiste.console.core.config import load_config
from standardiste.console.core.model import Channel
from standardiste.console.core.outbox import UNKNOWN_WORKSPACE, EntryState, NoWorkspace, Outbox
from standardiste.console.ui.app import StandardisteApp
from standardiste.widgets.status_bar import StatusBar

SIZE = (140, 40)
CONFIG = 'agent = "olga"\nname = "Olga"\nundo_seconds = 5\nbell = false\n'
# Three rounds of the outbox's dispatcher (every 0.5 s): a reply for the wrong workspace would go out in them.
DISPATCHER_ROUNDS = 1.5


def _outbound(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return [r[0] for r in connection.execute("SELECT body FROM messages WHERE direction = 'outbound'")]


def _app(tmp_path: Path, db: Path, config_text: str = CONFIG) -> StandardisteApp:
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text, encoding="utf-8")
    config = load_config(config_path)
    # One outbox and one drafts file for the agent, whatever workspace is open: as __main__ does.
    return StandardisteApp(
        config,
        [LocalBackend(db, agent_id=config.agent_id)],
        drafts_path=tmp_path / "data" / "drafts-olga.db",
        outbox_path=tmp_path / "data" / "outbox-olga.db",
    )


async def test_a_reply_queued_in_one_workspace_never_reaches_another(tmp_path: Path) -> None:
    team, other = tmp_path / "team.db", tmp_path / "other.db"
    [mail] = seed(team, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600)])
    [same_id] = seed(other, [Contact(Channel.EMAIL, "Ines Ortega", "es", "Otra consulta", age=600)])
    assert mail == same_id == "local:1"  # the collision the journal must not fall for

    app = _app(tmp_path, team)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: mail in app.store.conversations and app.outbox is not None, pilot=pilot)
        app.workspace.action_view("everyone")
        assert app.workspace.queue.select_id(mail)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace.open_id == mail, pilot=pilot)
        await pilot.press("r", *"Dear John, here it is", "ctrl+s")
        await wait_for(lambda: app.outbox is not None and len(app.outbox.pending()) == 1, pilot=pilot)
    # Quit inside the undo window: journalled, not sent.
    assert _outbound(team) == []

    app = _app(tmp_path, other)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: same_id in app.store.conversations and app.outbox is not None, pilot=pilot)
        outbox = app.outbox
        assert outbox is not None
        [entry] = outbox.pending()
        # Past its undo window, then a few dispatcher rounds: Ines never gets John's reply.
        await wait_for(lambda: time.time() > entry.due_at, timeout=10, pilot=pilot)
        await stays(lambda: _outbound(other) == [], DISPATCHER_ROUNDS, pilot)
        [entry] = outbox.pending()
        assert outbox.waiting_for_workspace(entry) and entry.state is EntryState.SCHEDULED
        status = str(app.workspace.query_one(StatusBar).render())
        assert "1 unsent: 1 for another workspace" in status

    # Back in the right workspace, it goes out, once.
    app = _app(tmp_path, team)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: _outbound(team) == ["Dear John, here it is"], timeout=10, pilot=pilot)
        await wait_for(lambda: app.outbox is not None and not app.outbox.pending(), pilot=pilot)
    assert _outbound(team) == ["Dear John, here it is"] and _outbound(other) == []


async def test_the_workspace_id_lives_in_the_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    seed(first, [Contact(Channel.EMAIL, "A", "en", "a")])
    seed(second, [Contact(Channel.EMAIL, "B", "en", "b")])
    ids: list[str] = []
    for path in (first, second, first):
        backend = LocalBackend(path, agent_id="olga", poll_interval=60.0)
        assert backend.workspace_id == ""  # not known before it is open
        await backend.connect()
        ids.append(backend.workspace_id)
        await backend.close()
    assert ids[0] == ids[2] != ids[1] and ids[0].startswith("local:")
    moved = tmp_path / "elsewhere" / "renamed.db"
    moved.parent.mkdir()
    shutil.move(first, moved)
    backend = LocalBackend(moved, agent_id="olga", poll_interval=60.0)
    await backend.connect()
    assert backend.workspace_id == ids[0]  # a moved file is the same workspace
    await backend.close()


async def test_rows_of_an_older_journal_are_held_not_guessed(tmp_path: Path) -> None:
    """A version-1 journal has no workspace column: its unsent rows are FAILED with a message, not sent,
    until the agent retries one in the workspace it belongs to."""
    path = tmp_path / "outbox.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            conversation_id TEXT NOT NULL, command TEXT NOT NULL, state TEXT NOT NULL,
            created_at REAL NOT NULL, due_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL
        );
        """
    )
    command = Reply(conversation_id="local:1", body="old reply", key="k-old")
    db.execute(
        "INSERT INTO entries (key, kind, conversation_id, command, state, created_at, due_at, updated_at) "
        "VALUES ('k-old', 'reply', 'local:1', ?, 'scheduled', 0, 0, 0)",
        (command_codec.dumps(command),),
    )
    db.commit()
    db.close()

    sent: list[Command] = []

    async def send(command: Command) -> CommandResult:
        sent.append(command)
        return CommandResult(True)

    async with Outbox(path, send, where=lambda c: "local:here") as outbox:
        [entry] = outbox.pending()
        assert entry.state is EntryState.FAILED and entry.error == UNKNOWN_WORKSPACE
        await asyncio.sleep(1.5)  # a dispatcher round or more: held rows are not attempted
        assert sent == []
        assert await outbox.retry(entry.id)  # the agent says: it is for the workspace open now
        done = await outbox.wait(entry.id, timeout=10)
    assert done.state is EntryState.DONE and done.workspace == "local:here"
    assert [c.key for c in sent] == ["k-old"]
    with contextlib.closing(sqlite3.connect(path)) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == 2


async def test_submit_is_refused_when_the_workspace_has_no_identity(tmp_path: Path) -> None:
    async def send(command: Command) -> CommandResult:
        raise AssertionError("never sent")

    async with Outbox(tmp_path / "outbox.db", send, where=lambda c: "") as outbox:
        with pytest.raises(NoWorkspace):
            await outbox.submit(Reply(conversation_id="local:1", body="x"))
        assert outbox.pending() == []


def test_an_imap_workspace_is_its_mailbox(tmp_path: Path) -> None:
    from standardiste.backends.imap.adapter import ImapBackend
    from standardiste.backends.imap.settings import parse_settings

    def mailbox(name: str, **settings: object) -> ImapBackend:
        values = {"host": "imap.example.com", "user": "support@shop.example", **settings}
        return ImapBackend(
            name, parse_settings(name, values), agent_id="olga", data_dir=tmp_path, secret=lambda: "x"
        )

    same = mailbox("mail").workspace_id
    assert same == mailbox("other-name", host="IMAP.example.com").workspace_id  # the name is only a prefix
    assert same != mailbox("mail", user="sales@shop.example").workspace_id
    assert same != mailbox("mail", port=1993).workspace_id
    assert same != mailbox("mail", host="imap.other.example").workspace_id
    assert same != mailbox("mail", inbox="Support").workspace_id
