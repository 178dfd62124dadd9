"""Storage errors with a monkeypatched failure, for each code path (tests/system/test_full_disk.py does it on a real
full file system): said in the status line, never a crash, cleared once writes work again."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.base import Unavailable, Viewing
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.drafts import Drafts
from standardiste.console.core.model import Channel
from standardiste.console.core.storage import StorageTrouble, storage_problem
from standardiste.console.core.unwritten import DraftsUnwritable
from standardiste.widgets.status_bar import StatusBar

FULL = "database or disk is full"


def _full(*_args: object, **_kwargs: object) -> None:
    raise sqlite3.OperationalError(FULL)


def test_storage_problems_are_told_apart_from_bugs() -> None:
    assert storage_problem(sqlite3.OperationalError(FULL)) == "disk full"
    assert storage_problem(OSError(errno.ENOSPC, "No space left on device")) == "disk full"
    assert storage_problem(sqlite3.OperationalError("attempt to write a readonly database")) == "read-only"
    try:
        try:
            raise sqlite3.OperationalError("disk I/O error")
        except sqlite3.OperationalError as inner:
            raise Unavailable("the workspace file ws.db: disk I/O error") from inner
    except Unavailable as outer:
        assert storage_problem(outer) == "I/O error"  # through the cause
    assert storage_problem(sqlite3.OperationalError("no such table: drafts")) is None
    assert storage_problem(ValueError("bug")) is None
    trouble = StorageTrouble()
    assert trouble.report("workspace", sqlite3.OperationalError(FULL))
    assert not trouble.report("drafts", KeyError("x"))
    assert trouble.summary() == "⚠ not saved: workspace (disk full), retrying"
    trouble.clear("workspace")
    assert trouble.summary() == "" and not trouble


async def test_a_full_workspace_file_is_a_typed_error_and_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "ws.db"
    (email,) = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice")])
    backend = LocalBackend(db, agent_id="alice")
    told: list[BaseException | None] = []
    backend.on_write_trouble = told.append
    await backend.connect()
    try:
        monkeypatch.setattr(Workspace, "set_agent_activity", _full)
        with pytest.raises(Unavailable, match="disk is full"):
            await backend.perform(Viewing(conversation_id=email))
        assert len(told) == 1 and storage_problem(told[0]) == "disk full"
        monkeypatch.undo()
        await backend.perform(Viewing(conversation_id=email))
        assert told[1:] == [None]  # writes work again: said once
        await backend.perform(Viewing(conversation_id=email))
        assert len(told) == 2
    finally:
        await backend.close()


async def test_the_console_carries_on_when_the_workspace_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "workspace.db"
    seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600),
            Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300),
        ],
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(lambda: app.hub_ready and len(app.store.conversations) == 2, pilot=pilot)
        monkeypatch.setattr(Workspace, "set_agent_activity", _full)
        await pilot.press("enter", "j", "enter", "k", "enter")  # each open writes "viewing": it fails
        await wait_for(lambda: app.storage.has("workspace"), pilot=pilot)
        status = app.workspace.query_one(StatusBar)
        # The status line is redrawn every second; the three "viewing" writes are workers.
        await wait_for(lambda: "not saved: workspace (disk full)" in str(status.render()), pilot=pilot)
        await app.workers.wait_for_complete()
        assert app.is_running
        toasts = [n.message for n in app.said if "cannot be written" in n.message]
        assert len(toasts) == 1  # said once, then in the status line: not a toast per key
        monkeypatch.undo()
        await pilot.press("j", "enter")
        await wait_for(lambda: not app.storage.has("workspace"), pilot=pilot)


class _Disk:
    """The drafts file's connection with a switch: while `full`, writes fail as SQLite fails on a full disk."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.full = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.full and sql.lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE")):
            raise sqlite3.OperationalError(FULL)
        return self.connection.execute(sql, *args)

    def close(self) -> None:
        self.connection.close()


def _drafts(path: Path) -> tuple[Drafts, _Disk]:
    drafts = Drafts(path)
    # Drafts takes no connection from outside: its own one is wrapped to fail as a full disk does.
    disk = _Disk(drafts._db)  # type: ignore[arg-type]
    drafts._db = disk  # type: ignore[assignment]
    return drafts, disk


