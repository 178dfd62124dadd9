"""The config's theme is in force from the first frame, without parsing the CSS a second time (issue 16).

Set once the app was mounted, the theme was a change of theme: the whole stylesheet parsed again and every
widget restyled before the first frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from app_harness import T0, make_app, seed, wait_for
from textual.css.stylesheet import Stylesheet


@pytest.mark.parametrize("configured", ["standardiste-light", "no-such-theme"])
async def test_the_configured_theme_is_there_from_the_start_and_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: str
) -> None:
    reparsed: list[int] = []
    reparse = Stylesheet.reparse

    def counting(self: Stylesheet, *args: Any, **kwargs: Any) -> Any:
        reparsed.append(1)
        return reparse(self, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "reparse", counting)
    seed(tmp_path / "workspace.db")
    config = f'agent = "alice"\nbell = false\ntheme = "{configured}"\n'
    app = make_app(tmp_path, config_text=config, clock=lambda: T0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.pause()
        expected = "standardiste-light" if configured == "standardiste-light" else "standardiste-dark"
        assert app.theme == expected
        assert app.has_class(f"-theme-{expected}")
        assert app.has_class("-light-mode") is (expected == "standardiste-light")
        # The list drawn in the theme's colours: light on the light theme, dark otherwise.
        assert (app.workspace.queue.styles.background.brightness > 0.5) is (expected == "standardiste-light")
        assert reparsed == []
        await pilot.press("colon", *"theme high-contrast", "enter")  # a change later still restyles
        await pilot.pause()
        assert app.theme == "standardiste-high-contrast"
        assert reparsed
