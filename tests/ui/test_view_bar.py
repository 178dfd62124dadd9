"""The view bar keeps the active view in sight at every width."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for
from rich.cells import cell_len
from rich.text import Text
from standardiste.console.ui.workspace_screen import ViewBar
from standardiste.widgets.view_tabs import Tab, fit_tabs

TITLES = ("All", "Phone", "Chats", "Email", "Callbacks", "Everyone", "Missed")


def _tabs(active: int) -> list[Tab]:
    return [Tab(str(i + 1), title, 10 * i, i == active) for i, title in enumerate(TITLES)]


@pytest.mark.parametrize("width", [20, 30, 45, 200])
@pytest.mark.parametrize("active", range(len(TITLES)))
def test_the_active_tab_always_fits(width: int, active: int) -> None:
    text = fit_tabs(_tabs(active), width)
    assert cell_len(text) <= width
    assert f"▶{active + 1} {TITLES[active]} {10 * active}" in text
    if width == 200:
        assert all(title in text for title in TITLES)


def test_a_window_says_more_views_are_off_to_the_side() -> None:
    text = fit_tabs(_tabs(6), 20)
    assert text.startswith("‹ ") and "▶7 Missed 60" in text and not text.endswith("›")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_view_7_shows_in_the_bar(tmp_path: Path, size: tuple[int, int]) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.press("7")
        await wait_for(lambda: app.workspace.current == "missed", pilot=pilot)
        await pilot.pause()  # one frame: the bar drawn for it
        bar = app.workspace.query_one(ViewBar)
        shown = Text(bar.render().plain)  # type: ignore[union-attr]
        shown.truncate(bar.content_region.width, overflow="ellipsis")  # what the terminal shows
        assert "▶7 Missed" in shown.plain


def test_titles_are_cut_farthest_from_the_active_view_first() -> None:
    full = fit_tabs(_tabs(0), 200)
    text = fit_tabs(_tabs(0), cell_len(full) - 1)
    assert "2 Phone 10" in text and "7:60" in text and "6 Everyone 50" in text
