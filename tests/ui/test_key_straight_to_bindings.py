"""A key whose trip through the widgets could change nothing goes straight to the bindings (issue 16).

Textual forwards a key to the focused widget and lets it bubble up, one message hop per widget, before the
app checks the bindings: half a millisecond of each key's 3 ms at 100k. The order keeper skips the trip
when no widget on the way handles keys itself and none is busy; otherwise the key travels as before (the
type-ahead tests in a real pty cover what travelling keeps right).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from app_harness import T0, make_app, seed, wait_for
from standardiste.console.ui.key_order import at_rest, keys_go_to_bindings
from standardiste.widgets.composer import ComposerText
from standardiste.widgets.prompt_line import PromptLine
from standardiste.widgets.queue_list import QueueList
from textual import events, on
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    on_key = Widget._on_key

    async def counting(self: Widget, event: events.Key) -> None:
        seen.append(type(self).__name__)
        await on_key(self, event)

    monkeypatch.setattr(Widget, "_on_key", counting)
    return seen


async def test_moving_through_the_list_skips_the_trip_and_typing_in_the_prompt_does_not(
    tmp_path: Path, hops: list[str]
) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.pause(0.3)
        queue = app.workspace.queue
        await pilot.press("j")
        await pilot.pause()
        assert queue.cursor == 1  # the binding ran
        assert hops == []  # without visiting a widget
        await pilot.press("slash", "d", "e")
        await pilot.pause()
        prompt = app.workspace.query_one(PromptLine)
        assert prompt.value == "de"  # the prompt handles keys itself: they went to it


def test_a_widget_that_handles_keys_gets_them() -> None:
    class WithKeyMethod(Static):
        def key_x(self) -> None:
            pass

    class WithDecoratedHandler(Static):
        @on(events.Key)
        def seen(self, event: events.Key) -> None:
            pass

    assert keys_go_to_bindings(QueueList, ("j",))
    assert not keys_go_to_bindings(PromptLine, ("j",))  # an Input: its own _on_key
    assert not keys_go_to_bindings(ComposerText, ("j",))  # a TextArea with its own _on_key
    assert not keys_go_to_bindings(WithKeyMethod, ("x",))
    assert keys_go_to_bindings(WithKeyMethod, ("y",))
    assert not keys_go_to_bindings(WithDecoratedHandler, ("y",))


class Nudge(Message):
    pass


async def test_a_widget_with_a_message_waiting_is_not_at_rest(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.pause(0.3)
        queue: Any = app.workspace.queue
        assert at_rest(queue) and at_rest(app.workspace)
        queue.post_message(Nudge())
        assert not at_rest(queue)  # the key would have queued behind it
        await pilot.pause()
        assert at_rest(queue)
        queue.call_next(lambda: None)
        assert not at_rest(queue)
