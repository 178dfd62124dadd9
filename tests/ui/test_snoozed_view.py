"""Snoozed items are not lost: the snoozed view (8) and `state:snoozed` show them, with their wake time."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import T0, make_app, seed, wait_for
from factories import conversation
from standardiste.backends.base import Snapshot
from standardiste.console.core.model import Channel, Conversation, State
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.core.store import Store
from standardiste.console.core.views import VIEW_SCOPES, ViewSet
from standardiste.widgets.queue_list import QueueList
from textual.widgets import Static


def _mail(index: int, snoozed_until: float | None = None) -> Conversation:
    return conversation(
        index, Channel.EMAIL, State.OPEN, subject="Where is my parcel", customer_name="Anna Müller",
        language="de", created_at=T0 - 600, snoozed_until=snoozed_until,
    )  # fmt: skip


def _views(conversations: list[Conversation]) -> tuple[ViewSet, Store]:
    store = Store()
    store.load(Snapshot(conversations=conversations))
    views = ViewSet({n: scope for n, (_, scope) in VIEW_SCOPES.items()}, me="alice", sla=SlaPolicy())
    views.rebuild(store.conversations, T0)
    return views, store


def test_the_snoozed_view_holds_what_the_others_hide_until_it_wakes() -> None:
    views, store = _views([_mail(1, snoozed_until=T0 + 3600), _mail(2)])
    assert views["all"].ids() == ["local:2"]
    assert views["snoozed"].ids() == ["local:1"]
    assert views["snoozed"].next_wake == T0 + 3600
    all_view = views["all"]
    all_view.set_filter("state:snoozed", store.conversations.values(), T0)
    assert all_view.ids() == ["local:1"] and not all_view.filter.errors
    all_view.set_filter("state:snoozed state:open", store.conversations.values(), T0)
    assert sorted(all_view.ids()) == ["local:1", "local:2"]
    # Awake, it is back in the queue and out of the snoozed view.
    views.rebuild(store.conversations, T0 + 3601)
    assert views["snoozed"].ids() == []
    assert "local:1" in views["all"].ids()


async def test_a_snoozed_mail_shows_in_view_8_with_its_wake_time(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        screen = app.workspace
        await pilot.press("8")
        await pilot.pause()
        assert "Nothing snoozed" in screen.query_one("#empty", Static).render().plain  # type: ignore[union-attr]
        await pilot.press("4")  # the inbox; snooze the first mail for an hour
        await pilot.pause()
        queue = screen.query_one(QueueList)
        target = queue.cursor_id
        screen.run_command_line("snooze 1h")
        await wait_for(lambda: app.store.conversations[target].snoozed_until is not None, pilot=pilot)
        await wait_for(lambda: target not in screen.views["email"].ids(), pilot=pilot)  # out of the inbox
        await pilot.press("8")
        await pilot.pause()
        assert screen.current == "snoozed" and queue.cursor_id == target
        row = queue.render_line(0).text
        wake = time.strftime("%H:%M", time.localtime(app.store.conversations[target].snoozed_until))
        assert f"zz {wake}" in row
