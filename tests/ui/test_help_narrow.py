"""`?` on a narrow terminal keeps what each key does (Rich dropped the "Does" column at 40 columns)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for, wait_for_screen
from standardiste.console.ui.help_screen import HelpScreen


@pytest.mark.parametrize("size", [(40, 30), (60, 30), (100, 30)], ids=["40", "60", "100"])
async def test_help_says_what_keys_do_at_every_width(tmp_path: Path, size: tuple[int, int]) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.press("question_mark")
        await wait_for_screen(app, HelpScreen, pilot)
        await pilot.pause()  # one frame: its rows laid out at this width
        screen = app.export_screenshot().replace("&#160;", " ")
        # The first rows: what j and k do, and their binding ids (the remap names).
        for text in ("Down", "Up", "queue.down", "queue.up"):
            assert f">{text}" in screen or f" {text}" in screen, text
