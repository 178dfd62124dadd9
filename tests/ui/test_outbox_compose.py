"""From the composer to the journal: the draft goes only once the reply is journalled."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel

SIZE = (140, 40)


def _drafts(tmp_path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(tmp_path / "drafts.db")) as connection:
        return [r[0] for r in connection.execute("SELECT body FROM drafts")]


async def _open(pilot: Any, app: Any, cid: str) -> None:
    await wait_for(lambda: cid in app.store.conversations and app.outbox is not None, pilot=pilot)
    app.workspace.action_view("everyone")
    assert app.workspace.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: app.workspace.open_id == cid, pilot=pilot)


async def test_a_reply_the_journal_refuses_stays_a_draft_and_the_agent_is_told(tmp_path: Path) -> None:
    [mail] = seed(tmp_path / "workspace.db", [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path)
    said: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, mail)
        original_notify = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            said.append(message)
            original_notify(message, **kwargs)

        async def full_disk(*args: Any, **kwargs: Any) -> int:
            raise sqlite3.OperationalError("database or disk is full")

        app.notify = notify  # type: ignore[method-assign]
        assert app.outbox is not None
        app.outbox.submit = full_disk  # type: ignore[method-assign]
        await pilot.press("r", *"Dear John, it is attached", "ctrl+s")
        await wait_for(lambda: any("Not sent" in text for text in said), pilot=pilot)
        # The draft is written by the drafts thread: on disk a moment after the refusal is said.
        await wait_for(lambda: _drafts(tmp_path) == ["Dear John, it is attached"], pilot=pilot)
        assert any("kept as a draft" in text for text in said)


async def test_the_sent_draft_goes_once_journalled_and_is_not_offered_again(tmp_path: Path) -> None:
    [mail] = seed(tmp_path / "workspace.db", [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path, config_text='agent = "alice"\nundo_seconds = 30\nbell = false\n')
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, mail)
        await pilot.press("r", *"Dear John, it is attached", "ctrl+s")
        await wait_for(lambda: app.outbox is not None and len(app.outbox.pending()) == 1, pilot=pilot)
        await wait_for(lambda: _drafts(tmp_path) == [], pilot=pilot)
        [entry] = app.outbox.pending()  # type: ignore[union-attr]
    # A draft left behind by a console killed after journalling (same key): removed at the next start.
    with contextlib.closing(sqlite3.connect(tmp_path / "drafts.db")) as connection:
        connection.execute(
            "INSERT INTO drafts (conversation_id, kind, body, to_addrs, cc_addrs, bcc_addrs, subject, updated_at, "
            "reply_key) VALUES (?, 'reply', 'Dear John, it is attached', '[]', '[]', '[]', '', 1.0, ?)",
            (mail, entry.key),
        )
        connection.commit()
    app = make_app(tmp_path, config_text='agent = "alice"\nundo_seconds = 30\nbell = false\n')
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.hub_ready, pilot=pilot)
        await wait_for(lambda: _drafts(tmp_path) == [], pilot=pilot)
