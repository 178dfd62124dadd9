"""`:` completion shows every matching command, and tab cycles through them."""

from __future__ import annotations

from pathlib import Path

from app_harness import T0, make_app, seed, wait_for
from standardiste.widgets.prompt_line import PromptCandidates, PromptLine


async def test_the_candidates_show_and_tab_cycles_them(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        screen = app.workspace
        await pilot.press("colon", *"view")
        await pilot.pause()
        line = screen.query_one(PromptCandidates)
        assert line.display
        shown = line.render().plain  # type: ignore[union-attr]
        for name in ("view all", "view phone", "view callbacks", "view missed"):
            assert name in shown
        prompt = screen.query_one(PromptLine)
        options = prompt.candidates("view")
        await pilot.press("tab")
        assert prompt.value == options[0]
        await pilot.press("tab")
        assert prompt.value == options[1]
        await pilot.press("tab")
        assert prompt.value == options[2]
        await pilot.press("enter")
        await pilot.pause()
        assert screen.current == options[2].split()[1]
        assert not screen.query_one(PromptCandidates).display  # closed with the prompt
        # One match: tab completes it, as before, and no list shows.
        await pilot.press("colon", *"view ph")
        await pilot.pause()
        assert not line.display
        await pilot.press("tab", "enter")
        assert screen.current == "phone"