def test_a_draft_refused_by_a_full_disk_stays_in_memory_and_is_written_when_space_returns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "drafts.db"
    drafts, disk = _drafts(path)
    drafts.save("local:1", "kept on disk", key="k1")
    disk.full = True
    with pytest.raises(DraftsUnwritable) as refused:
        drafts.save("local:2", "Dear John, space is short", key="k2")
    assert refused.value.problem == "disk full"
    assert storage_problem(refused.value) == "disk full"
    loaded = drafts.load("local:2")
    assert loaded is not None and loaded.body == "Dear John, space is short"  # what the agent typed
    assert [d.conversation_id for d in drafts.all()] == ["local:2", "local:1"]
    with pytest.raises(DraftsUnwritable):
        drafts.save("local:2", "Dear John, space is short. Newer", key="k2")  # the latest version is kept
    with pytest.raises(DraftsUnwritable):
        drafts.discard("local:1")  # thrown away: gone for the console now, from the file later
    assert drafts.load("local:1") is None
    assert drafts.flush() == 2  # still full
    disk.full = False
    assert drafts.flush() == 0
    drafts.close()
    with Drafts(path) as again:
        assert [(d.conversation_id, d.body, d.key) for d in again.all()] == [
            ("local:2", "Dear John, space is short. Newer", "k2")
        ]


def test_removing_a_sent_draft_leaves_a_newer_unwritten_one(tmp_path: Path) -> None:
    drafts, disk = _drafts(tmp_path / "drafts.db")
    drafts.save("local:1", "first reply", key="old")
    disk.full = True
    with pytest.raises(DraftsUnwritable):
        drafts.save("local:1", "a newer reply", key="new")
    disk.full = False
    assert drafts.discard("local:1", key="old")  # the sent one goes from the file...
    newer = drafts.load("local:1")
    assert newer is not None and newer.body == "a newer reply"  # ...the newer one stays, still to write
    assert drafts.flush() == 0
    drafts.close()


def test_a_bug_is_not_taken_for_a_full_disk(tmp_path: Path) -> None:
    drafts, disk = _drafts(tmp_path / "drafts.db")

    def broken(sql: str, *args: object) -> sqlite3.Cursor:
        raise sqlite3.OperationalError("no such table: drafts")

    disk.execute = broken  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        drafts.save("local:1", "text")
    assert len(drafts.unwritten) == 0


async def test_a_journal_refused_by_a_full_disk_is_in_the_status_line_until_a_send_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from standardiste.backends.base import Reply
    from standardiste.console.core import outbox

    db = tmp_path / "workspace.db"
    (email,) = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path)
    app.outbox_path = tmp_path / "data" / "outbox-alice.db"
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(lambda: app.hub_ready and app.outbox is not None, pilot=pilot)
        monkeypatch.setattr(outbox.Journal, "insert", _full)
        app.send(Reply(conversation_id=email, body="Dear John"))
        await wait_for(lambda: app.storage.has("outbox"), pilot=pilot)
        status = app.workspace.query_one(StatusBar)
        await wait_for(lambda: "not saved: outbox (disk full)" in str(status.render()), pilot=pilot)
        assert app.is_running
        monkeypatch.undo()
        app.send(Reply(conversation_id=email, body="Dear John"))
        await wait_for(lambda: not app.storage.has("outbox"), pilot=pilot)


async def test_a_heartbeat_that_cannot_open_the_file_says_so_and_tries_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from standardiste.backends.local import sessions

    db = tmp_path / "ws.db"
    seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice")])
    opened: list[Path] = []

    def full_once(path: Path, **options: Any) -> Workspace:
        opened.append(path)
        if len(opened) == 1:
            raise sqlite3.OperationalError(FULL)
        return Workspace(path)

    monkeypatch.setattr(sessions, "Workspace", full_once)
    told: list[BaseException | None] = []
    heartbeat = sessions.Heartbeat(
        db, sessions.Session.new("anna"), every=0.05, gone_after=1.0, on_error=told.append
    )
    await heartbeat.start()  # does not raise: the console connects all the same
    assert storage_problem(told[0]) == "disk full"
    for _ in range(100):
        if told[-1] is None:
            break
        await asyncio.sleep(0.05)
    assert told[-1] is None  # the next beat opened the file and wrote my row
    ws = Workspace(db)
    assert sessions.live_sessions(ws, "anna") == 1
    await heartbeat.stop()
    assert sessions.live_sessions(ws, "anna") == 0
    ws.close()
