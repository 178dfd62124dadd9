"""The queue list owns its marks (tag-then-act): the screen reads them, never shares or mutates the set, and
hears of each change through `MarksChanged`, whose `control` is the list."""

from __future__ import annotations

from app_harness import T0
from factories import conversation
from standardiste.backends.base import Snapshot
from standardiste.console.core.model import Channel, State
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.core.store import Store
from standardiste.console.core.views import VIEW_SCOPES, ViewSet
from standardiste.widgets.queue_list import QueueList
from textual.app import App, ComposeResult


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.store = Store()
        self.store.load(Snapshot(conversations=[conversation(n, Channel.EMAIL, State.OPEN) for n in (1, 2, 3)]))
        self.views = ViewSet({n: scope for n, (_, scope) in VIEW_SCOPES.items()}, me="alice", sla=SlaPolicy())
        self.views.rebuild(self.store.conversations, T0)
        self.heard: list[QueueList.MarksChanged] = []

    def compose(self) -> ComposeResult:
        yield QueueList(self.store, self.views["all"], me="alice", sla=SlaPolicy(), clock=lambda: T0)

    def on_queue_list_marks_changed(self, message: QueueList.MarksChanged) -> None:
        self.heard.append(message)


async def test_marks_belong_to_the_list_and_each_change_is_told() -> None:
    app = Host()
    async with app.run_test() as pilot:
        queue = app.query_one(QueueList)
        queue.toggle_mark("local:2")
        queue.toggle_mark("local:1")
        queue.toggle_mark("local:2")
        await pilot.pause()
        assert queue.marked == frozenset({"local:1"})
        assert len(app.heard) == 3 and all(m.control is queue for m in app.heard)
        assert not hasattr(queue.marked, "add")  # a read-only view: nobody else changes the list's marks
        queue.toggle_mark("local:3")
        assert queue.take_marks() == ["local:1", "local:3"]  # in order, and spent
        assert queue.marked == frozenset()
        assert queue.clear_marks() is False
