"""Opening and closing the prompt repaints what changed, not the whole screen (issue 16: `/` under a flood).

Textual repaints the whole screen on every focus change, the whole list when it gains or loses focus, and
lays the screen out again when a `Static` is updated. Each was most of the 23 ms that `/` and esc cost at
160×45; these tests count what is drawn, so that one of them coming back fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from app_harness import T0, make_app, seed, wait_for
from standardiste.widgets.prompt_line import PromptLine
from standardiste.widgets.queue_list import QueueList
from textual._compositor import Compositor
from textual.screen import Screen


class Counts:
    def __init__(self) -> None:
        self.full_updates = 0
        self.layouts = 0
        self.rows: list[int] = []


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    seen = Counts()
    full_update = Compositor.render_full_update
    refresh_layout = Screen._refresh_layout
    render_line = QueueList.render_line

    def counting_full_update(self: Compositor, *args: Any, **kwargs: Any) -> Any:
        seen.full_updates += 1
        return full_update(self, *args, **kwargs)

    def counting_layout(self: Screen[Any], *args: Any, **kwargs: Any) -> Any:
        seen.layouts += 1
        return refresh_layout(self, *args, **kwargs)

    def counting_row(self: QueueList, y: int) -> Any:
        seen.rows.append(y)
        return render_line(self, y)

    monkeypatch.setattr(Compositor, "render_full_update", counting_full_update)
    monkeypatch.setattr(Screen, "_refresh_layout", counting_layout)
    monkeypatch.setattr(QueueList, "render_line", counting_row)
    return seen


async def test_slash_and_esc_repaint_only_the_prompt_the_hints_and_the_cursor_row(
    tmp_path: Path, counts: Counts
) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        queue = app.workspace.queue
        await pilot.press("j")  # the cursor on the second row: the row to repaint is the cursor's, not row 0
        await pilot.pause(0.5)  # its conversation shown in the detail pane (after 0.12 s), laid out once
        for key, focused in (("slash", PromptLine), ("escape", QueueList)):
            counts.full_updates = counts.layouts = 0
            counts.rows.clear()
            await pilot.press(key)
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen.focused, focused), key
            assert counts.full_updates == 0, f"{key}: the whole screen was redrawn"
            assert counts.layouts == 0, f"{key}: the screen was laid out again"
            assert set(counts.rows) == {queue.cursor - queue.scroll_offset.y}, f"{key}: rows {counts.rows}"


async def test_the_cursor_row_still_says_where_the_keys_go(tmp_path: Path) -> None:
    """The list's cursor is brighter while the list has the keys, dimmer while the prompt has them."""
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        queue = app.workspace.queue

        def cursor_background() -> object:
            strip = queue.render_line(queue.cursor - queue.scroll_offset.y)
            return next(iter(strip)).style.bgcolor  # type: ignore[union-attr]

        focused = cursor_background()
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen.focused, PromptLine)
        assert cursor_background() != focused
        await pilot.press("escape")
        await pilot.pause()
        assert cursor_background() == focused


async def test_a_letter_typed_in_the_prompt_lays_nothing_out(tmp_path: Path, counts: Counts) -> None:
    """Input sets its virtual size on every letter, the list on every new count: Textual's declarations
    of both laid the whole screen out again."""
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.press("slash")
        await pilot.pause(0.3)
        prompt = app.workspace.query_one(PromptLine)
        for letter in "john":  # the list filtered on every key (a small queue): 8 rows, then 1
            counts.layouts = 0
            await pilot.press(letter)
            await pilot.pause()
            assert counts.layouts == 0, letter
        assert prompt.value == "john"
        assert len(app.workspace.views["all"]) == 1
        prompt.insert_text_at_cursor(" " + "x" * 199)  # longer than the line: it scrolls within it
        await pilot.press("y")
        await pilot.pause()
        assert prompt.value.endswith("x" * 199 + "y")
        assert prompt.scroll_offset.x > 0
